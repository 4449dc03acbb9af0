"""Many threads, and several processes, appending to one log: one valid chain."""

from __future__ import annotations

import collections
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from maestro_audit_logger import AuditLogger, read_events, verify


def test_eight_threads_ten_thousand_events_each(log_path: Path, key: bytes) -> None:
    threads, per_thread = 8, 10_000
    start = threading.Barrier(threads)
    with AuditLogger(log_path, key=key) as audit:

        def work(worker: int) -> None:
            start.wait()
            for i in range(per_thread):
                audit.log("thread.test", actor=f"t{worker}", worker=worker, i=i)

        pool = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
        for thread in pool:
            thread.start()
        for thread in pool:
            thread.join()
    result = verify(log_path, key=key)
    assert result.ok and result.records == threads * per_thread
    seen: dict[int, list[int]] = collections.defaultdict(list)
    for event in read_events(log_path):
        seen[event.metadata["worker"]].append(event.metadata["i"])
    assert {w: len(v) for w, v in seen.items()} == dict.fromkeys(range(threads), per_thread)
    assert all(v == list(range(per_thread)) for v in seen.values())  # per-thread order kept


PROCESS_WRITER = textwrap.dedent(
    """
    import os, sys, time
    from maestro_audit_logger import AuditLogger

    path, key, go = sys.argv[1], sys.argv[2].encode(), sys.argv[5]
    worker, count = int(sys.argv[3]), int(sys.argv[4])
    with AuditLogger(path, key=key, shared=True) as audit:
        print("ready", flush=True)
        while not os.path.exists(go):  # start together, so the writes interleave
            time.sleep(0.001)
        for i in range(count):
            audit.log("process.test", actor=f"p{worker}", worker=worker, i=i)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX flock")
def test_four_processes_five_thousand_events_each(log_path: Path, key: bytes) -> None:
    processes, per_process = 4, 5_000
    go = log_path.parent / "go"
    log_path.parent.mkdir(parents=True)
    children = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                PROCESS_WRITER,
                str(log_path),
                key.decode(),
                str(n),
                str(per_process),
                str(go),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
    go.touch()
    for child in children:
        assert child.wait(timeout=300) == 0
        assert child.stdout is not None
        child.stdout.close()

    result = verify(log_path, key=key)
    assert result.ok, result.message
    assert result.records == processes * per_process
    events = list(read_events(log_path))
    assert [e.seq for e in events] == list(range(1, processes * per_process + 1))
    by_worker: dict[int, list[int]] = collections.defaultdict(list)
    for event in events:
        by_worker[event.metadata["worker"]].append(event.metadata["i"])
    assert all(v == list(range(per_process)) for v in by_worker.values())
    assert sorted(by_worker) == list(range(processes))
    interleaved = sum(
        1 for a, b in zip(events, events[1:], strict=False) if a.source.pid != b.source.pid
    )
    assert interleaved > 1  # the processes really did write concurrently
