"""pytest plugin: the normalised JSON report, reruns, attachments and browser fixtures.

Options:

* ``--maestro-report=PATH`` writes the run as normalised JSON
  (:meth:`maestro_test_adapters.TestRun.to_json`) when the session ends,
  atomically (a reader never sees half a file).
* ``--maestro-reruns=N`` runs a failing test up to ``N`` more times; the
  earlier executions are kept as attempts and a test that passes later is
  ``flaky``. (Reruns made by pytest-rerunfailures are recorded the same way.)
* ``--maestro-artifacts=DIR`` is where the browser fixtures save screenshots,
  page HTML and traces of failing tests (default ``maestro-artifacts``).
* ``--maestro-framework=NAME`` is the framework name written in the report.

Fixtures: ``selenium_driver``, ``playwright_browser`` (session scope),
``playwright_page``, ``maestro_attach`` (attach any file to the current
test) and ``maestro_artifacts_dir``.

Load it with ``-p maestro_test_adapters.pytest_plugin`` (or through the
``pytest11`` entry point once the package is installed).
"""

from __future__ import annotations

import hashlib
import os
import platform
import re
import time
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Protocol, TextIO, cast

import pytest
from _pytest.runner import runtestprotocol

from maestro_test_adapters import browser
from maestro_test_adapters._files import write_atomically
from maestro_test_adapters._journal import journal_path
from maestro_test_adapters.models import (
    Attachment,
    Attempt,
    Status,
    TestResult,
    TestRun,
    TestSuite,
)
from maestro_test_adapters.readers._base import first_line

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from selenium.webdriver.remote.webdriver import WebDriver


class Attach(Protocol):
    """The ``maestro_attach`` fixture: attach a file to the current test's result."""

    def __call__(
        self,
        path: str | os.PathLike[str],
        media_type: str = "application/octet-stream",
        name: str | None = None,
    ) -> Attachment:
        """Record ``path`` as an attachment of the running test and return it."""
        ...


_RECORDER = pytest.StashKey["_Recorder"]()
_PHASES = pytest.StashKey[dict[str, pytest.TestReport]]()
_ATTEMPT = pytest.StashKey[int]()


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``--maestro-*`` options."""
    group = parser.getgroup("maestro", "maestro-test-adapters")
    group.addoption(
        "--maestro-report",
        metavar="PATH",
        help="write the run as normalised maestro JSON to PATH",
    )
    group.addoption(
        "--maestro-reruns",
        type=int,
        default=0,
        metavar="N",
        help="run a failing test up to N more times, keeping each attempt",
    )
    group.addoption(
        "--maestro-artifacts",
        metavar="DIR",
        help="folder for screenshots, page HTML and traces (default: maestro-artifacts)",
    )
    group.addoption(
        "--maestro-framework",
        default="pytest",
        metavar="NAME",
        help="framework name written in the report (default: pytest)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Start recording when a report was asked for."""
    if config.getoption("maestro_reruns") < 0:
        raise pytest.UsageError("--maestro-reruns must be 0 or more")
    artifacts = config.getoption("maestro_artifacts")
    if artifacts:
        # Found out now, not as a teardown error of every failing browser test.
        path = Path(artifacts).absolute()
        existing = next(folder for folder in (path, *path.parents) if folder.exists())
        if not existing.is_dir():
            raise pytest.UsageError(f"--maestro-artifacts {artifacts}: {existing} is not a folder")
    report = config.getoption("maestro_report")
    # Under pytest-xdist the controller receives every worker's reports and
    # writes the one report; workers must not write it too.
    if report and not hasattr(config, "workerinput"):
        path = Path(report)
        # Found out now, not as an internal error once every test has run.
        if path.is_dir():
            raise pytest.UsageError(f"--maestro-report {report} is a directory: name a file")
        if path.parent.exists() and not path.parent.is_dir():
            raise pytest.UsageError(f"--maestro-report {report}: {path.parent} is not a folder")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(
                f"--maestro-report {report}: cannot create its folder: {exc.strerror or exc}"
            ) from None
        recorder = _Recorder(path, config.getoption("maestro_framework"), config.rootpath)
        config.stash[_RECORDER] = recorder
        config.pluginmanager.register(recorder, "maestro-test-adapters-recorder")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    """Run a test again while it fails, up to ``--maestro-reruns`` times.

    Earlier attempts are shown only to the recorder, so the terminal, JUnit
    XML and the exit status see the final attempt alone.
    """
    reruns: int = item.config.getoption("maestro_reruns")
    if not reruns:
        return None
    recorder = item.config.stash.get(_RECORDER, None)
    item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
    for attempt in range(reruns + 1):
        final = attempt == reruns
        # Before the last attempt only the test's own fixtures are torn down,
        # so the next attempt reuses module and session fixtures.
        keep = nextitem if final else cast(pytest.Item, item.parent)
        # Captured output accumulates on the item: each attempt starts afresh.
        item._report_sections.clear()
        reports = runtestprotocol(item, log=False, nextitem=keep)
        if not final and not any(report.failed for report in reports):
            # Passed early: finish the teardown the next test needs. Calling
            # the teardown hooks a second time would confuse other plugins.
            rest = _teardown_up_to(item, nextitem)
            if rest is not None:
                reports.append(rest)
            final = True
        if final:
            for report in reports:
                item.ihook.pytest_runtest_logreport(report=report)
            break
        if recorder is not None:
            for report in reports:
                recorder.add(report)
    item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)
    return True


