"""maestro-test-adapters: run test suites and read their results into one model."""

from importlib.metadata import PackageNotFoundError, version

from maestro_test_adapters.models import (
    SCHEMA_ID,
    Attachment,
    Attempt,
    InvalidRunError,
    Status,
    TestResult,
    TestRun,
    TestSuite,
    Totals,
    json_schema,
)

try:
    __version__ = version("maestro-test-adapters")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "SCHEMA_ID",
    "Attachment",
    "Attempt",
    "InvalidRunError",
    "Status",
    "TestResult",
    "TestRun",
    "TestSuite",
    "Totals",
    "__version__",
    "json_schema",
]
