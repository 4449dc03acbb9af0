"""AuditLogger: the event model, validation before writing, lifecycle, reopen."""

from __future__ import annotations

import json
import math
import uuid
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maestro_audit_logger import (
    Actor,
    AuditLogger,
    ConfigError,
    KeyMismatchError,
    LogClosedError,
    LogLockedError,
    MemorySink,
    Outcome,
    RecordTooLargeError,
    Resource,
    ValidationError,
    read_events,
    verify,
)

if TYPE_CHECKING:
    from conftest import FakeClock


def test_event_has_every_field_of_the_model(log_path: Path, key: bytes, clock: FakeClock) -> None:
    with AuditLogger(log_path, key=key, service="billing", clock=clock) as audit:
        event = audit.log(
            "invoice.approve",
            actor=Actor("alice", "user", ip="192.0.2.7", user_agent="curl/8"),
            resource=Resource("invoice", "42"),
            outcome=Outcome.DENIED,
            reason="over limit",
            correlation_id="req-1",
            amount=120,
        )
    assert event.seq == 1
    assert uuid.UUID(event.id).version == 8
    assert event.time == event.recorded == "2027-01-15T08:00:00.000000Z"
    assert event.recorded_time == datetime(2027, 1, 15, 8, tzinfo=UTC)
    assert event.actor == Actor("alice", "user", "192.0.2.7", "curl/8")
    assert event.resource == Resource("invoice", "42")
    assert event.outcome == "denied"
    assert (event.reason, event.correlation_id) == ("over limit", "req-1")
    assert event.source.service == "billing" and event.source.pid > 0
    assert dict(event.metadata) == {"amount": 120}
    assert event.schema == 1 and len(event.chain) == 64
    (stored,) = list(read_events(log_path))
    assert stored == event


def test_sequence_is_gapless_and_ids_unique(log_path: Path) -> None:
    with AuditLogger(log_path) as audit:
        events = [audit.log("a.b", actor=f"user{i % 3}") for i in range(500)]
    assert [e.seq for e in events] == list(range(1, 501))
    assert len({e.id for e in events}) == 500


def test_event_time_can_differ_from_recorded_time(clock: FakeClock) -> None:
    with AuditLogger(clock=clock) as audit:
        happened = datetime(2027, 1, 15, 9, 0, tzinfo=timezone(timedelta(hours=1)))
        event = audit.log("door.open", actor="bob", event_time=happened)
    assert event.time == "2027-01-15T08:00:00.000000Z"
    with AuditLogger() as audit, pytest.raises(ValidationError, match="no time zone"):
        audit.log("door.open", actor="bob", event_time=datetime(2027, 1, 1))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"ratio": math.nan}, "NaN"),
        ({"ratio": math.inf}, "NaN or Infinity"),
        ({"nested": {"deep": [1, -math.inf]}}, r"nested.\.deep\[1\]"),
        ({"when": datetime(2026, 1, 1)}, "datetime, which is not JSON"),
        ({"blob": b"bytes"}, "bytes, which is not JSON"),
        ({"mapping": {1: "x"}}, "non-string key 1"),
        ({"reason": "bad \udc80 text"}, "reason contains a lone surrogate"),
        ({"note": "\ud800"}, "metadata field 'note' contains a lone surrogate"),
        ({"actor": "eve\udfff"}, "actor contains a lone surrogate"),
        ({"outcome": ["success"]}, "outcome must be one of"),
        ({"resource": ["doc", "1"]}, "resource must be"),
        ({"outcome": "maybe"}, "outcome must be one of"),
        ({"resource": "no-colon"}, "must be written 'type:id'"),
        ({"resource": 42}, "resource must be"),
        ({"actor": ""}, "actor must not be empty"),
        ({"actor": 7}, "actor must be a str id or an Actor"),
        ({"correlation_id": 5}, "correlation_id must be a str"),
    ],
)
def test_invalid_events_are_rejected_before_anything_is_written(
    log_path: Path, kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"actor": "alice", **kwargs}
    with AuditLogger(log_path) as audit:
        audit.log("first", actor="alice")
        size = log_path.stat().st_size
        with pytest.raises(ValidationError, match=message):
            audit.log("second", **arguments)  # type: ignore[arg-type]
        audit.flush()
        assert log_path.stat().st_size > size  # first record flushed, nothing else
        assert audit.log("third", actor="alice").seq == 2  # no sequence number was used up
    assert [e.action for e in read_events(log_path)] == ["first", "third"]
    assert verify(log_path).ok


@pytest.mark.parametrize("action", ["", "x" * 257, None, 5])
def test_bad_actions_are_rejected(action: object) -> None:
    with AuditLogger() as audit, pytest.raises(ValidationError, match="action must be"):
        audit.log(action, actor="alice")  # type: ignore[arg-type]