def _teardown_up_to(item: pytest.Item, nextitem: pytest.Item | None) -> pytest.TestReport | None:
    """Tear down the fixtures ``nextitem`` does not share; a report only when that fails."""
    call = pytest.CallInfo.from_call(
        lambda: item.session._setupstate.teardown_exact(nextitem), when="teardown"
    )
    if call.excinfo is None:
        return None
    report: pytest.TestReport = item.ihook.pytest_runtest_makereport(item=item, call=call)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the item, for the fixtures' teardown."""
    report = yield
    if report.when == "setup":
        item.stash[_PHASES] = {}
        item.stash[_ATTEMPT] = item.stash.get(_ATTEMPT, -1) + 1
    item.stash.setdefault(_PHASES, {})[report.when] = report
    return report


# -- fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def maestro_artifacts_dir(pytestconfig: pytest.Config) -> Path:
    """Folder where failure artifacts are saved (``--maestro-artifacts``)."""
    configured = pytestconfig.getoption("maestro_artifacts")
    return Path(configured or pytestconfig.invocation_params.dir / "maestro-artifacts")


@pytest.fixture
def maestro_attach(request: pytest.FixtureRequest) -> Attach:
    """Attach a file to the current test's result in the maestro report.

    Call it as ``maestro_attach(path, media_type="text/plain", name=None)``.
    """
    node = request.node

    def attach(
        path: str | os.PathLike[str],
        media_type: str = "application/octet-stream",
        name: str | None = None,
    ) -> Attachment:
        attachment = Attachment(os.fspath(path), media_type, name)
        recorder = node.config.stash.get(_RECORDER, None)
        if recorder is not None:
            recorder.attach(node.nodeid, attachment)
        return attachment

    return attach


@pytest.fixture
def selenium_driver(
    request: pytest.FixtureRequest, maestro_artifacts_dir: Path, maestro_attach: Attach
) -> Iterator[WebDriver]:
    """A Selenium WebDriver on headless Chromium (or the configured Grid).

    When the test fails, a screenshot and the page HTML are saved and attached.
    """
    with browser.selenium_driver() as driver:
        yield driver
        if _failed(request.node):
            for attachment in browser.save_selenium_artifacts(
                driver, maestro_artifacts_dir, _artifact_name(request.node)
            ):
                maestro_attach(attachment.path, attachment.media_type, attachment.name)


@pytest.fixture(scope="session")
def playwright_browser() -> Iterator[Browser]:
    """A Playwright Chromium browser shared by the session (or a remote one)."""
    with browser.playwright_browser() as launched:
        yield launched


@pytest.fixture
def playwright_page(
    request: pytest.FixtureRequest,
    playwright_browser: Browser,
    maestro_artifacts_dir: Path,
    maestro_attach: Attach,
) -> Iterator[Page]:
    """A page in a fresh context of ``playwright_browser``, with tracing on.

    When the test fails, a screenshot, the page HTML and the trace are saved
    and attached.
    """
    with browser.playwright_page(playwright_browser) as page:
        yield page
        if _failed(request.node):
            for attachment in browser.save_playwright_artifacts(
                page, maestro_artifacts_dir, _artifact_name(request.node)
            ):
                maestro_attach(attachment.path, attachment.media_type, attachment.name)


def _failed(item: pytest.Item) -> bool:
    return any(report.failed for report in item.stash.get(_PHASES, {}).values())


