"""JUnit XML in all its dialects, read streaming.

Handles Ant and Maven Surefire (``flakyFailure``/``flakyError``/
``rerunFailure``/``rerunError`` become attempts), pytest xunit1/xunit2
(``file``/``line`` attributes, ``pytest.xfail`` skips become ``xfailed``),
jest-junit, go-junit-report, PHPUnit and Jenkins nested suites, mocha,
Playwright, xunit.net and Bazel, with a root ``<testsuites>`` or
``<testsuite>``. Only the test cases count: summary attributes such as
``tests=`` are ignored because real files get them wrong.

A test case repeated right after itself in the same suite with the same
``file`` and ``line`` (how pytest reruns are recorded) becomes one test whose
earlier executions are attempts, provided one of the executions failed (only
failures are retried) and the properties of each begin with those of the
first (so the same Playwright test in two projects stays two tests). If any
execution passed the test passed, and is flaky.
Same-named neighbours without a source line are kept apart: TestNG data
providers and mocha loops produce those, and their own tools count each.
"""

from __future__ import annotations

import gc
import mimetypes
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from maestro_test_adapters.models import Attachment, Attempt, Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers._base import (
    ResultFileError,
    SuiteResult,
    clean_text,
    first_tag,
    parse_seconds,
    parse_timestamp,
)
from maestro_test_adapters.readers._xml import TextCapture, feed

_PASSED: Final = Status.PASSED
_SKIPPED: Final = Status.SKIPPED
# Bound on the string and duration caches. Reset when full, so a streamer's
# memory stays flat however many distinct names a file has.
_CACHE_LIMIT: Final = 4096
# Only short texts are shared: names and messages repeat, long outputs rarely do.
_SHARED_LENGTH: Final = 200
_RANK: Final = {Status.SKIPPED: 1, Status.XFAILED: 1, Status.FAILED: 2, Status.ERROR: 3}
_OUTCOMES: Final = {"failure": Status.FAILED, "error": Status.ERROR, "skipped": Status.SKIPPED}
_RETRIES: Final = {
    "flakyFailure": Status.FAILED,
    "flakyError": Status.ERROR,
    "rerunFailure": Status.FAILED,
    "rerunError": Status.ERROR,
}
_CAPTURED: Final = frozenset({"system-out", "system-err", "stackTrace"})
_NOT_RUN: Final = frozenset({"notrun", "skipped", "disabled", "ignored"})
_ATTACHMENT_MARK: Final = re.compile(r"\[\[ATTACHMENT\|([^\]\r\n]+)\]\]")
_DATA_URL: Final = re.compile(r"data:([^;,]*)(;base64)?,(.*)", re.DOTALL)


def sniff(head: str) -> bool:
    """True when the first element of ``head`` is ``<testsuites>`` or ``<testsuite>``."""
    return first_tag(head) in ("testsuites", "testsuite")


class _Suite:
    """Parsing state of one open ``<testsuite>``."""

    __slots__ = ("model", "scope", "pending", "container", "timed", "seconds")

    def __init__(self, model: TestSuite, *, timed: bool) -> None:
        self.model = model
        self.scope = model.name  # test ids start with it unless the case names a file
        self.pending: list[TestResult] = []  # executions of the same test, in order
        self.container = False
        # An untimed suite (mocha, hand-written files) lasts as long as its tests.
        self.timed = timed
        self.seconds = 0.0


