"""The package's own normalised JSON (:meth:`~maestro_test_adapters.TestRun.to_json`)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from maestro_test_adapters.models import SCHEMA_ID, InvalidRunError, TestRun
from maestro_test_adapters.readers._base import ResultFileError, load_json

_SCHEMA_FAMILY: Final = SCHEMA_ID.rpartition("/")[0] + "/"


def sniff(head: str) -> bool:
    """The document names the schema, e.g. ``{"schema": "maestro-test-run/1", ...``.

    Any version of it: reading then says what is wrong with a document from
    another version, rather than detection calling it an unknown format.
    """
    return head.lstrip().startswith("{") and f'"{_SCHEMA_FAMILY}' in head


def read(path: Path) -> TestRun:
    """Read a normalised JSON document."""
    data = load_json(path)
    try:
        return TestRun.from_dict(data)
    except InvalidRunError as exc:
        raise ResultFileError(path, f"not a valid normalised test run: {exc}") from None
