"""maestro-test-result-aggregator: one SQLite history of every test run.

Ingest result files (every format maestro-test-adapters reads) or
:class:`~maestro_test_adapters.models.TestRun` objects into a
:class:`ResultStore`, then ask it for flaky tests, trends, diffs between runs,
duration regressions, failure ages, and reports (HTML, Markdown, JSON, JUnit
XML, CSV).

>>> from maestro_test_result_aggregator import ResultStore
>>> with ResultStore(":memory:") as store:
...     store.runs()
[]
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("maestro-test-result-aggregator")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

from maestro_test_result_aggregator.errors import (
    AggregatorError,
    IngestError,
    MissingExtraError,
    RunNotFoundError,
    StoreError,
    StoreVersionError,
)
from maestro_test_result_aggregator.records import (
    DurationRegression,
    FailureAge,
    FailureGroup,
    FlakyTest,
    GroupStats,
    IngestedRun,
    IngestFailure,
    IngestReport,
    RunDiff,
    RunSummary,
    TestChange,
    TestOutcome,
    TestStats,
    TrendPoint,
)
from maestro_test_result_aggregator.reports import ReportData
from maestro_test_result_aggregator.store import ResultStore, RunRef
from maestro_test_result_aggregator.tags import RunTags

__all__ = [
    "AggregatorError",
    "DurationRegression",
    "FailureAge",
    "FailureGroup",
    "FlakyTest",
    "GroupStats",
    "IngestError",
    "IngestFailure",
    "IngestReport",
    "IngestedRun",
    "MissingExtraError",
    "ReportData",
    "ResultStore",
    "RunDiff",
    "RunNotFoundError",
    "RunRef",
    "RunSummary",
    "RunTags",
    "StoreError",
    "StoreVersionError",
    "TestChange",
    "TestOutcome",
    "TestStats",
    "TrendPoint",
    "__version__",
]
