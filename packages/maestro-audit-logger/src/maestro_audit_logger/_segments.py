"""Locating the files of one log (active file plus rotated segments) and reading tails.

Internal module: the layout is documented in docs/howto.md, not a public API.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from maestro_audit_logger.errors import LogFormatError

_SEGMENT_RE = re.compile(r"^(?P<base>.+\.jsonl)(?:\.(?P<first>\d+))?$")
#: Rotated segments are named ``<active name>.<first seq, zero padded>``.
SEQ_DIGITS = 12


def rotated_name(active: Path, first_seq: int) -> Path:
    """Return the name a segment starting at ``first_seq`` gets when rotated out."""
    return active.with_name(f"{active.name}.{first_seq:0{SEQ_DIGITS}d}")


def active_file(path: str | os.PathLike[str]) -> Path:
    """Return the active file of the log at ``path`` (the file, or the one log of a directory).

    Raises:
        LogFormatError: a directory holds no log, or several.
    """
    target = Path(path)
    if target.is_dir():
        bases = sorted(
            {
                m["base"]
                for p in target.iterdir()
                if p.is_file() and (m := _SEGMENT_RE.match(p.name))
            }
        )
        if not bases:
            raise LogFormatError(f"{target} holds no audit log (*.jsonl)")
        if len(bases) > 1:
            raise LogFormatError(
                f"{target} holds several logs ({', '.join(bases)}); pass one of the files"
            )
        return target / bases[0]
    return target


def log_files(path: str | os.PathLike[str]) -> list[Path]:
    """Return the files of a log, oldest first.

    ``path`` is the active file (its rotated siblings are found next to it) or a
    directory holding exactly one log.

    Raises:
        FileNotFoundError: nothing exists at ``path``.
        LogFormatError: a directory holds no log, or several.
    """
    target = Path(path)
    active = active_file(target)
    rotated: list[tuple[int, Path]] = []
    if active.parent.is_dir():
        prefix = active.name + "."
        for sibling in active.parent.iterdir():
            name = sibling.name
            if name.startswith(prefix) and name[len(prefix) :].isdigit():
                rotated.append((int(name[len(prefix) :]), sibling))
    files = [p for _, p in sorted(rotated)]
    if active.exists():
        files.append(active)
    if not files:
        raise FileNotFoundError(f"no audit log at {target}")
    return files


def last_line(fd: int, size: int, limit: int) -> tuple[bytes, int]:
    """Return the last complete line of the file and the offset where complete data ends.

    Bytes after the last ``\\n`` (a torn record) are not part of the returned line;
    the returned offset tells the caller where to cut. Reads at most ``limit`` bytes
    plus one block.
    """
    if size == 0:
        return b"", 0
    block = 65536
    end = size
    tail = b""
    start = size
    while start > 0 and len(tail) <= limit + block:
        start = max(0, start - block)
        tail = os.pread(fd, end - start, start) + tail
        end = start
        newline = tail.rfind(b"\n")
        if newline != -1:
            previous = tail.rfind(b"\n", 0, newline)
            if previous != -1 or start == 0:
                complete_end = start + newline + 1
                return tail[previous + 1 : newline + 1], complete_end
    if b"\n" not in tail:
        return b"", 0
    raise LogFormatError(f"the last record is longer than {limit} bytes; the file is damaged")