def _artifact_name(item: pytest.Item) -> str:
    name = re.sub(r"[^\w.-]+", "_", item.nodeid).strip("_")
    if len(name.encode()) > _ARTIFACT_NAME_LIMIT:
        # File names stop at 255 bytes, and long parameter ids pass that:
        # the files then could not be saved. Shortened, a hash keeps it unique.
        digest = hashlib.sha256(item.nodeid.encode()).hexdigest()[:12]
        name = name.encode()[: _ARTIFACT_NAME_LIMIT - 13].decode(errors="ignore") + "-" + digest
    attempt = item.stash.get(_ATTEMPT, 0)
    return f"{name}-attempt{attempt + 1}" if attempt else name


# Bytes of an artifact's base name: room for "-attemptN" and ".trace.zip" within 255.
_ARTIFACT_NAME_LIMIT = 200


# -- recording ---------------------------------------------------------------------


@dataclass
class _AttemptRecord:
    status: Status = Status.PASSED
    duration: float = 0.0
    message: str | None = None
    traceback: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


@dataclass
class _TestRecord:
    result: TestResult
    attempts: list[_AttemptRecord] = field(default_factory=list)


class _Recorder:
    """Collects reports into test results and writes the normalised run (a plugin object)."""

    def __init__(self, path: Path, framework: str, rootpath: Path) -> None:
        self.path = path
        self.framework = framework
        self.rootpath = rootpath
        self.started_at = datetime.now(UTC)
        self.start = time.perf_counter()
        self.tests: dict[str, _TestRecord] = {}
        self.pending: dict[str, list[Attachment]] = {}
        self.journal: TextIO | None = None
        self.finished: set[str] = set()  # node ids whose every phase was reported

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Record a module that failed to import as an ``error`` result."""
        if report.failed:
            self.collection_error(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record one phase (setup, call, teardown) of a test."""
        self.add(report)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        """Journal the test as soon as all its attempts are over."""
        self.finished.add(nodeid)
        record = self.tests.get(nodeid)
        if record is not None:
            self._journal(self._finish(record))

    def pytest_sessionfinish(self, exitstatus: int) -> None:
        """Write the report."""
        self.write(int(exitstatus))

    def attach(self, nodeid: str, attachment: Attachment) -> None:
        self.pending.setdefault(nodeid, []).append(attachment)

    def collection_error(self, report: pytest.CollectReport) -> None:
        test_id = report.nodeid or "<collection>"
        text = report.longreprtext
        record = self.tests[test_id] = _TestRecord(
            TestResult(test_id, test_id, Status.ERROR, file=report.nodeid.split("::")[0] or None),
            [
                _AttemptRecord(
                    Status.ERROR,
                    message=first_line(text) or "collection failed",
                    traceback=text,
                )
            ],
        )
        self._journal(self._finish(record))

    def add(self, report: pytest.TestReport) -> None:
        record = self.tests.get(report.nodeid)
        if record is None:
            record = self.tests[report.nodeid] = _TestRecord(self._result(report))
        if report.when == "setup" or not record.attempts:
            record.attempts.append(_AttemptRecord())
        attempt = record.attempts[-1]
        attempt.duration += report.duration
        _apply(attempt, report)
        if report.user_properties:
            record.result.properties = tuple((str(k), str(v)) for k, v in report.user_properties)
        if report.when == "teardown" or _is_rerun(report):
            # The attempt is over: files attached during it belong to it.
            attempt.attachments.extend(self.pending.pop(report.nodeid, []))

    def _result(self, report: pytest.TestReport) -> TestResult:
        path, lineno, _ = report.location
        parts = report.nodeid.split("::")
        return TestResult(
            test_id=report.nodeid,
            name=parts[-1],
            status=Status.PASSED,
            classname=".".join(parts[1:-1]) or None,
            file=path,
            line=None if lineno is None else lineno + 1,
        )

    def _finish(self, record: _TestRecord) -> TestResult:
        """Give the result its final status and earlier attempts (safe to repeat)."""
        result = record.result
        *earlier, last = record.attempts or [_AttemptRecord(Status.ERROR)]
        last.attachments.extend(self.pending.pop(result.test_id, []))
        _copy(last, result)
        result.attempts = tuple(_copy(attempt, Attempt(attempt.status)) for attempt in earlier)
        return result

    def _journal(self, result: TestResult) -> None:
        if self.journal is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.journal = journal_path(self.path).open("w", encoding="utf-8")
        file = _suite_of(result)
        entry = TestRun(self.framework, suites=[TestSuite(file, [result], file=file)])
        self.journal.write(entry.to_json() + "\n")
        self.journal.flush()

    def build(self, exitstatus: int = 0) -> TestRun:
        broken = _BROKEN_EXIT_CODES.get(exitstatus)
        suites: dict[str, TestSuite] = {}
        for record in self.tests.values():
            result = self._finish(record)
            if broken and result.test_id not in self.finished and result.status is Status.PASSED:
                # Stopped in the middle (Ctrl-C, KeyboardInterrupt): its setup
                # passed, but it did not.
                result.status = Status.ERROR
                result.message = f"did not finish: the session was {broken}"
            file = _suite_of(result)
            suite = suites.setdefault(file, TestSuite(file, file=file))
            suite.tests.append(result)
            suite.duration += result.duration + sum(a.duration for a in result.attempts)
        run = TestRun(
            framework=self.framework,
            started_at=self.started_at,
            duration=time.perf_counter() - self.start,
            environment={
                "python": platform.python_version(),
                "pytest": pytest.__version__,
                "platform": platform.platform(),
                "rootdir": str(self.rootpath),
            },
            suites=list(suites.values()),
        )
        if broken and run.totals.ok:  # the tests that ran are green; the session is not
            message = f"pytest exited with code {exitstatus} ({broken})"
            run.suites.append(
                TestSuite(
                    "pytest",
                    [TestResult("pytest::<run>", "pytest run", Status.ERROR, message=message)],
                )
            )
        return run

    def write(self, exitstatus: int = 0) -> None:
        text = self.build(exitstatus).to_json(indent=1)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(self.path, [text])
        if self.journal is not None:  # the report has everything now
            self.journal.close()
            journal_path(self.path).unlink(missing_ok=True)


