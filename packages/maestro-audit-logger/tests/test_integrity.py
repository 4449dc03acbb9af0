"""Tamper evidence: every kind of change is reported with the first bad sequence number."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from maestro_audit_logger import AuditLogger, Checkpoints, Problem, Rotation, verify
from maestro_audit_logger.integrity import Chain

RECORDS = 10


def write_log(path: Path, key: bytes | None, count: int = RECORDS) -> list[bytes]:
    with AuditLogger(path, key=key) as audit:
        for i in range(count):
            audit.log("file.read", actor=f"user{i}", resource=f"file:{i}", n=i)
    return path.read_bytes().splitlines(keepends=True)  # [header, seq 1, seq 2, ...]


def rewrite(path: Path, lines: list[bytes]) -> None:
    path.write_bytes(b"".join(lines))


@pytest.fixture
def lines(log_path: Path, key: bytes) -> list[bytes]:
    return write_log(log_path, key)


def test_intact_log_verifies(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    result = verify(log_path, key=key)
    assert result.ok and bool(result)
    assert (result.records, result.first_seq, result.last_seq) == (RECORDS, 1, RECORDS)
    assert result.anchored and result.problem is None and result.bad_seq is None


def test_edited_byte_is_reported_at_its_record(
    log_path: Path, key: bytes, lines: list[bytes]
) -> None:
    lines[5] = lines[5].replace(b'"user4"', b'"user9"')
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.ok, result.problem, result.bad_seq) == (False, Problem.EDITED, 5)
    assert result.records == 4 and result.last_seq == 4


def test_edited_sequence_number_is_an_edit(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    lines[5] = lines[5].replace(b'{"seq":5,', b'{"seq":7,')
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.EDITED, 5)


def test_edited_chain_value_is_an_edit(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    chain_start = len(lines[5]) - 67
    flipped = b"0" if lines[5][chain_start : chain_start + 1] != b"0" else b"1"
    lines[5] = lines[5][:chain_start] + flipped + lines[5][chain_start + 1 :]
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.EDITED, 5)
    assert "chain value" in result.message


def test_deleted_record(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    del lines[5]
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.DELETED, 5)


def test_deleted_records_range_is_named(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    del lines[3:6]
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.DELETED, 3)
    assert "3..5" in result.message


def test_reordered_records(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    lines[5], lines[6] = lines[6], lines[5]
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.REORDERED, 5)


def test_inserted_forged_record(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    forged = lines[5].replace(b'"user4"', b'"mallory"')
    lines.insert(5, forged)
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.INSERTED, 5)


def test_inserted_replayed_record(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    lines.insert(6, lines[2])  # a copy of seq 2 placed after seq 5
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.INSERTED, 6)


def test_truncated_inside_the_last_record(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    lines[-1] = lines[-1][:-20]
    rewrite(log_path, lines)
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.TRUNCATED, RECORDS)
    assert result.records == RECORDS - 1


def test_deleted_segment_header(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    rewrite(log_path, lines[1:])
    result = verify(log_path, key=key)
    assert (result.ok, result.problem, result.bad_seq) == (False, Problem.DELETED, 1)
    assert "segment header of audit.jsonl is missing" in result.message


def test_torn_segment_header(log_path: Path, key: bytes, lines: list[bytes]) -> None:
    rewrite(log_path, [lines[0][:40]])  # a crash while the header was being written
    result = verify(log_path, key=key)
    assert (result.ok, result.problem, result.bad_seq) == (False, Problem.TRUNCATED, 1)
    assert "torn" in result.message


def test_deleted_header_of_a_rotated_segment(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key, rotation=Rotation(max_bytes=4096)) as audit:
        for i in range(200):
            audit.log("file.read", actor="alice", i=i)
    rotated = sorted(p for p in log_path.parent.iterdir() if p.name.split(".")[-1].isdigit())
    for position, segment in ((0, rotated[0]), (1, rotated[1])):
        original = segment.read_bytes()
        segment.write_bytes(original.split(b"\n", 1)[1])
        result = verify(log_path, key=key)
        first_seq = 1 if position == 0 else int(segment.name.split(".")[-1])
        assert (result.problem, result.bad_seq) == (Problem.DELETED, first_seq)
        segment.write_bytes(original)


def test_wrong_key_and_missing_key(log_path: Path, lines: list[bytes]) -> None:
    wrong = verify(log_path, key=b"not-the-key-0123456789abcdef0123")
    assert (wrong.problem, wrong.bad_seq) == (Problem.WRONG_KEY, 1)
    missing = verify(log_path)
    assert (missing.problem, missing.bad_seq) == (Problem.KEY_REQUIRED, 1)


def test_unkeyed_rewrite_of_a_keyed_log_is_caught(log_path: Path, key: bytes) -> None:
    write_log(log_path, None)  # an attacker re-creates the trail without the key
    result = verify(log_path, key=key)
    assert result.problem is Problem.WRONG_KEY
    assert "not keyed" in result.message


def test_unkeyed_log_detects_accidental_damage(log_path: Path) -> None:
    lines = write_log(log_path, None)
    assert verify(log_path).ok
    lines[3] = lines[3].replace(b"file.read", b"file.rm!!")
    rewrite(log_path, lines)
    assert (verify(log_path).problem, verify(log_path).bad_seq) == (Problem.EDITED, 3)


_TEMPLATE: dict[str, bytes] = {}


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(1, 5), offset=st.integers(0, 10_000), delta=st.integers(1, 255))
def test_any_changed_byte_is_caught_at_its_record(
    tmp_path: Path, key: bytes, seq: int, offset: int, delta: int
) -> None:
    if "log" not in _TEMPLATE:
        write_log(tmp_path / "template" / "audit.jsonl", key, count=5)
        _TEMPLATE["log"] = (tmp_path / "template" / "audit.jsonl").read_bytes()
    path = tmp_path / f"case-{seq}-{offset}-{delta}" / "audit.jsonl"
    path.parent.mkdir(exist_ok=True)
    lines = _TEMPLATE["log"].splitlines(keepends=True)
    line = lines[seq]
    position = offset % len(line)
    lines[seq] = line[:position] + bytes([(line[position] + delta) % 256]) + line[position + 1 :]
    rewrite(path, lines)
    result = verify(path, key=key)
    assert not result.ok, (position, line[position : position + 1], len(line))
    assert result.bad_seq == seq
    assert result.records == seq - 1


def test_chain_continues_across_rotation(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key, rotation=Rotation(max_bytes=4096)) as audit:
        for i in range(200):
            audit.log("file.read", actor="alice", i=i)
    files = sorted(log_path.parent.glob("audit.jsonl*"))
    assert len([f for f in files if f.name != "audit.jsonl.lock"]) > 3
    result = verify(log_path, key=key)
    assert result.ok and result.records == 200
    assert verify(log_path.parent, key=key).records == 200  # a directory works too


def test_deleted_segment_in_the_middle(log_path: Path, key: bytes) -> None:
    with AuditLogger(log_path, key=key, rotation=Rotation(max_bytes=4096)) as audit:
        for i in range(200):
            audit.log("file.read", actor="alice", i=i)
    rotated = sorted(p for p in log_path.parent.iterdir() if p.name.split(".")[-1].isdigit())
    victim = rotated[1]
    first_missing = int(victim.name.split(".")[-1])
    victim.unlink()
    result = verify(log_path, key=key)
    assert (result.problem, result.bad_seq) == (Problem.DELETED, first_missing)


def test_checkpoints_catch_truncation_at_the_end(tmp_path: Path, key: bytes) -> None:
    log_path, points = tmp_path / "audit.jsonl", tmp_path / "elsewhere" / "points.jsonl"
    points.parent.mkdir()
    with AuditLogger(log_path, key=key, checkpoints=Checkpoints(points, every=5)) as audit:
        for i in range(12):
            audit.log("a", actor="b", i=i)
    assert verify(log_path, key=key, checkpoints=points).ok
    lines = log_path.read_bytes().splitlines(keepends=True)
    rewrite(log_path, lines[:-3])  # whole records cut: invisible without checkpoints
    assert verify(log_path, key=key).ok
    result = verify(log_path, key=key, checkpoints=points)
    assert (result.problem, result.bad_seq) == (Problem.TRUNCATED, 10)


def test_checkpoints_catch_a_resealed_log(tmp_path: Path, key: bytes) -> None:
    log_path, points = tmp_path / "audit.jsonl", tmp_path / "points.jsonl"
    with AuditLogger(log_path, key=key, checkpoints=Checkpoints(points, every=5)) as audit:
        for i in range(10):
            audit.log("a", actor="b", i=i)
    log_path.unlink()
    write_log(log_path, key)  # an insider with the key writes a different history
    result = verify(log_path, key=key, checkpoints=points)
    assert (result.problem, result.bad_seq) == (Problem.CHECKPOINT_MISMATCH, 5)


def test_hmac_chain_matches_the_stdlib_hmac(key: bytes) -> None:
    chain = Chain.create(key, "hmac-sha256")
    expected = hmac.new(key, b"prev" + b"body", hashlib.sha256).hexdigest().encode()
    assert chain.seal(b"prev", b"body") == expected
    long_key = key * 5  # longer than the SHA-256 block: hashed first, as RFC 2104 says
    expected = hmac.new(long_key, b"x", hashlib.sha256).hexdigest().encode()
    assert Chain.create(long_key, "hmac-sha256").seal(b"", b"x") == expected


def test_keyed_blake2b_matches_hashlib(key: bytes) -> None:
    expected = hashlib.blake2b(b"prev" + b"body", key=key, digest_size=32).hexdigest().encode()
    assert Chain.create(key).seal(b"prev", b"body") == expected
