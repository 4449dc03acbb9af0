"""maestro-test-adapters: run test suites and read their results into one model.

* :mod:`~maestro_test_adapters.models`: the normalised result model
  (:class:`TestRun` > :class:`TestSuite` > :class:`TestResult`) and its JSON.
* :mod:`~maestro_test_adapters.readers`: :func:`read_results` and
  :func:`detect_format` for JUnit XML, TRX, Jest, Playwright, pytest-json-report,
  Cucumber JSON and messages; :func:`iter_results` streams JUnit XML.
* :mod:`~maestro_test_adapters.exporters`: :func:`write_junit_xml`.
* :mod:`~maestro_test_adapters.adapters`: run a suite in its framework.

>>> from maestro_test_adapters import Status, TestResult, TestRun, TestSuite, to_junit_xml
>>> run = TestRun("demo", suites=[TestSuite("s", [TestResult("s::t", "t", Status.PASSED)])])
>>> run.totals.ok, "<testcase" in to_junit_xml(run)
(True, True)
"""

from importlib.metadata import PackageNotFoundError, version

from maestro_test_adapters.adapters import (
    Adapter,
    AdapterError,
    CucumberAdapter,
    JestAdapter,
    PlaywrightAdapter,
    PytestAdapter,
    SeleniumAdapter,
    ToolNotFoundError,
)
from maestro_test_adapters.exporters import to_junit_xml, write_junit_xml
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
from maestro_test_adapters.readers import (
    ReadError,
    ResultFileError,
    ResultFormat,
    UnknownFormatError,
    detect_format,
    get_format,
    iter_results,
    read_results,
    register_format,
    supported_formats,
)

try:
    __version__ = version("maestro-test-adapters")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "SCHEMA_ID",
    "Adapter",
    "AdapterError",
    "Attachment",
    "Attempt",
    "CucumberAdapter",
    "InvalidRunError",
    "JestAdapter",
    "PlaywrightAdapter",
    "PytestAdapter",
    "ReadError",
    "ResultFileError",
    "ResultFormat",
    "SeleniumAdapter",
    "Status",
    "TestResult",
    "TestRun",
    "TestSuite",
    "ToolNotFoundError",
    "Totals",
    "UnknownFormatError",
    "__version__",
    "detect_format",
    "get_format",
    "iter_results",
    "json_schema",
    "read_results",
    "register_format",
    "supported_formats",
    "to_junit_xml",
    "write_junit_xml",
]