def test_oversized_records_are_rejected_with_the_limit_named(log_path: Path) -> None:
    with AuditLogger(log_path, max_record_bytes=2048) as audit:
        audit.log("small", actor="a", note="x" * 1000)
        with pytest.raises(RecordTooLargeError, match="the limit is 2048"):
            audit.log("large", actor="a", note="x" * 4000)
    assert [e.action for e in read_events(log_path)] == ["small"]


def test_line_is_json_with_raw_unicode_and_one_line_per_record(log_path: Path) -> None:
    text = "line\nbreak \u2028 sep \u2029 para \x1b[31m é"
    with AuditLogger(log_path) as audit:
        audit.log("note", actor="alice", reason=text, extra={"k": text})
    lines = log_path.read_bytes().split(b"\n")
    assert lines[-1] == b"" and len(lines) == 3  # header, one record, final newline
    record = json.loads(lines[1])
    assert record["reason"] == text and record["metadata"]["extra"]["k"] == text
    assert "\u2028".encode() in lines[1]  # kept as UTF-8, not split on


def test_context_manager_closes_and_closed_logger_refuses(log_path: Path) -> None:
    with AuditLogger(log_path) as audit:
        audit.log("a", actor="b")
    assert audit.closed
    audit.close()  # idempotent
    with pytest.raises(LogClosedError):
        audit.log("a", actor="b")


def test_reopen_continues_the_chain(log_path: Path, key: bytes) -> None:
    for round_ in range(3):
        with AuditLogger(log_path, key=key) as audit:
            assert audit.log("tick", actor="cron").seq == round_ * 10 + 1
            for _ in range(9):
                audit.log("tick", actor="cron")
    result = verify(log_path, key=key)
    assert result.ok and result.records == 30 and result.last_seq == 30


def test_reopen_with_another_key_is_refused(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key) as audit:
        audit.log("a", actor="b")
    with pytest.raises(KeyMismatchError, match="another key"):
        AuditLogger(log_path, key=b"another-key-0123456789abcdef0123")
    with pytest.raises(KeyMismatchError):
        AuditLogger(log_path)  # unkeyed writer on a keyed log


def test_second_exclusive_writer_is_refused(log_path: Path) -> None:
    with AuditLogger(log_path) as audit:
        with pytest.raises(LogLockedError, match="shared=True"):
            AuditLogger(log_path)
        audit.log("still", actor="works")
    with AuditLogger(log_path) as again:  # lock released on close
        assert again.log("x", actor="y").seq == 2


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"durability": "sometimes"}, "durability must be one of"),
        ({"key": b"short"}, "at least 16 bytes"),
        ({"algorithm": "md5", "key": b"k" * 32}, "algorithm must be one of"),
        ({"algorithm": "hmac-sha256"}, "needs a key"),
        ({"fsync_every": 0}, "fsync_every must be a positive integer"),
        ({"max_record_bytes": True}, "max_record_bytes"),
        ({"fsync_interval": -1}, "fsync_interval"),
        # Non-finite intervals used to crash the background fsync thread.
        ({"fsync_interval": float("inf")}, "fsync_interval must be a positive, finite"),
        ({"fsync_interval": float("nan")}, "fsync_interval must be a positive, finite"),
        ({"fsync_interval": True}, "fsync_interval"),
    ],
)
def test_bad_arguments_raise_config_errors(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        AuditLogger(**kwargs)  # type: ignore[arg-type]


def test_a_directory_as_path_is_refused_without_leaving_a_lock_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory; pass the path of the log file"):
        AuditLogger(tmp_path / "")
    assert list(tmp_path.parent.glob(f"{tmp_path.name}.lock")) == []


def test_memory_only_logger_feeds_sinks_with_a_chain() -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory]) as audit:
        for i in range(3):
            audit.log("a", actor="b", i=i)
    assert [e.seq for e in memory.events] == [1, 2, 3]
    assert len({e.chain for e in memory.events}) == 3
    assert all(line.endswith(b'"}\n') for line in memory.lines)


def test_algorithms_all_verify(tmp_path: Path, key: bytes) -> None:
    for algorithm, secret in (("blake2b", key), ("hmac-sha256", key), ("sha256", None)):
        path = tmp_path / algorithm / "audit.jsonl"
        with AuditLogger(path, key=secret, algorithm=algorithm) as audit:  # type: ignore[arg-type]
            assert audit.algorithm == algorithm
            for i in range(20):
                audit.log("a", actor="b", i=i)
        assert verify(path, key=secret).ok


def test_repr_never_shows_the_key(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key) as audit:
        assert key.decode() not in repr(audit)
        assert "blake2b" in repr(audit)
