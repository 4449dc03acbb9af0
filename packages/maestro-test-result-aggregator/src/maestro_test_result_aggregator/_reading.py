"""The one door to the result-file readers of maestro-test-adapters."""

from __future__ import annotations

from pathlib import Path

from maestro_test_adapters.models import TestRun

from maestro_test_result_aggregator.errors import IngestError

# What a reader may raise for a file it cannot read: I/O, bad encoding, bad
# XML or JSON (ParseError is a SyntaxError), refused entities (ValueError).
_READ_ERRORS = (OSError, ValueError, SyntaxError, LookupError, RecursionError)


def read_file(path: Path, format: str | None) -> tuple[TestRun, str]:
    """Read one result file with the adapters' readers.

    Returns:
        The run and the name of the format it was read as.

    Raises:
        IngestError: The file is missing, unknown or broken; the message names
            the file and what was wrong.
    """
    from maestro_test_adapters.readers import detect_format, read_results

    try:
        format_name = format or detect_format(path)
        run = read_results(path, format=format_name)
    except _READ_ERRORS as exc:
        raise IngestError(path, _describe(exc)) from exc
    return run, str(format_name)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__
