"""Where sealed records go besides the primary JSON Lines file.

A sink is any object with ``emit(event, line)``, ``flush()`` and ``close()``
(:class:`Sink`). The logger calls ``emit`` in sequence order, with its lock held,
after the record is in the primary log. Ready-made sinks: :class:`MemorySink`
(tests), :class:`StreamSink` (stdout), :class:`CallableSink` (any function),
:class:`SQLiteSink`, :class:`LoggingSink` (into stdlib :mod:`logging`). The
opposite bridge, stdlib logging into the audit trail, is :class:`AuditHandler`.

The settings of the primary file live here too: :class:`Rotation` (size, time,
retention), :class:`Checkpoints` (chain head copies kept elsewhere), :class:`BoundedQueue`
(non-blocking mode), and :class:`Repair` (what a reopen cut off after a crash).

>>> from maestro_audit_logger import AuditLogger
>>> memory = MemorySink()
>>> with AuditLogger(sinks=[memory]) as audit:
...     _ = audit.log("user.login", actor="alice")
>>> [event.action for event in memory.events]
['user.login']
"""

from __future__ import annotations

import logging
import os
import sqlite3
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol, TextIO, runtime_checkable

from maestro_audit_logger.errors import ConfigError
from maestro_audit_logger.models import AuditEvent

if TYPE_CHECKING:
    from maestro_audit_logger.core import AuditLogger

__all__ = [
    "AuditHandler",
    "Repair",
    "Rotation",
    "BoundedQueue",
    "CallableSink",
    "Checkpoints",
    "LoggingSink",
    "MemorySink",
    "SQLiteSink",
    "Sink",
    "StreamSink",
]


