"""Terminal-safe views of a log: table rendering, tail, follow and statistics.

Event data is attacker-controlled text. Everything shown on a terminal goes through
:func:`sanitize`, which turns control characters, ANSI escape sequences, bidirectional
overrides and line/paragraph separators into visible ``\\x1b``-style escapes.

>>> sanitize("ok\\x1b[31mred\\u2028next")
'ok\\\\x1b[31mred\\\\u2028next'
"""

from __future__ import annotations

import collections
import json
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from maestro_audit_logger._segments import active_file, last_line, log_files
from maestro_audit_logger.errors import LogFormatError
from maestro_audit_logger.exporters import read_events
from maestro_audit_logger.models import AuditEvent

__all__ = [
    "TABLE_COLUMNS",
    "LogStats",
    "TerminalWriter",
    "follow",
    "format_table",
    "sanitize",
    "sanitize_lines",
    "stats",
    "tail",
]

# C0 controls, DEL, C1 controls (includes the 8-bit CSI), line/paragraph separators,
# bidi embeddings/overrides/isolates and marks, zero-width characters and BOM.
_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200b-\u200f\u061c\ufeff]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def sanitize(text: str) -> str:
    """Return ``text`` with every character that could control a terminal made visible.

    >>> sanitize("tab\\there")
    'tab\\\\x09here'
    """
    return _UNSAFE.sub(_escape, text)


def sanitize_lines(text: str) -> str:
    """Like :func:`sanitize`, but keep line breaks (``\\n``; ``\\r\\n`` becomes ``\\n``).

    For whole documents (an export) shown on a terminal.

    >>> sanitize_lines("a,\\x1b[2J\\r\\nb\\rc\\n")
    'a,\\\\x1b[2J\\nb\\\\x0dc\\n'
    """
    return "\n".join(sanitize(line) for line in text.replace("\r\n", "\n").split("\n"))


