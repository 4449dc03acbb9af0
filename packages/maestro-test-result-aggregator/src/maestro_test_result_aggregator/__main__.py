"""Allow `python -m maestro_test_result_aggregator`."""

from maestro_test_result_aggregator.cli import main

raise SystemExit(main())
