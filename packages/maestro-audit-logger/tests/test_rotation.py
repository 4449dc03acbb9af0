"""Size and time rotation, retention, and the chain across files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from maestro_audit_logger import AuditLogger, ConfigError, Rotation, read_events, verify

if TYPE_CHECKING:
    from conftest import FakeClock


def rotated(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p.name.split(".")[-1].isdigit())


def test_size_rotation_keeps_files_near_the_limit(log_path: Path) -> None:
    with AuditLogger(log_path, rotation=Rotation(max_bytes=8192)) as audit:
        for i in range(300):
            audit.log("a", actor="b", i=i)
    files = rotated(log_path)
    assert len(files) >= 5
    for file in files:
        assert file.stat().st_size < 8192 + 1024  # at most one record past the limit
        first_seq = int(file.name.rsplit(".", 1)[1])
        assert next(read_events(file)).seq == first_seq  # named after its first record
    assert [e.seq for e in read_events(log_path)] == list(range(1, 301))


def test_time_rotation_uses_the_injected_clock(log_path: Path, clock: FakeClock) -> None:
    with AuditLogger(log_path, clock=clock, rotation=Rotation(interval=3600)) as audit:
        audit.log("a", actor="b")
        audit.flush()
        assert rotated(log_path) == []
        clock.advance(3601)
        audit.flush()  # an idle log rotates too (the flusher calls this)
        audit.log("c", actor="d")
    (old,) = rotated(log_path)
    assert [e.action for e in read_events(old)] == ["a"]
    assert verify(log_path).records == 2


def test_retention_by_count(log_path: Path) -> None:
    with AuditLogger(log_path, rotation=Rotation(max_bytes=2048, keep=3)) as audit:
        for i in range(200):
            audit.log("a", actor="b", i=i)
    assert len(rotated(log_path)) == 3
    result = verify(log_path)
    assert result.ok and not result.anchored and result.last_seq == 200
    assert result.first_seq > 1


def test_retention_by_age(log_path: Path) -> None:
    import os

    with AuditLogger(log_path, rotation=Rotation(max_bytes=2048, max_age=3600)) as audit:
        for i in range(60):
            audit.log("a", actor="b", i=i)
        for old in rotated(log_path)[:2]:
            os.utime(old, (1, 1))  # make two files look ancient
        for i in range(60):
            audit.log("a", actor="b", i=i)
    assert verify(log_path).ok  # the oldest files went, the chain that remains holds


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": 0}, "rotation.max_bytes must be a positive integer, not 0"),
        ({"max_bytes": 1.5}, "rotation.max_bytes must be a positive integer"),
        ({"interval": -1.0}, "rotation.interval must be a positive number of seconds"),
        ({"interval": "daily"}, "rotation.interval must be a positive number of seconds"),
        ({"max_age": float("nan")}, "rotation.max_age must be a positive number of seconds"),
        ({"keep": True}, "rotation.keep must be a positive integer"),
        ({"keep": 2.5}, "rotation.keep must be a positive integer"),
    ],
)
def test_rotation_checks_its_arguments(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        Rotation(**kwargs)  # type: ignore[arg-type]


def test_reopen_after_crash_between_rename_and_header(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key, rotation=Rotation(max_bytes=2048)) as audit:
        for i in range(40):
            audit.log("a", actor="b", i=i)
    last_rotated = rotated(log_path)[-1]
    log_path.unlink()  # as if the process died right after renaming the active file
    with AuditLogger(log_path, key=key) as audit:
        event = audit.log("resumed", actor="b")
    assert event.seq == next(iter(reversed(list(read_events(last_rotated))))).seq + 1
    assert verify(log_path, key=key).ok
