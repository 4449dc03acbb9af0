"""Read every common test result format into one :class:`~maestro_test_adapters.TestRun`.

:func:`read_results` reads a file whose format is detected from its content
(or named with ``format=``); :func:`iter_results` streams the results of a
JUnit XML file with bounded memory. Both refuse hostile XML (any DTD, hence
entity expansion and external entities) and report broken files with
:class:`ResultFileError` naming the file and line.

>>> import tempfile
>>> from pathlib import Path
>>> report = Path(tempfile.mkdtemp()) / "report.xml"
>>> _ = report.write_text(
...     '<testsuite name="calc"><testcase classname="calc" name="adds" time="0,5"/>'
...     '<testcase classname="calc" name="divides"><failure message="boom"/></testcase>'
...     "</testsuite>"
... )
>>> detect_format(report)
'junit'
>>> run = read_results(report)
>>> run.totals.passed, run.totals.failed, run.suites[0].tests[0].duration
(1, 1, 0.5)
"""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from maestro_test_adapters.models import TestRun
from maestro_test_adapters.readers import (
    _cucumber,
    _jest,
    _junit,
    _maestro,
    _playwright,
    _pytest_json,
    _trx,
)
from maestro_test_adapters.readers._base import (
    ReadError,
    ResultFileError,
    ResultFormat,
    SuiteResult,
    UnknownFormatError,
)
from maestro_test_adapters.readers._xml import root_tag

__all__ = [
    "ReadError",
    "ResultFileError",
    "ResultFormat",
    "SuiteResult",
    "UnknownFormatError",
    "detect_format",
    "get_format",
    "iter_results",
    "read_results",
    "register_format",
    "supported_formats",
]

_HEAD_SIZE: Final = 1 << 16

# Detection tries the formats in this order; the most specific markers first.
_REGISTRY: dict[str, ResultFormat] = {
    fmt.name: fmt
    for fmt in (
        ResultFormat(
            "maestro",
            "normalised JSON written by this package (TestRun.to_json, the pytest plugin)",
            _maestro.sniff,
            _maestro.read,
        ),
        ResultFormat(
            "junit",
            "JUnit XML: Surefire, pytest, jest-junit, go-junit-report, PHPUnit, mocha, ...",
            _junit.sniff,
            _junit.read,
            _junit.stream,
        ),
        ResultFormat("trx", "Visual Studio TRX (dotnet test, MSTest)", _trx.sniff, _trx.read),
        ResultFormat("jest", "Jest --json report", _jest.sniff, _jest.read),
        ResultFormat(
            "playwright", "Playwright Test JSON reporter", _playwright.sniff, _playwright.read
        ),
        ResultFormat(
            "pytest-json",
            "pytest-json-report (--json-report)",
            _pytest_json.sniff,
            _pytest_json.read,
        ),
        ResultFormat(
            "cucumber-json",
            "Cucumber JSON (cucumber-js, Cucumber-JVM, behave)",
            _cucumber.sniff_json,
            _cucumber.read_json,
        ),
        ResultFormat(
            "cucumber-messages",
            "Cucumber messages NDJSON (--format message)",
            _cucumber.sniff_messages,
            _cucumber.read_messages,
        ),
    )
}


def supported_formats() -> tuple[str, ...]:
    """Names of the registered formats, in detection order.

    >>> supported_formats()[:3]
    ('maestro', 'junit', 'trx')
    """
    return tuple(_REGISTRY)


def get_format(name: str) -> ResultFormat:
    """Return the registered format called ``name``.

    Raises:
        UnknownFormatError: No such format; the message lists the supported ones.

    >>> get_format("jest").description
    'Jest --json report'
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownFormatError(_REGISTRY, name=name) from None


def register_format(fmt: ResultFormat, *, replace: bool = False) -> None:
    """Add a format (detected after the built-in ones).

    Raises:
        ValueError: A format of that name exists and ``replace`` is false.

    >>> csv = ResultFormat("csv", "demo", lambda head: False, lambda path: TestRun("csv"))
    >>> register_format(csv)
    >>> "csv" in supported_formats()
    True
    >>> _unregister("csv")
    """
    if fmt.name in _REGISTRY and not replace:
        raise ValueError(f"a result format named {fmt.name!r} is already registered")
    _REGISTRY[fmt.name] = fmt


def _unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def _head(path: Path) -> str:
    try:
        with path.open("rb") as stream:
            raw = stream.read(_HEAD_SIZE)
    except OSError as exc:
        raise ResultFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16", "replace")
    return raw.decode("utf-8", "replace").removeprefix("\ufeff")


def detect_format(path: str | os.PathLike[str]) -> str:
    """Tell the format of a result file from its content.

    XML files have their prolog checked first, so a document with a DTD is
    refused here already.

    Raises:
        UnknownFormatError: No supported format matches; lists the supported ones.
        ResultFileError: The file cannot be read, is empty, or is hostile XML.
    """
    path = Path(path)
    head = _head(path)
    stripped = head.lstrip()
    if not stripped:
        raise ResultFileError(path, "the file is empty")
    # An XML prolog is checked before any format looks at it: this raises on a DTD.
    tag = root_tag(path) if stripped.startswith("<") else None
    for fmt in _REGISTRY.values():
        if fmt.sniff(head):
            return fmt.name
    detail = None if tag is None else f"XML root element <{tag}>"
    raise UnknownFormatError(_REGISTRY, path=path, detail=detail)


def _detect_once_readable(path: Path) -> str:
    """Detect the format of a file that is then read again from its start."""
    # A pipe (`<(command)`, a piped /dev/stdin) gives its content once: detection
    # would eat it and the reader would report an empty, "malformed" document.
    with contextlib.suppress(OSError):
        if stat.S_ISFIFO(path.stat().st_mode):
            raise ResultFileError(
                path,
                "is a pipe, which can be read only once: name its format"
                " (format=NAME, --format NAME) or save it to a file first",
            )
    return detect_format(path)


def read_results(path: str | os.PathLike[str], format: str | None = None) -> TestRun:
    """Read one result file into a :class:`~maestro_test_adapters.TestRun`.

    Args:
        path: The file.
        format: A name from :func:`supported_formats`; detected when ``None``.

    Raises:
        UnknownFormatError: ``format`` is unknown, or detection failed.
        ResultFileError: The file is unreadable, broken, truncated or hostile;
            the message names the file and, when known, the line.
    """
    path = Path(path)
    fmt = get_format(format if format is not None else _detect_once_readable(path))
    return fmt.read(path)


def iter_results(path: str | os.PathLike[str], format: str | None = None) -> Iterator[SuiteResult]:
    """Yield ``(suite, result)`` pairs of a result file, in report order.

    For JUnit XML the file is streamed: memory stays bounded whatever its
    size, and each ``suite`` carries the suite's attributes but not its
    ``tests``. What only the end of a suite tells (its trailing output, the
    duration of a suite without a ``time``) is filled in on the same object
    once the stream has passed that end. Other formats are read whole first.

    Raises:
        UnknownFormatError: As for :func:`read_results`.
        ResultFileError: As for :func:`read_results`, possibly after some
            pairs were yielded (a truncated file is noticed at its end).
    """
    path = Path(path)
    fmt = get_format(format if format is not None else _detect_once_readable(path))
    if fmt.stream is not None:
        yield from fmt.stream(path)
        return
    run = fmt.read(path)
    for suite in run.suites:
        for result in suite.tests:
            yield suite, result
