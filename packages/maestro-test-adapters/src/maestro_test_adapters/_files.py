"""Writing a file so that a reader never sees half of it."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def write_atomically(path: Path, chunks: Iterable[str]) -> None:
    """Write ``chunks`` (UTF-8) to a temporary file beside ``path``, then rename it over ``path``.

    A crash or an error on the way leaves ``path`` as it was and no temporary file behind.
    The file gets the permissions a plain ``open(path, "w")`` would give it (the
    temporary file is created readable by its owner only).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "out.txt"
    >>> write_atomically(target, ["a", "b\\n"])
    >>> target.read_text(encoding="utf-8"), len(list(target.parent.iterdir()))
    ('ab\\n', 1)
    """
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as stream:
            stream.writelines(chunks)
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _umask() -> int:
    """The process's file mode creation mask (reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
