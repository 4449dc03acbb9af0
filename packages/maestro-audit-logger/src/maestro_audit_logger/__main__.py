"""Allow ``python -m maestro_audit_logger``."""

from maestro_audit_logger.cli import main

raise SystemExit(main())