class _JUnitTarget:
    """Expat callback target: builds results as elements close; keeps no tree.

    ``start`` and ``end`` run once per element, so the ``<testcase>`` work is
    inlined there (one Python frame per callback); every other element goes
    through the ``_start_other``/``_end_other`` dispatchers.
    """

    __slots__ = (
        "path",
        "run",
        "collect",
        "out",
        "stack",
        "suite",
        "case",
        "case_rank",
        "case_props",
        "attempts",
        "attempt",
        "text",
        "property_name",
        "root_seen",
        "shared",
        "durations",
    )

    def __init__(self, path: Path, *, collect: bool) -> None:
        self.path = path
        self.run = TestRun("junit")
        # collect: results go straight into their suite's tests (read);
        # otherwise into ``out`` as (suite, result) pairs for the streamer.
        self.collect = collect
        self.out: list[SuiteResult] = []
        self.stack: list[_Suite] = []
        self.suite: _Suite | None = None  # innermost open suite
        self.case: TestResult | None = None
        self.case_rank = 0
        self.case_props: list[tuple[str, str]] | None = None
        self.attempts: list[Attempt] | None = None
        self.attempt: Attempt | None = None
        self.text = TextCapture()
        self.property_name: str | None = None
        self.root_seen = False
        # One string object per distinct class, file, name or message, not one
        # per test (large files repeat them thousands of times); and one
        # parse per distinct time text.
        self.shared: dict[str, str] = {}
        self.durations: dict[str, float] = {}

    # -- expat callbacks ----------------------------------------------------------

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        if tag != "testcase":
            self._start_other(tag, attrib)
            return
        if self.case is not None:
            raise ResultFileError(self.path, "<testcase> inside another <testcase>")
        suite = self.suite
        if suite is None:  # <testcase> straight under <testsuites>
            suite = self._start_suite({"name": ""})
        shared = self.shared
        if len(shared) > _CACHE_LIMIT:
            shared.clear()
        get = attrib.get
        name = get("name", "")
        if len(name) < _SHARED_LENGTH:
            name = shared.setdefault(name, name)
        classname = get("classname") or None
        if classname is not None:
            classname = shared.setdefault(classname, classname)
        file = get("file") or None
        if file is None:
            scope = suite.scope
        else:
            scope = file = shared.setdefault(file, file)
        if classname is not None and classname != scope:
            test_id = f"{scope}::{classname}::{name}" if scope else f"{classname}::{name}"
        else:
            test_id = f"{scope}::{name}" if scope else name
        time = get("time")
        if time:
            durations = self.durations
            duration = durations.get(time)
            if duration is None:  # first time this exact text is seen
                if len(durations) > _CACHE_LIMIT:
                    durations.clear()
                duration = durations[time] = parse_seconds(time)
        else:
            duration = 0.0
        line = get("line")
        case = self.case = TestResult(
            test_id,
            name,
            _PASSED,
            duration,
            classname,
            file,
            int(line) if line is not None and line.isdecimal() else None,
        )
        self.case_rank = 0
        status = get("status")
        if status is not None and status.lower() in _NOT_RUN:
            case.status = _SKIPPED
            self.case_rank = 1

    def end(self, tag: str) -> None:
        if tag != "testcase":
            self._end_other(tag)
            return
        case = self.case
        suite = self.suite
        if case is None or suite is None:  # pragma: no cover - start refuses nesting
            return
        self.case = None
        if (
            case.line is not None  # may be followed by its reruns
            or suite.pending
            or self.attempts is not None
            or self.case_props is not None
            or case.stdout is not None
        ):
            self._end_case(suite, case)
        else:  # the common case, inlined: what _emit does
            suite.seconds += case.duration
            if self.collect:
                suite.model.tests.append(case)
            else:
                self.out.append((suite.model, case))

    def _start_other(self, tag: str, attrib: dict[str, str]) -> None:
        if tag in _CAPTURED:
            self.text.push()
        elif self.case is not None:
            self._start_in_case(tag, attrib)
        elif tag == "testsuite":
            self._start_suite(attrib)
        elif tag == "property":
            self._start_property(attrib)
        elif not self.root_seen:
            if tag != "testsuites":
                raise ResultFileError(
                    self.path,
                    f"root element <{tag}> is not JUnit XML (<testsuites> or <testsuite>)",
                )
            self.root_seen = True
            self.run.duration = parse_seconds(attrib.get("time"))
            self.run.started_at = parse_timestamp(attrib.get("timestamp"))

    def _end_other(self, tag: str) -> None:
        if tag in _CAPTURED:
            self._end_output(tag, self.text.pop())
        elif tag == "property":
            self._end_property()
        elif self.case is not None:
            self._end_in_case(tag)
        elif tag == "testsuite":
            self._end_suite()

    def close(self) -> TestRun:
        if not self.root_seen:
            raise ResultFileError(self.path, "no <testsuites> or <testsuite> element")
        for suite in self.stack:  # the suite opened for cases straight under <testsuites>
            self._flush(suite)
            if not suite.timed:
                suite.model.duration = suite.seconds
        if not self.run.duration:  # go-junit-report and others leave the root untimed
            self.run.duration = sum(suite.duration for suite in self.run.suites)
        return self.run

    # -- suites -------------------------------------------------------------------

    def _start_suite(self, attrib: dict[str, str]) -> _Suite:
        if not self.root_seen:
            self.root_seen = True
            self.run.duration = parse_seconds(attrib.get("time"))
            self.run.started_at = parse_timestamp(attrib.get("timestamp"))
        parent = self.suite
        if parent is not None:
            parent.container = True
            self._flush(parent)
        suite = _Suite(
            TestSuite(
                name=attrib.get("name", ""),
                file=attrib.get("file") or attrib.get("filepath"),
                duration=parse_seconds(attrib.get("time")),
                started_at=parse_timestamp(attrib.get("timestamp")),
            ),
            timed=bool(attrib.get("time")),
        )
        self.stack.append(suite)
        self.suite = suite
        if self.collect:  # a streamer keeps no suites, so memory stays flat
            self.run.suites.append(suite.model)
        return suite

    def _end_suite(self) -> None:
        stack = self.stack
        suite = stack.pop()
        self.suite = stack[-1] if stack else None
        self._flush(suite)
        if not suite.timed:
            suite.model.duration = suite.seconds
        if self.collect and suite.container and not suite.model.tests:
            # A pure grouping level (PHPUnit, Jenkins): its tests live in the
            # nested suites, so it would only add an empty suite.
            self.run.suites.remove(suite.model)

    # -- test cases ---------------------------------------------------------------

    def _start_in_case(self, tag: str, attrib: dict[str, str]) -> None:
        case = self.case
        assert case is not None
        outcome = _OUTCOMES.get(tag)
        if outcome is not None:
            if outcome is Status.SKIPPED and attrib.get("type") == "pytest.xfail":
                outcome = Status.XFAILED
            rank = _RANK[outcome]
            if rank > self.case_rank:
                self.case_rank = rank
                case.status = outcome
                case.message = self._short(clean_text(attrib.get("message")))
                case.traceback = None
            self.text.push()
        elif tag in _RETRIES:
            self.attempt = Attempt(
                _RETRIES[tag],
                parse_seconds(attrib.get("time")),
                message=self._short(clean_text(attrib.get("message"))),
            )
            if self.attempts is None:
                self.attempts = []
            self.attempts.append(self.attempt)
            self.text.push()
        elif tag == "property":
            self._start_property(attrib)

    def _end_in_case(self, tag: str) -> None:
        case = self.case
        assert case is not None
        outcome = _OUTCOMES.get(tag)
        if outcome is not None:
            text = clean_text(self.text.pop().strip())
            if case.status is outcome or (
                outcome is Status.SKIPPED and case.status is Status.XFAILED
            ):
                if outcome is not Status.SKIPPED:
                    case.traceback = text
                if case.message is None and text:
                    first_line = text.lstrip().split("\n", 1)[0].strip()
                    case.message = self._short(first_line or None)
        elif tag in _RETRIES:
            text = clean_text(self.text.pop().strip())
            if self.attempt is not None and self.attempt.traceback is None:
                self.attempt.traceback = text
            self.attempt = None

    def _short(self, text: str | None) -> str | None:
        """``text``, as the shared copy when it is short (messages repeat)."""
        if text is None or len(text) >= _SHARED_LENGTH:
            return text
        return self.shared.setdefault(text, text)

    def _end_output(self, tag: str, text: str) -> None:
        if tag == "stackTrace":
            if self.attempt is not None:
                self.attempt.traceback = clean_text(text.strip())
            return
        target: TestResult | Attempt | TestSuite | None = self.attempt or self.case
        if target is None:
            if self.suite is None:
                return
            target = self.suite.model
        value = clean_text(text.strip("\r\n"))
        if tag == "system-out":
            target.stdout = value
        else:
            target.stderr = value

    def _end_case(self, suite: _Suite, case: TestResult) -> None:
        """A test case that may be a rerun, or carries attempts or attachments."""
        if self.attempts:
            case.attempts = tuple(self.attempts)
        self.attempts = None
        if self.case_props:
            case.properties = tuple(self.case_props)
            case.attachments = _attachments(case)
        elif case.stdout and "[[ATTACHMENT|" in case.stdout:
            case.attachments = _attachments(case)
        self.case_props = None
        pending = suite.pending
        if pending:
            first = pending[0]
            if (
                case.line is not None
                and first.line == case.line
                and first.name == case.name
                and first.classname == case.classname
                and first.file == case.file
                and (case.status.is_failure or any(p.status.is_failure for p in pending))
                and case.properties[: len(first.properties)] == first.properties
            ):
                # A retry: same source location, and only failures are rerun.
                # Its properties start with the first execution's (pytest adds
                # to them on a rerun); other ones make it another test at the
                # same place, e.g. the same Playwright test in another project.
                # Same-named neighbours without a location are parametrised
                # (TestNG data providers, mocha loops): distinct tests.
                pending.append(case)
                return
            self._flush(suite)
        if case.line is None:
            self._emit(suite, case)
        else:  # may be followed by its retries
            pending.append(case)

    def _emit(self, suite: _Suite, result: TestResult) -> None:
        suite.seconds += result.duration
        if self.collect:
            suite.model.tests.append(result)
        else:
            self.out.append((suite.model, result))

    def _flush(self, suite: _Suite) -> None:
        pending = suite.pending
        if not pending:
            return
        result = pending[0] if len(pending) == 1 else _merge_retries(pending)
        pending.clear()
        self._emit(suite, result)

    # -- properties ---------------------------------------------------------------

    def _start_property(self, attrib: dict[str, str]) -> None:
        self.property_name = attrib.get("name", "")
        value = attrib.get("value")
        self.text.push(value)

    def _end_property(self) -> None:
        value = self.text.pop().strip()
        name = self.property_name or ""
        self.property_name = None
        if self.case is not None:
            if self.case_props is None:
                self.case_props = []
            self.case_props.append((name, value))
        elif self.suite is not None:
            suite = self.suite.model
            suite.properties = (*suite.properties, (name, value))
        else:
            self.run.environment[name] = value


