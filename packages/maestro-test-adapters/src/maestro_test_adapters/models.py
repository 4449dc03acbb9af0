"""The normalised result model: a run holds suites, a suite holds test results.

Every reader produces these objects and every adapter returns them, so a
consumer never needs to know which framework or file format a result came
from.  The model is plain dataclasses; :meth:`TestRun.to_json` and
:meth:`TestRun.from_json` give a lossless JSON round trip that follows the
schema returned by :func:`json_schema`.

>>> run = TestRun("pytest", suites=[TestSuite("tests/test_math.py", tests=[
...     TestResult("tests/test_math.py::test_add", "test_add", Status.PASSED, 0.01),
...     TestResult("tests/test_math.py::test_div", "test_div", Status.FAILED,
...                message="ZeroDivisionError"),
... ])])
>>> run.totals.total, run.totals.failed, run.totals.ok
(2, 1, False)
>>> TestRun.from_json(run.to_json()) == run
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from enum import StrEnum
from importlib import resources
from typing import Any, Final

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
    "json_schema",
]

#: Value of the ``"schema"`` key of every normalised JSON document.
SCHEMA_ID: Final = "maestro-test-run/1"


class InvalidRunError(ValueError):
    """A dictionary or JSON document does not follow the test-run schema.

    The message names the offending location, e.g. ``suites[0].tests[2].status``.

    >>> try:
    ...     TestRun.from_dict({"schema": SCHEMA_ID, "framework": 3})
    ... except InvalidRunError as exc:
    ...     print(exc)
    framework: expected a string, got int
    """


class Status(StrEnum):
    """Outcome of one test (or one attempt of it).

    ``xfailed``/``xpassed`` only appear for frameworks that know expected
    failures (pytest, Playwright's ``test.fail``).

    >>> Status("failed").is_failure, Status.XFAILED.is_failure
    (True, False)
    """

    PASSED = "passed"
    FAILED = "failed"
    ERROR = "error"
    SKIPPED = "skipped"
    XFAILED = "xfailed"
    XPASSED = "xpassed"

    @property
    def is_failure(self) -> bool:
        """Whether this outcome makes a run unsuccessful (``failed`` or ``error``)."""
        return self is Status.FAILED or self is Status.ERROR


@dataclass(slots=True)
class Attachment:
    """A file (or inline content) produced by a test: screenshot, trace, log.

    Attributes:
        path: Path or URL of the file; empty when the body is inline.
        media_type: IANA media type, e.g. ``image/png``.
        name: Human-readable label, when the producer gave one.
        content: Inline body: text for textual media types, base64 otherwise.

    >>> shot = Attachment("shots/login.png", "image/png", "login page")
    >>> shot.media_type, shot.content is None
    ('image/png', True)
    """

    path: str
    media_type: str = "application/octet-stream"
    name: str | None = None
    content: str | None = None


@dataclass(slots=True)
class Attempt:
    """One earlier execution of a test that was retried in the same run.

    The final execution is the :class:`TestResult` itself; its ``attempts``
    keep the ones before it, oldest first.

    >>> Attempt(Status.FAILED, 0.5, message="timeout").status
    <Status.FAILED: 'failed'>
    """

    status: Status
    duration: float = 0.0
    message: str | None = None
    traceback: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    attachments: tuple[Attachment, ...] = ()


@dataclass(slots=True)
class TestResult:
    """The outcome of one test, after any retries.

    Attributes:
        test_id: Stable identifier (same test, same id, across runs), e.g. a
            pytest node id or ``classname::name`` for JUnit XML.
        name: Display name of the test.
        status: Final status.
        duration: Seconds spent in the final attempt.
        classname: Class, describe block or feature the test belongs to.
        file: Source file, as the producer reported it.
        line: 1-based line of the test in ``file``.
        message: Short failure, error or skip reason.
        traceback: Full failure details (stack trace, diff).
        stdout: Captured standard output.
        stderr: Captured standard error.
        attempts: Earlier executions when the test was retried, oldest first.
            Collections are tuples: results stay small when read by the
            hundred thousand (no per-result empty lists).
        attachments: Files the test produced.
        properties: Name/value pairs in the producer's order; names may repeat
            (as in JUnit ``<property>`` or pytest's ``record_property``).

    >>> retried = (Attempt(Status.FAILED),)
    >>> TestResult("t::a", "a", Status.PASSED, attempts=retried).flaky
    True
    """

    __test__ = False  # keep pytest from collecting this class as a test

    test_id: str
    name: str
    status: Status
    duration: float = 0.0
    classname: str | None = None
    file: str | None = None
    line: int | None = None
    message: str | None = None
    traceback: str | None = None
    stdout: str | None = None
    stderr: str | None = None
    attempts: tuple[Attempt, ...] = ()
    attachments: tuple[Attachment, ...] = ()
    properties: tuple[tuple[str, str], ...] = ()

    @property
    def flaky(self) -> bool:
        """True when the test failed (or errored) and then passed in the same run."""
        return self.status is Status.PASSED and any(
            attempt.status.is_failure for attempt in self.attempts
        )


@dataclass(frozen=True, slots=True)
class Totals:
    """Counts of final statuses; ``flaky`` counts passed tests that needed retries.

    >>> t = Totals(total=3, passed=2, failed=1)
    >>> t.ok, (t + t).total
    (False, 6)
    """

    total: int = 0
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    xfailed: int = 0
    xpassed: int = 0
    flaky: int = 0

    @property
    def ok(self) -> bool:
        """True when no test failed or errored."""
        return self.failed == 0 and self.error == 0

    def __add__(self, other: Totals) -> Totals:
        return Totals(*(getattr(self, name) + getattr(other, name) for name in _TOTALS_FIELDS))

    @classmethod
    def of(cls, results: Iterator[TestResult] | Sequence[TestResult]) -> Totals:
        """Count the final statuses of ``results``.

        >>> Totals.of([TestResult("a", "a", Status.SKIPPED)]).skipped
        1
        """
        counts = dict.fromkeys(Status, 0)
        total = flaky = 0
        for result in results:
            total += 1
            counts[result.status] += 1
            if result.attempts and result.flaky:
                flaky += 1
        return cls(
            total,
            counts[Status.PASSED],
            counts[Status.FAILED],
            counts[Status.ERROR],
            counts[Status.SKIPPED],
            counts[Status.XFAILED],
            counts[Status.XPASSED],
            flaky,
        )


_TOTALS_FIELDS: Final = tuple(total.name for total in fields(Totals))


@dataclass(slots=True)
class TestSuite:
    """A named group of test results (JUnit ``<testsuite>``, a Jest file, a feature).

    Attributes:
        name: Suite name.
        tests: Results in the order they were reported.
        file: Source file of the suite, when known.
        duration: Seconds, as the producer reported them (0.0 when unknown).
        started_at: When the suite started, when known.
        properties: Name/value pairs (names may repeat).
        stdout: Output captured at suite level.
        stderr: Error output captured at suite level.

    >>> TestSuite("math", [TestResult("m::a", "a", Status.PASSED)]).totals.passed
    1
    """

    __test__ = False

    name: str
    tests: list[TestResult] = field(default_factory=list)
    file: str | None = None
    duration: float = 0.0
    started_at: datetime | None = None
    properties: tuple[tuple[str, str], ...] = ()
    stdout: str | None = None
    stderr: str | None = None

    @property
    def totals(self) -> Totals:
        """Counts of the final statuses of this suite's tests."""
        return Totals.of(self.tests)


@dataclass(slots=True)
class TestRun:
    """One execution of a test suite by one framework.

    Attributes:
        framework: Producer, e.g. ``pytest``, ``jest``; ``junit`` when unknown.
        started_at: When the run started, when known.
        duration: Wall-clock seconds of the run (0.0 when unknown).
        environment: Free-form facts about where it ran (versions, host, CI).
        suites: The suites, in report order.

    >>> suite = TestSuite("a", [TestResult("a::x", "x", Status.ERROR)])
    >>> run = TestRun("jest", suites=[suite])
    >>> [r.test_id for r in run.iter_results()], run.totals.error
    (['a::x'], 1)
    """

    __test__ = False

    framework: str
    started_at: datetime | None = None
    duration: float = 0.0
    environment: dict[str, str] = field(default_factory=dict)
    suites: list[TestSuite] = field(default_factory=list)

    def iter_results(self) -> Iterator[TestResult]:
        """Yield every test result of every suite, in order."""
        for suite in self.suites:
            yield from suite.tests

    @property
    def totals(self) -> Totals:
        """Counts of final statuses over all suites (computed from the tests)."""
        return Totals.of(self.iter_results())

    # -- JSON -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict following :func:`json_schema`.

        Empty optional values are left out; ``totals`` is informative and is
        recomputed from the tests when read back.

        >>> TestRun("behave").to_dict()["totals"]["total"]
        0
        """
        data: dict[str, Any] = {"schema": SCHEMA_ID, "framework": self.framework}
        if self.started_at is not None:
            data["started_at"] = self.started_at.isoformat()
        data["duration"] = self.duration
        if self.environment:
            data["environment"] = dict(self.environment)
        totals = self.totals
        data["totals"] = {name: getattr(totals, name) for name in _TOTALS_FIELDS}
        data["suites"] = [_suite_to_dict(suite) for suite in self.suites]
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """Serialise to a JSON string (see :meth:`to_dict`)."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TestRun:
        """Build a run from a dict produced by :meth:`to_dict`.

        Raises:
            InvalidRunError: The dict does not follow the schema; the message
                names the first offending key.
        """
        reader = _DictReader()
        return reader.run(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> TestRun:
        """Parse a JSON document produced by :meth:`to_json`.

        Raises:
            InvalidRunError: The text is not JSON or does not follow the schema.
        """
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidRunError(f"not valid JSON: {exc}") from exc
        return cls.from_dict(data)


def json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the normalised JSON document.

    The schema ships with the package as ``maestro_test_adapters/schema.json``.

    >>> json_schema()["properties"]["schema"]["const"] == SCHEMA_ID
    True
    """
    text = resources.files(__package__).joinpath("schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


# -- serialisation helpers ------------------------------------------------------


def _put_common(data: dict[str, Any], item: TestResult | Attempt) -> None:
    for key in ("message", "traceback", "stdout", "stderr"):
        value = getattr(item, key)
        if value is not None:
            data[key] = value
    if item.attachments:
        data["attachments"] = [_attachment_to_dict(a) for a in item.attachments]


def _attachment_to_dict(attachment: Attachment) -> dict[str, Any]:
    data: dict[str, Any] = {
        "path": attachment.path,
        "media_type": attachment.media_type,
    }
    if attachment.name is not None:
        data["name"] = attachment.name
    if attachment.content is not None:
        data["content"] = attachment.content
    return data


def _result_to_dict(result: TestResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "test_id": result.test_id,
        "name": result.name,
        "status": result.status.value,
        "duration": result.duration,
    }
    for key in ("classname", "file", "line"):
        value = getattr(result, key)
        if value is not None:
            data[key] = value
    _put_common(data, result)
    if result.attempts:
        attempts = []
        for attempt in result.attempts:
            item: dict[str, Any] = {
                "status": attempt.status.value,
                "duration": attempt.duration,
            }
            _put_common(item, attempt)
            attempts.append(item)
        data["attempts"] = attempts
    if result.properties:
        data["properties"] = [[name, value] for name, value in result.properties]
    return data


def _suite_to_dict(suite: TestSuite) -> dict[str, Any]:
    data: dict[str, Any] = {"name": suite.name}
    if suite.file is not None:
        data["file"] = suite.file
    data["duration"] = suite.duration
    if suite.started_at is not None:
        data["started_at"] = suite.started_at.isoformat()
    if suite.properties:
        data["properties"] = [[name, value] for name, value in suite.properties]
    if suite.stdout is not None:
        data["stdout"] = suite.stdout
    if suite.stderr is not None:
        data["stderr"] = suite.stderr
    data["tests"] = [_result_to_dict(result) for result in suite.tests]
    return data


class _DictReader:
    """Validating decoder of :meth:`TestRun.to_dict` output with precise error paths."""

    def run(self, data: Mapping[str, Any]) -> TestRun:
        self._mapping(data, "document")
        if data.get("schema") != SCHEMA_ID:
            raise InvalidRunError(
                f"schema: expected {SCHEMA_ID!r}, got {data.get('schema')!r}"
                " (is this a maestro normalised JSON document?)"
            )
        environment = self._mapping(data.get("environment", {}), "environment")
        for key, value in environment.items():
            self._str(value, f"environment.{key}")
        suites = self._list(data.get("suites", []), "suites")
        return TestRun(
            framework=self._str(data.get("framework"), "framework"),
            started_at=self._time(data.get("started_at"), "started_at"),
            duration=self._number(data.get("duration", 0.0), "duration"),
            environment=dict(environment),
            suites=[self._suite(item, f"suites[{i}]") for i, item in enumerate(suites)],
        )

    def _suite(self, data: Any, where: str) -> TestSuite:
        self._mapping(data, where)
        tests = self._list(data.get("tests", []), f"{where}.tests")
        return TestSuite(
            name=self._str(data.get("name"), f"{where}.name"),
            tests=[self._result(item, f"{where}.tests[{i}]") for i, item in enumerate(tests)],
            file=self._opt_str(data.get("file"), f"{where}.file"),
            duration=self._number(data.get("duration", 0.0), f"{where}.duration"),
            started_at=self._time(data.get("started_at"), f"{where}.started_at"),
            properties=self._properties(data.get("properties", []), f"{where}.properties"),
            stdout=self._opt_str(data.get("stdout"), f"{where}.stdout"),
            stderr=self._opt_str(data.get("stderr"), f"{where}.stderr"),
        )

    def _result(self, data: Any, where: str) -> TestResult:
        self._mapping(data, where)
        attempts = self._list(data.get("attempts", []), f"{where}.attempts")
        line = data.get("line")
        if line is not None and (type(line) is not int or line < 0):
            raise InvalidRunError(f"{where}.line: expected a non-negative integer, got {line!r}")
        return TestResult(
            test_id=self._str(data.get("test_id"), f"{where}.test_id"),
            name=self._str(data.get("name"), f"{where}.name"),
            status=self._status(data.get("status"), f"{where}.status"),
            duration=self._number(data.get("duration", 0.0), f"{where}.duration"),
            classname=self._opt_str(data.get("classname"), f"{where}.classname"),
            file=self._opt_str(data.get("file"), f"{where}.file"),
            line=line,
            message=self._opt_str(data.get("message"), f"{where}.message"),
            traceback=self._opt_str(data.get("traceback"), f"{where}.traceback"),
            stdout=self._opt_str(data.get("stdout"), f"{where}.stdout"),
            stderr=self._opt_str(data.get("stderr"), f"{where}.stderr"),
            attempts=tuple(
                self._attempt(item, f"{where}.attempts[{i}]") for i, item in enumerate(attempts)
            ),
            attachments=self._attachments(data.get("attachments", []), f"{where}.attachments"),
            properties=self._properties(data.get("properties", []), f"{where}.properties"),
        )

    def _attempt(self, data: Any, where: str) -> Attempt:
        self._mapping(data, where)
        return Attempt(
            status=self._status(data.get("status"), f"{where}.status"),
            duration=self._number(data.get("duration", 0.0), f"{where}.duration"),
            message=self._opt_str(data.get("message"), f"{where}.message"),
            traceback=self._opt_str(data.get("traceback"), f"{where}.traceback"),
            stdout=self._opt_str(data.get("stdout"), f"{where}.stdout"),
            stderr=self._opt_str(data.get("stderr"), f"{where}.stderr"),
            attachments=self._attachments(data.get("attachments", []), f"{where}.attachments"),
        )

    def _attachments(self, data: Any, where: str) -> tuple[Attachment, ...]:
        items = self._list(data, where)
        attachments = []
        for i, item in enumerate(items):
            at = f"{where}[{i}]"
            self._mapping(item, at)
            attachments.append(
                Attachment(
                    path=self._str(item.get("path"), f"{at}.path"),
                    media_type=self._str(
                        item.get("media_type", "application/octet-stream"),
                        f"{at}.media_type",
                    ),
                    name=self._opt_str(item.get("name"), f"{at}.name"),
                    content=self._opt_str(item.get("content"), f"{at}.content"),
                )
            )
        return tuple(attachments)

    def _properties(self, data: Any, where: str) -> tuple[tuple[str, str], ...]:
        pairs = []
        for i, item in enumerate(self._list(data, where)):
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(isinstance(part, str) for part in item)
            ):
                raise InvalidRunError(f"{where}[{i}]: expected a [name, value] pair of strings")
            pairs.append((item[0], item[1]))
        return tuple(pairs)

    @staticmethod
    def _mapping(value: Any, where: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            raise InvalidRunError(f"{where}: expected an object, got {type(value).__name__}")
        return value

    @staticmethod
    def _list(value: Any, where: str) -> list[Any]:
        if not isinstance(value, list):
            raise InvalidRunError(f"{where}: expected an array, got {type(value).__name__}")
        return value

    @staticmethod
    def _str(value: Any, where: str) -> str:
        if not isinstance(value, str):
            raise InvalidRunError(f"{where}: expected a string, got {type(value).__name__}")
        return value

    @classmethod
    def _opt_str(cls, value: Any, where: str) -> str | None:
        return None if value is None else cls._str(value, where)

    @staticmethod
    def _number(value: Any, where: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidRunError(f"{where}: expected a number, got {type(value).__name__}")
        try:
            seconds = float(value)
        except OverflowError:  # an integer too large for a float
            seconds = math.inf
        # The schema's seconds: JSON has no NaN or infinity, and no clock runs backwards.
        if not 0.0 <= seconds < math.inf:
            raise InvalidRunError(f"{where}: expected a finite number of 0 or more, got {value!r}")
        return seconds

    @staticmethod
    def _status(value: Any, where: str) -> Status:
        try:
            return Status(value)
        except ValueError:
            allowed = ", ".join(status.value for status in Status)
            raise InvalidRunError(f"{where}: {value!r} is not one of {allowed}") from None

    @classmethod
    def _time(cls, value: Any, where: str) -> datetime | None:
        if value is None:
            return None
        try:
            return datetime.fromisoformat(cls._str(value, where))
        except ValueError:
            raise InvalidRunError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
