"""Visual Studio TRX (``dotnet test --logger trx``, MSTest, xUnit, NUnit adapters).

Results come before the test definitions that name their classes, so a TRX
file is read whole (TRX files stay small: one per test assembly). Suites are
the test classes. The data rows of an MSTest data-driven test
(``<InnerResults>``) are the tests; the result holding them, which only sums
them up, is not counted again.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from maestro_test_adapters.models import Attachment, Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers._base import (
    ResultFileError,
    clean_text,
    first_tag,
    parse_timestamp,
)
from maestro_test_adapters.readers._xml import TextCapture, feed

_OUTCOMES: Final = {
    "passed": Status.PASSED,
    "passedbutrunaborted": Status.PASSED,
    "warning": Status.PASSED,
    "completed": Status.PASSED,
    "failed": Status.FAILED,
    "error": Status.ERROR,
    "timeout": Status.ERROR,
    "aborted": Status.ERROR,
    "disconnected": Status.ERROR,
}
_TEXTS: Final = frozenset({"StdOut", "StdErr", "Message", "StackTrace"})
_DURATION: Final = re.compile(r"(?:(\d+)\.)?(\d+):(\d+):(\d+(?:[.,]\d+)?)")


def sniff(head: str) -> bool:
    """True when the root element is a TRX ``<TestRun>``."""
    tag = first_tag(head)
    return tag is not None and tag.rpartition(":")[2] == "TestRun"


def _duration(text: str | None) -> float:
    """``[d.]hh:mm:ss[.fffffff]`` to seconds.

    >>> _duration("00:01:02.5000000"), _duration("1.00:00:00"), _duration(None)
    (62.5, 86400.0, 0.0)
    """
    match = _DURATION.fullmatch(text.strip()) if text else None
    if match is None:
        return 0.0
    days, hours, minutes, seconds = match.groups()
    return (
        int(days or 0) * 86400
        + int(hours) * 3600
        + int(minutes) * 60
        + float(seconds.replace(",", "."))
    )


class _TrxTarget:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.root_seen = False
        self.run = TestRun("trx")
        self.results: list[tuple[str, TestResult]] = []  # (testId, result)
        self.classes: dict[str, tuple[str, str | None]] = {}  # testId -> (class, storage)
        self.case: TestResult | None = None
        self.test_id: str | None = None  # of the <UnitTest> being defined
        self.storage: str | None = None
        self.text = TextCapture()
        self.files: list[Attachment] = []
        # MSTest data-driven tests hold their data rows in <InnerResults>: the
        # enclosing results (with their files) while a row is read, and the
        # data-driven results themselves, which only sum up their rows.
        self.outer: list[tuple[TestResult, list[Attachment]]] = []
        self.summaries: set[int] = set()  # id() of those results

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        tag = tag.rpartition("}")[2]
        if not self.root_seen:
            if tag != "TestRun":
                raise ResultFileError(self.path, f"root element <{tag}> is not a TRX <TestRun>")
            self.root_seen = True
        elif tag == "UnitTestResult":
            if self.case is not None:  # a data row inside its data-driven test
                self.outer.append((self.case, self.files))
                self.summaries.add(id(self.case))
            outcome = (attrib.get("outcome") or "").lower()
            self.case = TestResult(
                "",
                attrib.get("testName", ""),
                _OUTCOMES.get(outcome, Status.SKIPPED),
                _duration(attrib.get("duration")),
            )
            self.results.append((attrib.get("testId", ""), self.case))
            self.files = []
        elif tag in _TEXTS and self.case is not None:
            self.text.push()
        elif tag == "ResultFile" and self.case is not None:
            self.files.append(Attachment(attrib.get("path", "")))
        elif tag == "UnitTest":
            self.test_id = attrib.get("id")
            self.storage = attrib.get("storage")
        elif tag == "TestMethod" and self.test_id is not None:
            classname = attrib.get("className", "").split(",")[0].strip()
            self.classes[self.test_id] = (classname, self.storage)
        elif tag == "Times":
            self.run.started_at = parse_timestamp(attrib.get("start"))
            start, finish = self.run.started_at, parse_timestamp(attrib.get("finish"))
            # Both with an offset or both without: else they cannot be compared.
            if (
                start is not None
                and finish is not None
                and (start.tzinfo is None) is (finish.tzinfo is None)
            ):
                self.run.duration = max((finish - start).total_seconds(), 0.0)

    def end(self, tag: str) -> None:
        tag = tag.rpartition("}")[2]
        if tag in _TEXTS and self.case is not None:
            value = clean_text(self.text.pop().strip())
            if tag == "Message":
                self.case.message = value
            elif tag == "StackTrace":
                self.case.traceback = value
            elif tag == "StdOut":
                self.case.stdout = value
            else:
                self.case.stderr = value
        elif tag == "UnitTestResult":
            if self.case is not None and self.files:
                self.case.attachments = tuple(self.files)
            self.case = None
            if self.outer:  # back to the data-driven test around this row
                self.case, self.files = self.outer.pop()
        elif tag == "UnitTest":
            self.test_id = None

    def finish(self) -> TestRun:
        """Join results with their definitions and group them by test class."""
        suites: dict[str, TestSuite] = {}
        for test_id, result in self.results:
            if id(result) in self.summaries:  # its rows are the tests, as the counters say
                continue
            classname, storage = self.classes.get(test_id, ("", None))
            result.classname = classname or None
            result.file = storage
            short = result.name
            if classname and short.startswith(classname + "."):
                short = short[len(classname) + 1 :]
            result.test_id = f"{classname}::{short}" if classname else short
            suite = suites.get(classname)
            if suite is None:
                suite = suites[classname] = TestSuite(classname, file=storage)
                self.run.suites.append(suite)
            suite.tests.append(result)
            suite.duration += result.duration
        return self.run


def read(path: Path) -> TestRun:
    """Read a TRX file."""
    target = _TrxTarget(path)
    for _ in feed(path, target):
        pass
    return target.finish()