def _merge_retries(executions: list[TestResult]) -> TestResult:
    """One test from consecutive executions: a passing one wins, else the last."""
    final_index = len(executions) - 1
    for index in range(final_index, -1, -1):
        if executions[index].status is _PASSED:
            final_index = index
            break
    final = executions[final_index]
    attempts: list[Attempt] = []
    for index, execution in enumerate(executions):
        if index != final_index:
            attempts.extend(execution.attempts)
            attempts.append(
                Attempt(
                    execution.status,
                    execution.duration,
                    execution.message,
                    execution.traceback,
                    execution.stdout,
                    execution.stderr,
                    execution.attachments,
                )
            )
    final.attempts = (*attempts, *final.attempts)
    return final


def _attachments(case: TestResult) -> tuple[Attachment, ...]:
    """Attachments declared the common ways: ``attachment`` properties and
    ``[[ATTACHMENT|path]]`` lines in system-out (Jenkins, Playwright, Testmo)."""
    found: list[Attachment] = []
    for name, value in case.properties:
        if name.startswith("attachment") and (name == "attachment" or name[10:].isdigit()):
            found.append(_attachment(value))
    if case.stdout and "[[ATTACHMENT|" in case.stdout:
        found.extend(_attachment(path) for path in _ATTACHMENT_MARK.findall(case.stdout))
    return tuple(found)


def _attachment(reference: str) -> Attachment:
    reference = reference.strip()
    data_url = _DATA_URL.fullmatch(reference)
    if data_url:
        media_type = data_url.group(1) or "text/plain"
        return Attachment("", media_type, None, data_url.group(3))
    media_type = mimetypes.guess_type(reference)[0] or "application/octet-stream"
    return Attachment(reference, media_type)


def stream(path: Path) -> Iterator[SuiteResult]:
    """Yield ``(suite, result)`` pairs; memory stays bounded by one chunk."""
    target = _JUnitTarget(path, collect=False)
    out = target.out
    for _ in feed(path, target):
        if out:
            yield from out
            out.clear()
    target.close()
    yield from out


def read(path: Path) -> TestRun:
    """Read a whole JUnit XML file into a run."""
    target = _JUnitTarget(path, collect=True)
    with _cyclic_gc_paused():
        for _ in feed(path, target):
            pass
    return target.close()


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a whole file is read.

    Results form no reference cycles, but every one is a tracked object, and
    with hundreds of thousands of them accumulating the collector's full
    passes take a third of the reading time. No caller code runs inside;
    reference counting still frees everything else, and the previous state
    is restored even on error.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
