"""Secondary sinks, the logging bridges and the bounded queue."""

from __future__ import annotations

import io
import json
import logging
import sqlite3
import threading
from pathlib import Path

import pytest

from maestro_audit_logger import (
    AuditEvent,
    AuditHandler,
    AuditLogger,
    BoundedQueue,
    CallableSink,
    Checkpoints,
    ConfigError,
    LogClosedError,
    LoggingSink,
    MemorySink,
    SinkError,
    SQLiteSink,
    StreamSink,
    read_events,
    verify,
)


def test_every_sink_gets_the_exact_sealed_line(log_path: Path, tmp_path: Path) -> None:
    memory, stream, seen = MemorySink(), io.StringIO(), []
    database = tmp_path / "audit.db"
    sinks = [memory, StreamSink(stream), CallableSink(seen.append), SQLiteSink(database, batch=3)]
    with AuditLogger(log_path, sinks=sinks, durability="always") as audit:
        for i in range(7):
            audit.log("doc.read", actor="alice", resource=f"doc:{i}", i=i)
    file_lines = log_path.read_bytes().splitlines(keepends=True)[1:]
    assert memory.lines == file_lines
    assert stream.getvalue().encode() == b"".join(file_lines)
    assert [e.seq for e in seen] == list(range(1, 8))
    with sqlite3.connect(database) as db:
        rows = db.execute("SELECT seq, resource_id, line FROM audit_events ORDER BY seq").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(i + 1, str(i)) for i in range(7)]
    assert [r[2].encode() + b"\n" for r in rows] == file_lines


def test_failing_sink_raises_after_the_record_is_stored(log_path: Path) -> None:
    def broken(event: AuditEvent) -> None:
        raise RuntimeError("disk on fire")

    memory = MemorySink()
    with AuditLogger(log_path, sinks=[CallableSink(broken), memory]) as audit:
        with pytest.raises(SinkError, match="seq 1 is in the primary log.*disk on fire"):
            audit.log("a", actor="b")
        assert len(memory.events) == 1  # the other sinks still got it
    assert verify(log_path).records == 1


def test_failing_checkpoints_raise_sink_error_and_close_still_writes_everything(
    log_path: Path,
) -> None:
    def unreachable(line: bytes) -> None:
        raise OSError("checkpoint store unreachable")

    audit = AuditLogger(log_path, checkpoints=Checkpoints(unreachable, every=2))
    audit.log("a", actor="b")
    with pytest.raises(SinkError, match="seq 2 is in the primary log.*unreachable"):
        audit.log("a", actor="b")
    audit.log("a", actor="b")
    # The final checkpoint fails too; the buffered records must still reach the file
    # and the file lock be released (both used to be skipped).
    with pytest.raises(SinkError, match="seq 3 is in the primary log"):
        audit.close()
    assert audit.closed
    assert verify(log_path).records == 3
    with AuditLogger(log_path) as again:
        assert again.log("a", actor="b").seq == 4


def test_a_failing_sink_does_not_cost_the_checkpoint(log_path: Path) -> None:
    points: list[bytes] = []

    def broken(event: AuditEvent) -> None:
        raise RuntimeError("down")

    with AuditLogger(
        log_path, sinks=[CallableSink(broken)], checkpoints=Checkpoints(points.append, every=1)
    ) as audit:
        with pytest.raises(SinkError, match="down"):
            audit.log("a", actor="b")
        assert [json.loads(p)["checkpoint"]["seq"] for p in points] == [1]


def test_a_sink_failing_to_close_does_not_keep_the_log_open(log_path: Path) -> None:
    class Stuck(MemorySink):
        def close(self) -> None:
            raise RuntimeError("cannot close")

    memory = MemorySink()
    audit = AuditLogger(log_path, sinks=[Stuck(), memory])
    audit.log("a", actor="b")
    with pytest.raises(SinkError, match="Stuck: cannot close"):
        audit.close()
    assert verify(log_path).records == 1
    with AuditLogger(log_path) as again:  # the lock was released
        assert again.log("a", actor="b").seq == 2


def test_logging_sink_forwards_records(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="audit.out")
    with AuditLogger(sinks=[LoggingSink("audit.out")]) as audit:
        audit.log("a.ok", actor="b")
        audit.log("a.no", actor="b", outcome="denied")
    levels = [(r.levelno, json.loads(r.getMessage())["action"]) for r in caplog.records]
    assert levels == [(logging.INFO, "a.ok"), (logging.WARNING, "a.no")]
    assert caplog.records[1].audit_event.outcome == "denied"


