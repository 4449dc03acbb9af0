"""Several real processes ingesting into one store at once lose nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from maestro_test_result_aggregator import ResultStore

PROCESSES = 4
OWN_FILES = 8
SHARED_FILES = 6
CASES = 400


def _junit(path: Path, seed: int) -> None:
    cases = "".join(
        f'<testcase classname="mod{seed}" name="t{i}" time="0.01">'
        + ('<failure message="boom"/>' if (i + seed) % 50 == 0 else "")
        + "</testcase>"
        for i in range(CASES)
    )
    path.write_text(f'<testsuite name="s{seed}">{cases}</testsuite>')


def test_four_processes_ingesting_at_once_give_exact_counts(tmp_path: Path) -> None:
    shared = []
    for n in range(SHARED_FILES):
        shared.append(tmp_path / f"shared-{n}.xml")
        _junit(shared[-1], 1000 + n)
    batches = []
    for p in range(PROCESSES):
        own = []
        for n in range(OWN_FILES):
            own.append(tmp_path / f"p{p}-{n}.xml")
            _junit(own[-1], p * 100 + n)
        # Every process also ingests all shared files, in a different order.
        batches.append(own + shared[p % 2 :: 1] + shared[: p % 2])
    db = tmp_path / "results.db"  # does not exist yet: schema creation races too
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "maestro_test_result_aggregator",
                "ingest",
                "--db",
                str(db),
                "--no-ci-env",
                "--json",
                "--project",
                "race",
                *map(str, files),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        for files in batches
    ]
    outputs = [proc.communicate(timeout=300) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    reports = [json.loads(out) for out, _ in outputs]
    expected_runs = PROCESSES * OWN_FILES + SHARED_FILES
    # Each shared file was stored by exactly one process; the others saw a duplicate.
    assert sum(r["new_runs"] for r in reports) == expected_runs
    assert sum(r["duplicates"] for r in reports) == SHARED_FILES * (PROCESSES - 1)
    with ResultStore(db) as store:
        conn = store.connection()
        assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == expected_runs
        assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == expected_runs * CASES
        assert conn.execute("SELECT SUM(total) FROM runs").fetchone()[0] == expected_runs * CASES
        failed = conn.execute("SELECT SUM(failed) FROM runs").fetchone()[0]
        assert failed == expected_runs * CASES // 50
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
