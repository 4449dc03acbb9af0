"""Allow `python -m maestro_test_adapters`."""

from maestro_test_adapters.cli import main

raise SystemExit(main())