#: pytest's exit codes for a session stopped while running its tests. (A
#: usage error stops it before any test: the adapters quote pytest's words.)
_BROKEN_EXIT_CODES: Final[dict[int, str]] = {
    pytest.ExitCode.INTERRUPTED: "interrupted",
    pytest.ExitCode.INTERNAL_ERROR: "stopped by an internal error",
}


def _suite_of(result: TestResult) -> str:
    return result.file or result.test_id.split("::")[0]


def _apply(attempt: _AttemptRecord, report: pytest.TestReport) -> None:
    """Fold one phase report into the attempt's status and details."""
    attempt.stdout = report.capstdout or attempt.stdout
    attempt.stderr = report.capstderr or attempt.stderr
    xfail_reason = getattr(report, "wasxfail", None)
    if report.outcome == "passed":
        if report.when == "call" and xfail_reason is not None:
            attempt.status = Status.XPASSED
            attempt.message = xfail_reason or None
        return
    if report.outcome == "skipped":
        if xfail_reason is not None:
            attempt.status = Status.XFAILED
            attempt.message = xfail_reason or None
        else:
            attempt.status = Status.SKIPPED
            attempt.message = _skip_reason(report)
        return
    # failed (or pytest-rerunfailures' "rerun", a failure that will be retried)
    text = report.longreprtext
    message = _crash_message(report) or first_line(text)
    if report.when == "call":
        attempt.status = Status.FAILED
    elif report.when == "setup":
        attempt.status = Status.ERROR
        message = f"error in setup: {message}"
    else:
        if attempt.status is Status.PASSED:
            attempt.status = Status.ERROR
        message = f"error in teardown: {message}"
    if attempt.message is None or report.when != "teardown":
        attempt.message = message
    attempt.traceback = text if attempt.traceback is None else f"{attempt.traceback}\n\n{text}"


def _copy(source: _AttemptRecord, target: Any) -> Any:
    for name in ("status", "duration", "message", "traceback", "stdout", "stderr"):
        setattr(target, name, getattr(source, name))
    target.attachments = tuple(source.attachments)
    return target


def _is_rerun(report: pytest.TestReport) -> bool:
    """pytest-rerunfailures reports a failure that will be retried as outcome ``rerun``."""
    outcome: str = report.outcome
    return outcome == "rerun"


def _crash_message(report: pytest.TestReport) -> str | None:
    crash = getattr(report.longrepr, "reprcrash", None)
    message = getattr(crash, "message", None)
    return message if isinstance(message, str) else None


def _skip_reason(report: pytest.TestReport) -> str | None:
    if isinstance(report.longrepr, tuple):
        reason = str(report.longrepr[2])
        return reason.removeprefix("Skipped: ") or None
    return None
