"""Viewers: terminal safety, tail, follow (with rotation) and stats."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from maestro_audit_logger import AuditLogger, MemorySink, Rotation
from maestro_audit_logger.viewers import follow, format_table, sanitize, stats, tail

HOSTILE = [
    "\x1b[2J\x1b[31mred",  # ANSI CSI: clear screen, colour
    "\x1b]0;owned\x07",  # OSC: set window title
    "\x9b31m",  # 8-bit CSI
    "bell\x07",
    "back\x08space",
    "cr\rreturn",
    "nl\nline",
    "del\x7f",
    "rtl\u202eoverride",
    "iso\u2066late",
    "ls\u2028ps\u2029",
    "zero\u200bwidth",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_sanitize_removes_every_control_character(text: str) -> None:
    clean = sanitize(text)
    assert clean.isprintable()
    assert all(ch not in clean for ch in "\x1b\x07\x9b\r\n\u202e\u2028")


def test_table_never_passes_escapes_through() -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory]) as audit:
        for text in HOSTILE:
            audit.log(text, actor=text, resource=f"doc:{text}", reason=text)
    rendered = "\n".join(format_table(memory.events, max_width=200))
    assert rendered.replace("\n", "").isprintable()
    assert "\\x1b[2J" in rendered and "\\u202e" in rendered


def test_table_cuts_long_cells() -> None:
    memory = MemorySink()
    with AuditLogger(sinks=[memory]) as audit:
        audit.log("a" * 100, actor="b")
    row = format_table(memory.events, max_width=10)[1]
    assert "aaaaaaaaa…" in row and "a" * 11 not in row


def test_tail_returns_the_last_matching_events(log_path: Path) -> None:
    with AuditLogger(log_path, rotation=Rotation(max_bytes=2048)) as audit:
        for i in range(50):
            audit.log("even" if i % 2 == 0 else "odd", actor="a", i=i)
    assert [e.metadata["i"] for e in tail(log_path, 3)] == [47, 48, 49]
    assert [e.metadata["i"] for e in tail(log_path, 2, lambda e: e.action == "even")] == [46, 48]
    assert tail(log_path, 0) == []


def test_follow_sees_every_new_event_across_rotations(log_path: Path) -> None:
    stop = threading.Event()
    with AuditLogger(log_path, durability="always", rotation=Rotation(max_bytes=1500)) as audit:
        audit.log("before", actor="a")
        stream = follow(log_path, stop=stop, poll_interval=0.01)  # positioned at the end now
        for i in range(20):  # several rotations happen before the follower reads anything
            audit.log("live", actor="a", i=i)
        received = [next(stream) for _ in range(20)]
        audit.log("later", actor="a")
        received.append(next(stream))
    stop.set()
    assert [e.metadata.get("i") for e in received[:20]] == list(range(20))
    assert [e.seq for e in received] == list(range(2, 23))
    rotated = [p for p in log_path.parent.iterdir() if p.name.split(".")[-1].isdigit()]
    assert len(rotated) >= 3  # the writer did rotate while we followed


def test_follow_from_start_and_stop(log_path: Path) -> None:
    stop = threading.Event()
    with AuditLogger(log_path, durability="always") as audit:
        audit.log("one", actor="a")
        stream = follow(log_path, stop=stop, poll_interval=0.01, from_start=True)
        assert next(stream).action == "one"
        stop.set()
        assert list(stream) == []


def test_follow_accepts_the_directory_of_the_log(log_path: Path) -> None:
    # The CLI's `tail -f DIR` used to print the tail, then fail with "Is a directory".
    stop = threading.Event()
    with AuditLogger(log_path, durability="always") as audit:
        audit.log("one", actor="a")
        stream = follow(log_path.parent, stop=stop, poll_interval=0.01)
        audit.log("two", actor="a")
        assert next(stream).action == "two"
        stop.set()
        assert list(stream) == []


def test_stats_counts_by_outcome_action_actor(log_path: Path) -> None:
    with AuditLogger(log_path) as audit:
        audit.log("user.login", actor="alice")
        audit.log("user.login", actor="bob", outcome="failure")
        audit.log("invoice.delete", actor="alice", outcome="denied")
    result = stats(log_path)
    assert (result.events, result.first_seq, result.last_seq, result.files) == (3, 1, 3, 1)
    assert result.outcomes == {"success": 1, "failure": 1, "denied": 1}
    assert result.to_dict()["top_actions"] == {"user.login": 2, "invoice.delete": 1}
    assert result.actors.most_common(1) == [("alice", 2)]
    assert "events: 3" in result.lines()[0]