class TerminalWriter:
    """A text stream wrapper that sanitizes everything written, keeping line breaks.

    >>> import io
    >>> target = io.StringIO()
    >>> TerminalWriter(target).write("bell\\x07\\n")
    6
    >>> target.getvalue()
    'bell\\\\x07\\n'
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        """Write ``text`` sanitized; return the length of ``text``."""
        self._stream.write(sanitize_lines(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self._stream.flush()


#: Columns of :func:`format_table`, as (title, getter).
TABLE_COLUMNS: tuple[tuple[str, Callable[[AuditEvent], Any]], ...] = (
    ("SEQ", lambda e: e.seq),
    ("TIME", lambda e: e.time),
    ("ACTOR", lambda e: e.actor.id),
    ("ACTION", lambda e: e.action),
    ("RESOURCE", lambda e: "" if e.resource is None else f"{e.resource.type}:{e.resource.id}"),
    ("OUTCOME", lambda e: e.outcome),
    ("REASON", lambda e: e.reason or ""),
)


def format_table(events: Iterable[AuditEvent], *, max_width: int = 40) -> list[str]:
    """Render events as aligned, sanitized text rows (header first).

    Cells longer than ``max_width`` are cut with ``…``.

    >>> from maestro_audit_logger.models import Actor, AuditEvent, Source
    >>> event = AuditEvent(1, "i", "2026-01-01T00:00:00.000000Z", "", "user.login",
    ...     Actor("mal\\x1b]0;pwned\\x07"), "denied", None, None, None, Source("s", "h", 1),
    ...     {}, 1, "")
    >>> print(format_table([event])[1])
    1    2026-01-01T00:00:00.000000Z  mal\\x1b]0;pwned\\x07  user.login           denied
    """
    rows = [[title for title, _ in TABLE_COLUMNS]]
    for event in events:
        row = []
        for _, getter in TABLE_COLUMNS:
            cell = sanitize(str(getter(event)))
            if len(cell) > max_width:
                cell = cell[: max_width - 1] + "…"
            row.append(cell)
        rows.append(row)
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    return [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]


def tail(
    path: str | os.PathLike[str],
    count: int = 10,
    where: Callable[[AuditEvent], bool] | None = None,
) -> list[AuditEvent]:
    """Return the last ``count`` (matching) events, reading the log once in O(count) memory."""
    return list(collections.deque(read_events(path, where), maxlen=count))


def follow(
    path: str | os.PathLike[str],
    *,
    stop: threading.Event | None = None,
    poll_interval: float = 0.2,
    from_start: bool = False,
) -> Iterator[AuditEvent]:
    """Yield events as they are appended to the log, like ``tail -f``.

    The file is opened when ``follow`` is called, so every event logged after the
    call is yielded. Rotation is followed by sequence number: events written to a
    segment that was rotated out between two polls are read from that segment, so
    none are skipped. A record is parsed only once its newline is there.

    Args:
        path: The active log file, or the directory holding the log.
        stop: Set it to end the generator (checked every ``poll_interval`` seconds).
        poll_interval: Seconds between checks for new data.
        from_start: Yield the events already in the active file too.
    """
    active = active_file(path)
    handle = open(active, "rb")  # owned and closed by the generator below
    last_seq = 0
    if not from_start:
        size = os.fstat(handle.fileno()).st_size
        line, complete = last_line(handle.fileno(), size, 1 << 24)
        last_seq = _seq_before(line)
        handle.seek(complete)
    return _follow(active, handle, last_seq, stop or threading.Event(), poll_interval)


def _seq_before(line: bytes) -> int:
    """Sequence number of ``line`` (a header counts as the one before its first)."""
    if not line:
        return 0
    data = json.loads(line)
    if "segment" in data:
        return int(data["segment"]["first_seq"]) - 1
    return int(data["seq"])


def _rotated_since(active: Path, last_seq: int) -> Iterator[AuditEvent]:
    """Events after ``last_seq`` in segments rotated out since they were last read."""
    segments = [f for f in log_files(active) if f != active]
    starts = [int(f.name.rsplit(".", 1)[1]) for f in segments]
    for index, segment in enumerate(segments):
        following = starts[index + 1] if index + 1 < len(starts) else None
        if following is not None and following <= last_seq + 1:
            continue  # every event in it was already seen
        for event in read_events(segment):
            if event.seq > last_seq:
                yield event


def _follow(
    active: Path, handle: BinaryIO, last_seq: int, stop: threading.Event, poll_interval: float
) -> Iterator[AuditEvent]:
    partial = b""
    try:
        while not stop.is_set():
            chunk = handle.readline()
            if chunk:
                partial += chunk
                if not partial.endswith(b"\n"):
                    continue
                line, partial = partial, b""
                if line.startswith(b'{"segment":'):
                    continue
                try:
                    event = AuditEvent.from_json(line)
                except LogFormatError:
                    continue  # a damaged line is verify's business, not the viewer's
                if event.seq > last_seq:
                    last_seq = event.seq
                    yield event
                continue
            try:
                rotated = os.stat(active).st_ino != os.fstat(handle.fileno()).st_ino
            except FileNotFoundError:
                rotated = False  # between rename and re-creation: wait
            if rotated:
                for event in _rotated_since(active, last_seq):
                    last_seq = event.seq
                    yield event
                handle.close()
                handle = open(active, "rb")
                partial = b""
                continue
            stop.wait(poll_interval)
    finally:
        handle.close()


@dataclass
class LogStats:
    """Counts over a log (see :func:`stats`)."""

    events: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    first_time: str | None = None
    last_time: str | None = None
    files: int = 0
    bytes: int = 0
    outcomes: collections.Counter[str] = field(default_factory=collections.Counter)
    actions: collections.Counter[str] = field(default_factory=collections.Counter)
    actors: collections.Counter[str] = field(default_factory=collections.Counter)

    def to_dict(self, top: int = 10) -> dict[str, Any]:
        """Return a JSON-ready summary with the ``top`` actions and actors."""
        return {
            "events": self.events,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "first_time": self.first_time,
            "last_time": self.last_time,
            "files": self.files,
            "bytes": self.bytes,
            "outcomes": dict(self.outcomes),
            "top_actions": dict(self.actions.most_common(top)),
            "top_actors": dict(self.actors.most_common(top)),
        }

    def lines(self, top: int = 10) -> Sequence[str]:
        """Return a sanitized, human-readable summary."""
        out = [
            f"events: {self.events}  (seq {self.first_seq}..{self.last_seq})",
            f"time:   {self.first_time} .. {self.last_time}",
            f"files:  {self.files}  ({self.bytes} bytes)",
            "outcomes: " + ", ".join(f"{k}={v}" for k, v in sorted(self.outcomes.items())),
            "top actions:",
            *(f"  {n:>8}  {sanitize(k)}" for k, n in self.actions.most_common(top)),
            "top actors:",
            *(f"  {n:>8}  {sanitize(k)}" for k, n in self.actors.most_common(top)),
        ]
        return out


def stats(
    path: str | os.PathLike[str], where: Callable[[AuditEvent], bool] | None = None
) -> LogStats:
    """Count events by outcome, action and actor, streaming through the log once."""
    result = LogStats()
    files = log_files(path)
    result.files = len(files)
    result.bytes = sum(f.stat().st_size for f in files)
    for event in read_events(path, where):
        result.events += 1
        if result.first_seq is None:
            result.first_seq, result.first_time = event.seq, event.time
        result.last_seq, result.last_time = event.seq, event.time
        result.outcomes[event.outcome] += 1
        result.actions[event.action] += 1
        result.actors[event.actor.id] += 1
    return result
