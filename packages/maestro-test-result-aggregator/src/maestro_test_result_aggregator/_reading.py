"""The one door to the result-file readers of maestro-test-adapters.

No parsing happens here: files are read by ``maestro_test_adapters.readers``.
Small files are read whole (so the run keeps its start time and duration);
files above :data:`STREAM_THRESHOLD` are streamed pair by pair, so memory
stays bounded whatever their size.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from maestro_test_adapters.models import TestResult, TestSuite
from maestro_test_adapters.readers import (
    ReadError,
    UnknownFormatError,
    detect_format,
    iter_results,
    read_results,
)

from maestro_test_result_aggregator.errors import IngestError

#: Files larger than this are streamed instead of read whole.
STREAM_THRESHOLD = 32 * 1024 * 1024
#: What reading a file may raise: the readers' own errors (ReadError, OSError)
#: and, should a reader let one through, anything else. One bad file must never
#: stop the others.
READ_ERRORS = (Exception,)


class NotAResultFile(IngestError):
    """The file is in no format the readers know (a stray JSON or XML file)."""


@dataclass
class OpenedResults:
    """A result file ready to be stored: run facts plus its (suite, result) pairs."""

    format: str
    framework: str
    started_at: datetime | None
    duration: float
    environment: dict[str, str] = field(default_factory=dict)
    pairs: Iterator[tuple[TestSuite, TestResult]] = field(default_factory=lambda: iter(()))


def open_results(path: Path, format: str | None) -> OpenedResults:
    """Open one result file with the adapters' readers.

    Raises:
        IngestError: The file is missing, of an unknown format or broken; the
            message names the file and says what was wrong.
    """
    try:
        format_name = format or detect_format(path)
        if path.stat().st_size > STREAM_THRESHOLD:
            return OpenedResults(
                str(format_name), str(format_name), None, 0.0,
                pairs=iter_results(path, format=format_name),
            )  # fmt: skip
        run = read_results(path, format=format_name)
    except UnknownFormatError as exc:
        raise NotAResultFile(path, describe(exc, path)) from exc
    except READ_ERRORS as exc:
        raise IngestError(path, describe(exc, path)) from exc
    return OpenedResults(
        str(format_name),
        run.framework,
        run.started_at,
        run.duration,
        dict(run.environment),
        ((suite, result) for suite in run.suites for result in suite.tests),
    )


def describe(exc: BaseException, path: Path | str | None = None) -> str:
    """Say what went wrong in words, without repeating the file name."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, str):  # the readers' ResultFileError
        line = getattr(exc, "line", None)
        return f"line {line}: {reason}" if line else reason
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    if not isinstance(exc, ReadError | ValueError | SyntaxError):
        return f"unexpected {type(exc).__name__} while reading: {exc}"
    text = str(exc) or type(exc).__name__
    prefix = f"{path}: " if path is not None else None
    return text[len(prefix) :] if prefix and text.startswith(prefix) else text