@runtime_checkable
class Sink(Protocol):
    """Receives every sealed record, in sequence order."""

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Take one record: the parsed event and its exact log line (with newline)."""

    def flush(self) -> None:
        """Push buffered records to their destination."""

    def close(self) -> None:
        """Flush and release resources."""


class MemorySink:
    """Keep events in a list (for tests and small tools).

    >>> sink = MemorySink()
    >>> sink.events
    []
    """

    def __init__(self) -> None:
        self.events: list[AuditEvent] = []
        self.lines: list[bytes] = []

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Append the event and its line."""
        self.events.append(event)
        self.lines.append(line)

    def flush(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class StreamSink:
    """Write each record as one JSON line to a text stream (``sys.stdout`` by default).

    >>> import io
    >>> stream = io.StringIO()
    >>> StreamSink(stream).emit(None, b'{"seq":1}\\n')  # type: ignore[arg-type]
    >>> stream.getvalue()
    '{"seq":1}\\n'
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Write the line."""
        (self._stream or sys.stdout).write(line.decode("utf-8"))

    def flush(self) -> None:
        """Flush the stream."""
        (self._stream or sys.stdout).flush()

    def close(self) -> None:
        """Flush; the stream stays open (it belongs to the caller)."""
        self.flush()


class CallableSink:
    """Call ``function(event)`` for every record.

    >>> seen = []
    >>> CallableSink(seen.append).emit("event", b"")  # type: ignore[arg-type]
    >>> seen
    ['event']
    """

    def __init__(self, function: Callable[[AuditEvent], object]) -> None:
        self._function = function

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Call the function."""
        self._function(event)

    def flush(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


class LoggingSink:
    """Forward records to a stdlib :class:`logging.Logger` (the line is the message).

    ``denied`` and ``error`` outcomes are logged at WARNING, others at INFO; the event
    is attached as ``record.audit_event``.
    """

    def __init__(self, logger: logging.Logger | str = "maestro_audit_logger.events") -> None:
        self._logger = logging.getLogger(logger) if isinstance(logger, str) else logger

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Log the line."""
        level = logging.WARNING if event.outcome in ("denied", "error") else logging.INFO
        self._logger.log(
            level, "%s", line.decode("utf-8").rstrip("\n"), extra={"audit_event": event}
        )

    def flush(self) -> None:
        """Nothing to do."""

    def close(self) -> None:
        """Nothing to do."""


_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_events (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    time TEXT NOT NULL,
    recorded TEXT NOT NULL,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    actor_type TEXT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    correlation_id TEXT,
    chain TEXT NOT NULL,
    line TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_events_time ON audit_events (time);
CREATE INDEX IF NOT EXISTS audit_events_actor ON audit_events (actor_id);
"""


class SQLiteSink:
    """Store records in an SQLite table ``audit_events`` (queryable copy of the trail).

    Rows keep the exact sealed line, so the copy can be re-verified. Inserts are
    batched and committed every ``batch`` records and on :meth:`flush`/:meth:`close`.
    The connection is used only under the logger's lock (``check_same_thread=False``).

    >>> sink = SQLiteSink(":memory:")
    >>> sink.count()
    0
    """

    def __init__(self, path: str | os.PathLike[str], *, batch: int = 500) -> None:
        self._db = sqlite3.connect(os.fspath(path), check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._rows: list[tuple[Any, ...]] = []
        self._batch = batch
        self._lock = threading.Lock()

    def emit(self, event: AuditEvent, line: bytes) -> None:
        """Queue one row; commit when the batch is full."""
        resource = event.resource
        row = (
            event.seq,
            event.id,
            event.time,
            event.recorded,
            event.action,
            event.outcome,
            event.actor.id,
            event.actor.type,
            None if resource is None else resource.type,
            None if resource is None else resource.id,
            event.correlation_id,
            event.chain,
            line.decode("utf-8").rstrip("\n"),
        )
        with self._lock:
            self._rows.append(row)
            if len(self._rows) >= self._batch:
                self._commit()

    def _commit(self) -> None:
        if self._rows:
            with self._db:
                self._db.executemany(
                    "INSERT INTO audit_events VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", self._rows
                )
            self._rows.clear()

    def flush(self) -> None:
        """Commit pending rows."""
        with self._lock:
            self._commit()

    def close(self) -> None:
        """Commit and close the database."""
        self.flush()
        self._db.close()

    def count(self) -> int:
        """Return the number of committed rows."""
        with self._lock:
            row = self._db.execute("SELECT count(*) FROM audit_events").fetchone()
        return int(row[0])

    def lines(self) -> list[str]:
        """Return the stored lines in sequence order."""
        with self._lock:
            rows = self._db.execute("SELECT line FROM audit_events ORDER BY seq").fetchall()
        return [str(r[0]) for r in rows]


@dataclass(frozen=True, slots=True)
class Rotation:
    """When to start a new file, and how many old files to keep.

    Args:
        max_bytes: Rotate before a file would grow past this size.
        interval: Rotate when the file is older than this many seconds.
        keep: Keep at most this many rotated files (oldest are deleted).
        max_age: Delete rotated files older than this many seconds.

    Rotated files are named ``<file>.<first sequence number>`` next to the active
    file; the hash chain continues across them.

    >>> Rotation(max_bytes=10_000_000, keep=30).keep
    30
    """

    max_bytes: int | None = None
    interval: float | None = None
    keep: int | None = None
    max_age: float | None = None

    def __post_init__(self) -> None:
        for name, kinds in (
            ("max_bytes", int),
            ("interval", int | float),
            ("keep", int),
            ("max_age", int | float),
        ):
            value = getattr(self, name)
            if value is None:
                continue
            # `not value > 0` also rejects NaN, which compares false with everything.
            if isinstance(value, bool) or not isinstance(value, kinds) or not value > 0:
                what = "integer" if kinds is int else "number of seconds"
                raise ConfigError(f"rotation.{name} must be a positive {what}, not {value!r}")


@dataclass(frozen=True, slots=True)
class Repair:
    """What was cut off the end of a log when it was reopened after a crash.

    Attributes:
        path: The repaired file.
        offset: Where the file now ends (start of the torn record).
        removed: Number of bytes removed.
        saved_to: Side file keeping the removed bytes for forensics.
        next_seq: Sequence number the next event gets.
    """

    path: str
    offset: int
    removed: int
    saved_to: str
    next_seq: int


@dataclass(frozen=True, slots=True)
class Checkpoints:
    """Write the chain head every ``every`` records to a *separate* place.

    Keep the checkpoint file on other storage (another disk, a WORM bucket mount,
    a remote syslog) so that someone who rewrites or truncates the log cannot also
    rewrite the checkpoints. Pass it to :func:`~maestro_audit_logger.verify`.
    Checkpoints are also written at rotation and on close.

    Args:
        target: File path to append to, or a callable receiving each sealed line.
        every: Records between checkpoints.

    >>> Checkpoints("/var/lib/audit-checkpoints.jsonl", every=1000).every
    1000
    """

    target: str | os.PathLike[str] | Callable[[bytes], object]
    every: int = 10_000

    def __post_init__(self) -> None:
        target: object = self.target
        if not callable(target) and (
            not isinstance(target, str | os.PathLike) or os.fspath(target) in ("", b"")
        ):
            raise ConfigError(
                "checkpoints.target must be a file path or a callable taking each line, "
                f"not {target!r}"
            )
        if isinstance(self.every, bool) or not isinstance(self.every, int) or self.every < 1:
            raise ConfigError(f"checkpoints.every must be a positive integer, not {self.every!r}")

    def writer(self) -> Callable[[bytes], object]:
        """Return a function that durably appends one checkpoint line."""
        target = self.target
        if callable(target):
            return target
        path = Path(target)

        def append(line: bytes) -> None:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)

        return append


@dataclass(frozen=True, slots=True)
class BoundedQueue:
    """Non-blocking mode: ``log()`` validates and enqueues; a writer thread seals and writes.

    Args:
        maxsize: Capacity of the queue.
        when_full: ``"block"`` waits for space; ``"drop"`` discards the new event,
            counts it (:attr:`AuditLogger.dropped`) and writes an ``audit.events_dropped``
            record with the count as soon as there is room, so no loss is silent.

    In this mode ``log()`` returns the event before it is sequenced: its ``seq`` is 0
    and ``chain`` is empty. Call :meth:`AuditLogger.flush` to wait for the writer.

    >>> BoundedQueue(1000, when_full="drop").when_full
    'drop'
    """

    maxsize: int = 10_000
    when_full: Literal["block", "drop"] = "block"

    def __post_init__(self) -> None:
        if isinstance(self.maxsize, bool) or not isinstance(self.maxsize, int) or self.maxsize < 1:
            raise ConfigError(f"queue.maxsize must be a positive integer, not {self.maxsize!r}")
        if self.when_full not in ("block", "drop"):
            raise ConfigError(f"queue.when_full must be 'block' or 'drop', not {self.when_full!r}")


class AuditHandler(logging.Handler):
    """Bridge stdlib :mod:`logging` into the audit trail.

    The log message becomes the action; ``actor``, ``resource``, ``outcome``,
    ``reason`` and ``correlation_id`` come from ``extra=``; the logger name and level
    are kept as metadata, plus any ``extra["audit"]`` mapping.

    >>> import logging
    >>> from maestro_audit_logger import AuditLogger
    >>> memory = MemorySink()
    >>> audit = AuditLogger(sinks=[memory])
    >>> app_log = logging.getLogger("doctest.audit")
    >>> app_log.addHandler(AuditHandler(audit))
    >>> app_log.warning("invoice.delete", extra={"actor": "bob", "resource": "invoice:7"})
    >>> memory.events[0].resource
    Resource(type='invoice', id='7')
    >>> audit.close()
    """

    def __init__(self, audit: AuditLogger, *, level: int = logging.NOTSET) -> None:
        super().__init__(level)
        self._audit = audit

    def emit(self, record: logging.LogRecord) -> None:
        """Write one audit event for the record (errors go to ``handleError``)."""
        try:
            extra = record.__dict__
            metadata = dict(extra.get("audit") or {})
            metadata.setdefault("logger", record.name)
            metadata.setdefault("level", record.levelname)
            self._audit.log(
                record.getMessage(),
                actor=extra.get("actor") or "system",
                resource=extra.get("resource"),
                outcome=extra.get("outcome", "success"),
                reason=extra.get("reason"),
                correlation_id=extra.get("correlation_id"),
                **metadata,
            )
        except Exception:  # logging must never raise into the application
            self.handleError(record)
