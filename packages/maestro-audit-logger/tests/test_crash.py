"""Crash safety with real processes, SIGKILL and the real file system."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from maestro_audit_logger import AuditLogger, read_events, verify

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and flock")

WRITER = textwrap.dedent(
    """
    import sys
    from maestro_audit_logger import AuditLogger

    path, key, durability = sys.argv[1], sys.argv[2].encode(), sys.argv[3]
    audit = AuditLogger(path, key=key, durability=durability)
    for i in range(10_000_000):
        event = audit.log("crash.test", actor="child", resource=f"item:{i}", i=i)
        # the acknowledgement is printed only after log() returned
        sys.stdout.write(f"{event.seq}\\n")
        sys.stdout.flush()
    """
)


def _run_and_kill(path: Path, key: bytes, durability: str, acks_before_kill: int) -> list[int]:
    child = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), key.decode(), durability],
        stdout=subprocess.PIPE,
    )
    assert child.stdout is not None
    acked: list[int] = []
    try:
        while len(acked) < acks_before_kill:
            line = child.stdout.readline()
            assert line, "writer exited early"
            acked.append(int(line))
        os.kill(child.pid, signal.SIGKILL)  # mid-stream: the writer is busy logging
        for line in child.stdout:  # acks already in the pipe when it died
            if line.endswith(b"\n"):
                acked.append(int(line))
    finally:
        child.kill()
        child.wait(timeout=60)
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL
    return acked


def test_sigkill_with_always_keeps_every_acknowledged_event(log_path: Path, key: bytes) -> None:
    acked = _run_and_kill(log_path, key, "always", acks_before_kill=300)
    with AuditLogger(log_path, key=key) as reopened:  # repairs a torn tail, if any
        next_event = reopened.log("after.crash", actor="parent")
    stored = [e.seq for e in read_events(log_path)]
    assert set(acked) <= set(stored)
    assert stored == list(range(1, len(stored) + 1))
    assert next_event.seq == len(stored)
    result = verify(log_path, key=key)
    assert result.ok and result.records == len(stored)


def test_sigkill_with_batch_leaves_a_valid_chain(log_path: Path, key: bytes) -> None:
    _run_and_kill(log_path, key, "batch", acks_before_kill=5_000)
    with AuditLogger(log_path, key=key) as reopened:
        reopened.log("after.crash", actor="parent")
    result = verify(log_path, key=key)
    assert result.ok and result.records >= 1


TORN_WRITER = textwrap.dedent(
    """
    import os, signal, sys
    from maestro_audit_logger import AuditLogger

    path, key = sys.argv[1], sys.argv[2].encode()
    audit = AuditLogger(path, key=key, durability="always")
    for i in range(50):
        audit.log("torn.test", actor="child", i=i)
    # What a power cut in the middle of a write leaves: half a record, no newline.
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    os.write(fd, b'{"seq":51,"id":"0000","time":"2026-11-27T10:00:00.0')
    os.fsync(fd)
    os.kill(os.getpid(), signal.SIGKILL)
    """
)


def test_torn_tail_is_detected_cut_off_and_reported(log_path: Path, key: bytes) -> None:
    child = subprocess.run(
        [sys.executable, "-c", TORN_WRITER, str(log_path), key.decode()], timeout=120
    )
    assert child.returncode == -signal.SIGKILL
    assert not log_path.read_bytes().endswith(b"\n")
    torn = verify(log_path, key=key)
    assert (torn.ok, torn.problem, torn.bad_seq) == (False, "truncated", 51)

    with AuditLogger(log_path, key=key) as audit:
        (repair,) = audit.repairs
        assert repair.next_seq == 51 and repair.removed == 51
        assert Path(repair.saved_to).read_bytes().startswith(b'{"seq":51,')
        assert audit.log("after.repair", actor="parent").seq == 51
    result = verify(log_path, key=key)
    assert result.ok and result.records == 51
    assert [e.seq for e in read_events(log_path)][:50] == list(range(1, 51))  # undamaged


FORGETFUL_WRITER = textwrap.dedent(
    """
    import sys
    from maestro_audit_logger import AuditLogger

    audit = AuditLogger(sys.argv[1], durability="none")
    for i in range(1000):
        audit.log("forgot.close", actor="child", i=i)
    # no close(): the interpreter exits normally
    """
)


def test_loggers_left_open_are_flushed_at_exit(log_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", FORGETFUL_WRITER, str(log_path)], timeout=120)
    assert done.returncode == 0
    result = verify(log_path)
    assert result.ok and result.records == 1000


FORKING_WRITER = textwrap.dedent(
    """
    import os, sys
    from maestro_audit_logger import AuditLogger, LogClosedError

    audit = AuditLogger(sys.argv[1])
    audit.log("parent.before", actor="parent")  # still in the buffer when we fork
    pid = os.fork()
    if pid == 0:
        try:
            audit.log("child", actor="child")
        except LogClosedError as error:
            print(error, flush=True)
        sys.exit(0)  # a normal exit: atexit handlers run in the child too
    os.waitpid(pid, 0)
    audit.log("parent.after", actor="parent")
    audit.close()
    """
)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
def test_a_forked_child_cannot_write_through_the_parents_logger(log_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", FORKING_WRITER, str(log_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "opened before the process forked" in done.stdout
    assert [e.action for e in read_events(log_path)] == ["parent.before", "parent.after"]
    assert verify(log_path).records == 2


FULL_DISK = textwrap.dedent(
    """
    import json, resource, signal, sys
    from maestro_audit_logger import AuditLogger

    path, durability = sys.argv[1], sys.argv[2]
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # let write() fail with EFBIG instead
    audit = AuditLogger(path, durability=durability)
    # The file may grow to 3000 bytes: as if the disk filled up after a few records.
    resource.setrlimit(resource.RLIMIT_FSIZE, (3000, resource.RLIM_INFINITY))
    returned, failed = [], 0
    for i in range(600):
        try:
            returned.append(audit.log("disk.full", actor="child", i=i).seq)
        except OSError:
            failed += 1
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY,) * 2)
    returned.append(audit.log("disk.freed", actor="child").seq)
    audit.close()
    print(json.dumps({"returned": returned, "failed": failed}))
    """
)


@pytest.mark.parametrize("durability", ["always", "batch", "none"])
def test_a_full_disk_neither_tears_the_log_nor_loses_records(
    log_path: Path, durability: str
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(log_path), durability],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    outcome = json.loads(child.stdout)
    assert outcome["failed"] > 0  # the limit was hit
    result = verify(log_path)
    # A failed write used to leave a torn record that every later record followed.
    assert result.ok, result.message
    seqs = [event.seq for event in read_events(log_path)]
    assert seqs == list(range(1, len(seqs) + 1))
    assert set(outcome["returned"]) <= set(seqs)  # every event log() returned is there
    if durability == "always":
        # A failed log() neither writes its event nor uses its sequence number.
        assert seqs == outcome["returned"]
    else:
        # Buffered records are kept and written once the file accepts data again,
        # including those whose log() call raised.
        assert len(seqs) == 601
