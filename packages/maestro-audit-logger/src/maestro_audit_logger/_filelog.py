"""The primary JSON Lines log file: locking, durability, torn-tail repair, rotation.

Internal module; :class:`maestro_audit_logger.AuditLogger` drives it. All methods
except :meth:`JsonlLog.sync_to` and the flusher thread run with ``mutex`` held.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from maestro_audit_logger._segments import last_line, log_files, rotated_name
from maestro_audit_logger.errors import (
    ConfigError,
    KeyMismatchError,
    LogFormatError,
    LogLockedError,
    UnsupportedPlatformError,
)
from maestro_audit_logger.integrity import GENESIS, Chain, header_body, seal_line
from maestro_audit_logger.sinks import Repair, Rotation

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

_log = logging.getLogger("maestro_audit_logger")

Durability = Literal["none", "batch", "always"]
DURABILITIES: tuple[Durability, ...] = ("none", "batch", "always")
_WRITE_BYTES = 64 * 1024
_sync: Callable[[int], None] = getattr(os, "fdatasync", os.fsync)


def _fsync_dir(directory: Path) -> None:
    if sys.platform == "win32":  # pragma: no cover
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JsonlLog:
    """Append-only JSON Lines log owning the chain head (next seq, previous value)."""

    def __init__(
        self,
        path: Path,
        chain: Chain,
        *,
        mutex: threading.Lock,
        durability: Durability,
        fsync_every: int,
        fsync_interval: float,
        rotation: Rotation | None,
        shared: bool,
        max_record_bytes: int,
        timestamp: Callable[[], str],
        clock: Callable[[], int],
    ) -> None:
        if fcntl is None:  # pragma: no cover - Windows
            raise UnsupportedPlatformError(
                "the JSON Lines log needs POSIX file locks (Linux, macOS, BSD); "
                "on Windows log to SQLiteSink or a custom sink instead"
            )
        self.path = path
        self.chain = chain
        self.mutex = mutex
        self.durability = durability
        self.shared = shared
        self._fsync_every = fsync_every
        self._rotation = rotation
        self._max_line = max_record_bytes + 1024
        self._timestamp = timestamp
        self._clock = clock
        self.repairs: list[Repair] = []
        # The chain head as far as this writer knows: the core reads these directly
        # (hot path); in shared mode begin() refreshes them from the file.
        self.next_seq = 1
        self.previous = GENESIS
        self._buffer: list[bytes] = []
        self._buffer_bytes = 0
        self._spill_records = min(256, fsync_every)
        self._spill_bytes = _WRITE_BYTES
        self._direct = shared or durability == "always"
        # Hot path for the core: unless records must be written at once or counted in
        # bytes (size rotation), the core appends sealed lines to this list itself and
        # calls spill() once it holds spill_at lines.
        self.fast_buffer: list[bytes] | None = None
        if not self._direct and (rotation is None or rotation.max_bytes is None):
            self.fast_buffer = self._buffer
        self.spill_at = self._spill_records
        self._unsynced_records = 0
        self._written = 0  # bytes handed to the OS by this writer, all files together
        self._synced = 0
        self._sync_due = 0  # position the flusher must fsync to (batch count reached)
        self._sync_lock = threading.Lock()
        self._closed = False
        if path.is_dir():  # checked before the lock file is created next to it
            raise ConfigError(f"{path} is a directory; pass the path of the log file in it")
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        if not shared:
            try:
                fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(self._lock_fd)
                raise LogLockedError(
                    f"{path} is already open for writing (in this or another process); "
                    "close that logger, or open the log with shared=True in every writer"
                ) from None
        self._fd = -1
        self._lock_file()
        try:
            self._open_active()
        except BaseException:
            if self._fd >= 0:
                os.close(self._fd)
            os.close(self._lock_fd)  # also drops the lock
            raise
        self._unlock_file()
        self._plan_spill()
        self._flusher: threading.Thread | None = None
        self._wake = threading.Event()
        if durability != "always" or shared:
            self._flusher = threading.Thread(
                target=self._flush_loop, args=(fsync_interval,), name="audit-flusher", daemon=True
            )
            self._flusher.start()

    def _now(self) -> float:
        return self._clock() / 1e9

    # ---- locking -------------------------------------------------------------------
    def _lock_file(self) -> None:
        if self.shared:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX)

    def _unlock_file(self) -> None:
        if self.shared:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)

    # ---- opening and head discovery ------------------------------------------------
    def _open_active(self) -> None:
        """Open (or create) the active file, repair a torn tail and load the head."""
        if self._fd >= 0:
            os.close(self._fd)
        self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o640)
        self._inode = os.fstat(self._fd).st_ino
        self._load_head(check_header=True)

    def _load_head(self, *, check_header: bool = False) -> None:
        size = os.fstat(self._fd).st_size
        line, complete = last_line(self._fd, size, self._max_line)
        if complete < size:
            self._cut(size, complete)
        if line:
            if check_header:
                self._check_header()
            self.next_seq, self.previous = self._head_from(line)
        else:
            next_seq, previous = 1, GENESIS
            older = [f for f in log_files(self.path) if f != self.path]
            if older:
                with open(older[-1], "rb") as handle:
                    fd = handle.fileno()
                    tail, _ = last_line(fd, os.fstat(fd).st_size, self._max_line)
                if tail:
                    next_seq, previous = self._head_from(tail)
            self._write_header(next_seq, previous)
        self._end = os.fstat(self._fd).st_size

    def _head_from(self, line: bytes) -> tuple[int, bytes]:
        try:
            data = json.loads(line)
            value = line[-67:-3]
            if "segment" in data:
                return int(data["segment"]["first_seq"]), value
            return int(data["seq"]) + 1, value
        except (ValueError, KeyError, TypeError) as exc:
            raise LogFormatError(
                f"the last record of {self.path} is damaged; run `maestro-audit verify` on it"
            ) from exc

    def _check_header(self) -> None:
        first = os.pread(self._fd, 4096, 0).split(b"\n", 1)[0]
        try:
            header = json.loads(first)["segment"]
            self._first_seq = int(header["first_seq"])
        except (ValueError, KeyError, TypeError) as exc:
            raise LogFormatError(f"{self.path} is not an audit log (no segment header)") from exc
        try:
            self._created = datetime.fromisoformat(header["created"]).timestamp()
        except (KeyError, TypeError, ValueError):
            self._created = self._now()
        if header.get("alg") != self.chain.algorithm:
            raise KeyMismatchError(
                f"{self.path} is sealed with {header.get('alg')!r}, this logger uses "
                f"{self.chain.algorithm!r}; use the same key and algorithm, or a new file"
            )
        if header.get("key_check") != self.chain.key_check:
            raise KeyMismatchError(
                f"{self.path} is sealed with another key; use the same key, or a new file"
            )

    def _write_header(self, next_seq: int, previous: bytes) -> None:
        body = header_body(self.chain, next_seq, previous, self._timestamp())
        value, line = seal_line(self.chain, previous, body)
        os.write(self._fd, line)
        _sync(self._fd)
        _fsync_dir(self.path.parent)
        self._first_seq = next_seq
        self.next_seq, self.previous = next_seq, value
        self._created = self._now()

    def _cut(self, size: int, complete: int) -> None:
        torn = os.pread(self._fd, size - complete, complete)
        saved = Path(f"{self.path}.torn")
        side = os.open(saved, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(side, torn + b"\n")
            os.fsync(side)  # keep the evidence before cutting it off the log
        finally:
            os.close(side)
        os.ftruncate(self._fd, complete)
        _sync(self._fd)
        line, _ = last_line(self._fd, complete, self._max_line)
        next_seq = self._head_from(line)[0] if line else 1
        repair = Repair(str(self.path), complete, size - complete, str(saved), next_seq)
        self.repairs.append(repair)
        _log.warning(
            "audit log %s: cut a torn record of %d bytes at offset %d (saved to %s); "
            "the next event gets seq %d",
            self.path,
            repair.removed,
            complete,
            saved,
            next_seq,
        )

    # ---- the write path (mutex held) -----------------------------------------------
    def begin(self) -> tuple[int, bytes]:
        """Lock the file (shared mode) and return (next sequence number, previous value).

        The caller must call :meth:`end` afterwards, also when sealing fails.
        """
        if self.shared:
            self._lock_file()
            try:
                try:
                    moved = os.stat(self.path).st_ino != self._inode
                except FileNotFoundError:  # a writer died between rename and re-creation
                    moved = True
                if moved:
                    self._open_active()  # another writer rotated the file
                elif os.fstat(self._fd).st_size != self._end:
                    self._load_head()  # another writer appended
            except BaseException:
                self._unlock_file()
                raise
        return self.next_seq, self.previous

    def end(self) -> None:
        """Release the file lock taken by :meth:`begin`, whether or not a line was written."""
        self._unlock_file()

    def commit(self, line: bytes, next_seq: int, value: bytes) -> int:
        """Append one sealed line; return the byte position to wait for (``always``)."""
        if self._direct:
            self._write_all(line)  # first: a failed write must not advance the chain
            self.next_seq = next_seq
            self.previous = value
            self._unsynced_records += 1
            self._after_write()
            return self._written
        self.next_seq = next_seq
        self.previous = value
        buffer = self._buffer
        buffer.append(line)
        self._buffer_bytes += len(line)
        if len(buffer) >= self._spill_records or self._buffer_bytes >= self._spill_bytes:
            self.spill()
        return 0

    def spill(self) -> None:
        """Write the buffered lines to the OS (mutex held)."""
        self._unsynced_records += len(self._buffer)
        self._write_buffer()
        self._after_write()

    def _after_write(self) -> None:
        if self.durability == "batch" and self._unsynced_records >= self._fsync_every:
            # Everything counted is already written: the flusher only has to fsync up to
            # here, without taking the mutex (which would stall this writer meanwhile).
            self._unsynced_records = 0
            self._sync_due = self._written
            self._wake.set()
        rotation = self._rotation
        if rotation is not None:
            if self._should_rotate(rotation):
                self._rotate(rotation)
            self._plan_spill()

    def _plan_spill(self) -> None:
        """Spill the buffer early enough that a file grows at most one record past max_bytes."""
        if self._rotation is not None and self._rotation.max_bytes is not None:
            room = self._rotation.max_bytes - self._end
            self._spill_bytes = max(1, min(_WRITE_BYTES, room))

    def _write_buffer(self) -> None:
        if not self._buffer:
            return
        data = b"".join(self._buffer)
        self._write_all(data)  # if it fails, the lines stay buffered for the next attempt
        self._buffer.clear()
        self._buffer_bytes = 0

    def _write_all(self, data: bytes) -> None:
        try:
            written = os.write(self._fd, data)
            if written < len(data):  # a short write (disk nearly full, signal): finish it
                view = memoryview(data)[written:]
                while view:
                    view = view[os.write(self._fd, view) :]
        except OSError:
            # Disk full or an I/O error: cut off whatever part of ``data`` reached the file,
            # so the log never keeps a torn record that later records would follow.
            try:
                os.ftruncate(self._fd, self._end)
            except OSError:  # pragma: no cover - reopening the log repairs a torn tail
                pass
            raise
        self._written += len(data)
        self._end += len(data)

    def _should_rotate(self, rotation: Rotation) -> bool:
        if rotation.max_bytes is not None and self._end + self._buffer_bytes >= rotation.max_bytes:
            return self.next_seq > self._first_seq  # never rotate an empty segment
        if rotation.interval is not None and self._now() - self._created >= rotation.interval:
            return self.next_seq > self._first_seq
        return False

    def _rotate(self, rotation: Rotation) -> None:
        if self.shared and os.stat(self.path).st_ino != self._inode:
            self._open_active()  # another writer rotated first: follow it
            return
        self._write_buffer()
        with self._sync_lock:
            _sync(self._fd)
            self._synced = self._written
            self._unsynced_records = 0
            os.rename(self.path, rotated_name(self.path, self._first_seq))
            os.close(self._fd)
            self._fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o640)
            self._inode = os.fstat(self._fd).st_ino
            self._write_header(self.next_seq, self.previous)
            self._end = os.fstat(self._fd).st_size
        self._apply_retention(rotation)

    def _apply_retention(self, rotation: Rotation) -> None:
        rotated = [f for f in log_files(self.path) if f != self.path]
        doomed: list[Path] = []
        if rotation.keep is not None and len(rotated) > rotation.keep:
            doomed = rotated[: len(rotated) - rotation.keep]
        if rotation.max_age is not None:
            limit = time.time() - rotation.max_age
            doomed += [f for f in rotated if f not in doomed and f.stat().st_mtime < limit]
        for old in doomed:
            old.unlink(missing_ok=True)
            _log.info("audit log retention: deleted %s", old)

    # ---- durability ----------------------------------------------------------------
    def sync_to(self, position: int) -> None:
        """Return once every byte up to ``position`` is on stable storage (group commit)."""
        with self._sync_lock:
            if self._synced >= position or self._closed:
                return
            target = self._written
            _sync(self._fd)
            self._synced = max(self._synced, target)

    def flush(self, *, sync: bool) -> None:
        """Hand buffered records to the OS and, if ``sync``, wait for stable storage.

        Also rotates a file whose time is up, so an idle log still rotates.
        """
        with self.mutex:
            if self._closed:
                return
            rotation = self._rotation
            if self._buffer or rotation is not None:
                self._lock_file()
                try:
                    self._write_buffer()
                    if rotation is not None and self._should_rotate(rotation):
                        self._rotate(rotation)
                finally:
                    self._unlock_file()
            self._unsynced_records = 0
            position = self._written
        if sync:
            self.sync_to(position)

    def _flush_loop(self, interval: float) -> None:
        flushed = time.monotonic()
        while True:
            counted = self._wake.wait(interval)
            self._wake.clear()
            if self._closed:
                return
            try:
                now = time.monotonic()
                if counted and now - flushed < interval:
                    # fsync_every records were written: make them durable
                    self.sync_to(self._sync_due)
                else:  # the interval passed: also write what is still buffered
                    self.flush(sync=self.durability != "none")
                    flushed = now
            except OSError as exc:  # pragma: no cover - disk full, I/O error
                _log.error("audit log %s: background flush failed: %s", self.path, exc)

    def abandon(self) -> None:
        """Forget buffered records and close this process's descriptors (child after fork).

        The parent still owns the records and the lock: flock locks belong to the open
        file description, which the parent keeps open.
        """
        self._closed = True
        self._buffer.clear()
        os.close(self._fd)
        os.close(self._lock_fd)

    def close(self) -> None:
        """Write everything, sync (unless durability is ``none``) and release the lock."""
        with self.mutex:
            if self._closed:
                return
            self._write_buffer()
            self._closed = True
        self._wake.set()
        if self._flusher is not None:
            self._flusher.join()
        with self._sync_lock:
            if self.durability != "none":
                _sync(self._fd)
            os.close(self._fd)
            os.close(self._lock_fd)  # releases the exclusive flock
