"""Errors, the format registry entry type and text helpers shared by the readers."""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from maestro_test_adapters.models import TestResult, TestRun, TestSuite

__all__ = [
    "ReadError",
    "ResultFileError",
    "ResultFormat",
    "UnknownFormatError",
    "clean_text",
    "first_line",
    "first_tag",
    "load_json",
    "parse_seconds",
    "parse_timestamp",
]

StrPath = str | os.PathLike[str]


class ReadError(Exception):
    """Base class of every error raised while reading a result file."""


class UnknownFormatError(ReadError, ValueError):
    """The format of a file cannot be recognised, or a format name is unknown.

    The message lists the supported formats so the caller can pass one.

    >>> error = UnknownFormatError(("junit", "jest"), path="out.txt")
    >>> error.supported
    ('junit', 'jest')
    >>> str(error).startswith("out.txt: not a recognised test result format;")
    True
    """

    def __init__(
        self,
        supported: Iterable[str],
        *,
        path: StrPath | None = None,
        name: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.supported = tuple(supported)
        self.path = None if path is None else os.fspath(path)
        self.name = name
        listed = ", ".join(self.supported)
        if name is not None:
            message = f"unknown result format {name!r}; supported formats: {listed}"
        else:
            found = f" ({detail})" if detail else ""
            message = (
                f"{self.path}: not a recognised test result format{found};"
                f" supported formats: {listed}"
                " (name one explicitly to read the file as that format)"
            )
        super().__init__(message)


class ResultFileError(ReadError, ValueError):
    """A result file is broken, truncated, hostile or not of the expected format.

    Attributes:
        path: The file.
        line: 1-based line of the problem, when known.
        reason: What is wrong.

    >>> print(ResultFileError("report.xml", "no element found", line=11))
    report.xml:11: no element found
    """

    def __init__(self, path: StrPath, reason: str, *, line: int | None = None) -> None:
        self.path = os.fspath(path)
        self.line = line
        self.reason = reason
        where = self.path if line is None else f"{self.path}:{line}"
        super().__init__(f"{where}: {reason}")


#: ``(suite, result)`` pairs as yielded by :func:`~maestro_test_adapters.readers.iter_results`.
SuiteResult = tuple[TestSuite, TestResult]


@dataclass(frozen=True, slots=True)
class ResultFormat:
    """One supported result format: how to recognise it and how to read it.

    Attributes:
        name: Short name, as given to ``format=`` and ``--format``.
        description: One line for help texts.
        sniff: Tells from the first kilobytes of a file (BOM removed, decoded
            as UTF-8 with replacement) whether the file is in this format.
        read: Reads a whole file into a :class:`~maestro_test_adapters.TestRun`.
        stream: Yields ``(suite, result)`` pairs with bounded memory; formats
            that must be loaded whole (JSON) leave it ``None``.

    >>> fmt = ResultFormat("demo", "a demo", lambda head: False, lambda path: TestRun("demo"))
    >>> fmt.read(Path("x")).framework
    'demo'
    """

    name: str
    description: str
    sniff: Callable[[str], bool]
    read: Callable[[Path], TestRun]
    stream: Callable[[Path], Iterator[SuiteResult]] | None = None


# -- text helpers ---------------------------------------------------------------

# ESC sequences (CSI and OSC), plus the "#x1B[31m" pytest writes into XML, where
# the escape character itself is not allowed.
_ANSI: Final = re.compile(r"(?:\x1b|#x1B)\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)")
_SPACES: Final = re.compile(r"[\s\u00a0\u202f']")


def clean_text(text: str | None) -> str | None:
    """Remove ANSI colour/control sequences; ``None`` and ``""`` give ``None``.

    >>> clean_text("\\x1b[31mexpected 1\\x1b[39m"), clean_text("#x1B[1mbold#x1B[0m")
    ('expected 1', 'bold')
    """
    if not text:
        return None
    if "\x1b" in text or "#x1B" in text:
        text = _ANSI.sub("", text)
    return text


def parse_seconds(text: str | None) -> float:
    """Parse a duration in seconds as written by real tools; unreadable gives 0.0.

    Handles thousands separators (``1,234.5``, ``1 234,5``) and decimal
    commas (``0,25``): when both ``,`` and ``.`` appear the last one is the
    decimal mark; a lone ``,`` is a decimal comma unless it separates
    several groups of three digits.

    >>> parse_seconds("1,234.5"), parse_seconds("0,25"), parse_seconds("1.234,5")
    (1234.5, 0.25, 1234.5)
    >>> parse_seconds("1,234,567"), parse_seconds("NaN"), parse_seconds(None)
    (1234567.0, 0.0, 0.0)
    """
    if not text:
        return 0.0
    try:
        value = float(text)
    except ValueError:
        value = _parse_localised(text)
    # NaN and infinities (or negative clocks) carry no usable duration.
    return value if 0.0 <= value < float("inf") else 0.0


def _parse_localised(text: str) -> float:
    text = _SPACES.sub("", text)
    comma, dot = text.rfind(","), text.rfind(".")
    if comma >= 0 and dot >= 0:
        if comma > dot:  # 1.234,5
            text = text.replace(".", "").replace(",", ".")
        else:  # 1,234.5
            text = text.replace(",", "")
    elif comma >= 0:
        groups = text.split(",")
        if len(groups) > 2 and all(len(group) == 3 for group in groups[1:]):
            text = "".join(groups)
        else:
            text = text.replace(",", ".")
    try:
        return float(text)
    except ValueError:
        return 0.0


def first_line(text: str) -> str | None:
    """The first line of ``text`` that is not blank, stripped; ``None`` when all are.

    >>> first_line("\\n  AssertionError: 1 != 2  \\n  at line 3")
    'AssertionError: 1 != 2'
    """
    return next((line.strip() for line in text.splitlines() if line.strip()), None)


_FIRST_TAG: Final = re.compile(
    r"\A\ufeff?(?:\s+|<\?.*?\?>|<!--.*?-->|<!DOCTYPE(?:[^\[>]|\[.*?\])*>)*<([\w:.-]+)", re.DOTALL
)


def first_tag(head: str) -> str | None:
    """Name of the first element in an XML document head, or ``None``.

    >>> first_tag('<?xml version="1.0"?><!-- hi --><testsuites name="x">')
    'testsuites'
    """
    match = _FIRST_TAG.match(head)
    return match.group(1) if match else None


def parse_timestamp(text: str | None) -> datetime | None:
    """Parse an ISO 8601 timestamp (``Z`` allowed); unreadable gives ``None``.

    >>> parse_timestamp("2021-01-24T19:21:45Z").isoformat()
    '2021-01-24T19:21:45+00:00'
    """
    if not text:
        return None
    try:
        return datetime.fromisoformat(text.strip())
    except ValueError:
        return None


def load_json(path: Path) -> Any:
    """Load a JSON file (UTF-8, BOM tolerated).

    Raises:
        ResultFileError: Unreadable or not JSON; the message gives the line.
    """
    try:
        with path.open("rb") as stream:
            raw = stream.read()
        return json.loads(raw.decode("utf-8-sig"))
    except OSError as exc:
        raise ResultFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ResultFileError(path, f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise ResultFileError(path, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except RecursionError:
        raise ResultFileError(path, "refused: JSON nested too deeply") from None


def expect(condition: bool, path: Path, what: str) -> None:
    """Raise :class:`ResultFileError` saying ``what`` was expected unless ``condition``."""
    if not condition:
        raise ResultFileError(path, f"unexpected structure: expected {what}")


def as_list(value: Any) -> list[Any]:
    """``value`` when it is a list, else an empty list (tolerates missing keys and nulls)."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """``value`` when it is a JSON object, else an empty dict."""
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    """``value`` when it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def as_int(value: Any) -> int | None:
    """``value`` when it is an integer, else ``None`` (``True`` is not a number)."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_float(value: Any, scale: float = 1.0) -> float:
    """A finite non-negative number times ``scale``, else 0.0 (``True`` is not a number).

    >>> as_float(1500, 0.001), as_float(-1), as_float(float("inf")), as_float(10**400)
    (1.5, 0.0, 0.0, 0.0)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        scaled = float(value) * scale
    except OverflowError:  # an integer too large for a float
        return 0.0
    return scaled if 0.0 <= scaled < math.inf else 0.0


def epoch_seconds(value: Any) -> datetime | None:
    """Seconds since the epoch to an aware UTC datetime; out of range gives ``None``.

    >>> epoch_seconds(0.5).isoformat(), epoch_seconds(1e30), epoch_seconds(-1)
    ('1970-01-01T00:00:00.500000+00:00', None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return datetime.fromtimestamp(value, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


def epoch_ms(value: Any) -> datetime | None:
    """Milliseconds since the epoch to an aware UTC datetime; out of range gives ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        return None
    try:
        return epoch_seconds(value / 1000)
    except OverflowError:  # an integer too large for a float
        return None
