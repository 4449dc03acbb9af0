"""Allow `python -m maestro_test_result_aggregator`."""

from maestro_test_result_aggregator.cli import main

if __name__ == "__main__":  # not when a worker process imports the main module
    raise SystemExit(main())