def test_audit_handler_bridges_stdlib_logging(log_path: Path) -> None:
    app = logging.getLogger("test.bridge")
    app.propagate = False
    with AuditLogger(log_path) as audit:
        handler = AuditHandler(audit)
        app.addHandler(handler)
        try:
            app.warning(
                "invoice.delete",
                extra={
                    "actor": "bob",
                    "resource": "invoice:9",
                    "outcome": "denied",
                    "audit": {"ticket": "T-1"},
                },
            )
        finally:
            app.removeHandler(handler)
    (event,) = read_events(log_path)
    assert (event.action, event.actor.id, event.outcome) == ("invoice.delete", "bob", "denied")
    assert dict(event.metadata) == {"ticket": "T-1", "logger": "test.bridge", "level": "WARNING"}


class _GatedSink:
    """A sink that blocks the writer thread until released (to fill the queue for sure)."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.events: list[AuditEvent] = []

    def emit(self, event: AuditEvent, line: bytes) -> None:
        self.entered.set()
        assert self.release.wait(60)
        self.events.append(event)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        pass


def test_queue_drop_policy_counts_and_records_the_loss(log_path: Path) -> None:
    gate = _GatedSink()
    audit = AuditLogger(log_path, sinks=[gate], queue=BoundedQueue(2, when_full="drop"))
    first = audit.log("q", actor="a", i=0)
    assert (first.seq, first.chain) == (0, "")  # queued, not yet sequenced
    assert gate.entered.wait(60)  # the writer holds event 0; the queue is empty
    for i in range(1, 6):
        audit.log("q", actor="a", i=i)  # 1 and 2 fit, 3..5 are dropped
    assert audit.dropped == 3
    gate.release.set()
    audit.close()
    events = list(read_events(log_path))
    assert [e.metadata.get("i") for e in events if e.action == "q"] == [0, 1, 2]
    (notice,) = [e for e in events if e.action == "audit.events_dropped"]
    assert notice.metadata["count"] == 3 and notice.outcome == "error"
    assert verify(log_path).ok


def test_queue_block_policy_loses_nothing(log_path: Path) -> None:
    with AuditLogger(log_path, queue=BoundedQueue(4)) as audit:
        results = [audit.log("q", actor="a", i=i) for i in range(2_000)]
        audit.flush()
        assert audit.dropped == 0
    assert all(r.seq == 0 for r in results)
    assert [e.metadata["i"] for e in read_events(log_path)] == list(range(2_000))


def test_queue_mode_refuses_events_once_close_has_stopped_the_writer(log_path: Path) -> None:
    audit = AuditLogger(log_path, queue=BoundedQueue(10))
    audit.log("before", actor="a")
    audit.flush()  # the writer is idle: it needs the mutex only to write an event
    # Stall close() right after it stopped the writer thread (it takes the mutex next):
    # an event accepted now would never be written. It used to be accepted.
    audit._mutex.acquire()
    closer = threading.Thread(target=audit.close)
    closer.start()
    try:
        audit._writer.join(timeout=60)  # type: ignore[union-attr]
        assert not audit._writer.is_alive()  # type: ignore[union-attr]
        with pytest.raises(LogClosedError):
            audit.log("during close", actor="a")
    finally:
        audit._mutex.release()
        closer.join(timeout=60)
    assert [e.action for e in read_events(log_path)] == ["before"]


def test_queue_mode_still_validates_in_the_caller() -> None:
    with AuditLogger(queue=BoundedQueue(4)) as audit, pytest.raises(ValueError, match="NaN"):
        audit.log("q", actor="a", x=float("nan"))


@pytest.mark.parametrize("target", [None, "", 42])
def test_checkpoints_check_their_target(target: object) -> None:
    # None used to pass and fail later, inside AuditLogger, with a TypeError from Path().
    with pytest.raises(ConfigError, match="checkpoints.target must be a file path or a callable"):
        Checkpoints(target)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"maxsize": 0}, "maxsize"), ({"when_full": "explode"}, "when_full")],
)
def test_bounded_queue_checks_its_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        BoundedQueue(**kwargs)  # type: ignore[arg-type]


def test_sqlite_sink_copy_can_be_re_verified(tmp_path: Path, key: bytes) -> None:
    sink = SQLiteSink(tmp_path / "copy.db")
    log_path = tmp_path / "audit.jsonl"
    with AuditLogger(log_path, key=key, sinks=[sink]) as audit:
        for i in range(10):
            audit.log("a", actor="b", i=i)
    with sqlite3.connect(tmp_path / "copy.db") as db:
        lines = [r[0] for r in db.execute("SELECT line FROM audit_events ORDER BY seq")]
    header = log_path.read_bytes().splitlines(keepends=True)[0]
    rebuilt = tmp_path / "rebuilt" / "audit.jsonl"
    rebuilt.parent.mkdir()
    rebuilt.write_bytes(header + "".join(f"{line}\n" for line in lines).encode())
    assert verify(rebuilt, key=key).records == 10
