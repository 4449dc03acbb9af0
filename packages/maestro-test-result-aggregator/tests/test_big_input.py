"""A 1 GiB result file is ingested with bounded memory, in a real child process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

GIB = 1024**3
CASES = 8192
MEMORY_LIMIT_MIB = 200


def _write_gib_junit(path: Path) -> None:
    # Each case is followed by a 128 KiB XML comment: the file reaches 1 GiB
    # while the result count stays small enough to store in seconds.
    padding = b"<!--" + b"x" * (GIB // CASES - 4 - 3 - 80) + b"-->"
    with path.open("wb") as out:
        out.write(b'<testsuites><testsuite name="huge">')
        for i in range(CASES):
            case = f'<testcase classname="huge" name="t{i:05d}" time="0.001"/>'.encode()
            out.write(case.ljust(80) + padding)
        out.write(b"</testsuite></testsuites>")


@pytest.mark.slow
def test_a_1_gib_file_is_read_with_bounded_memory(tmp_path: Path) -> None:
    source = tmp_path / "huge.xml"
    _write_gib_junit(source)
    assert source.stat().st_size >= GIB - 1024
    out, err = tmp_path / "stdout", tmp_path / "stderr"
    with out.open("w") as stdout, err.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "maestro_test_result_aggregator", "ingest", "--json",
             "--no-ci-env", "--db", str(tmp_path / "big.db"), str(source)],
            stdout=stdout,
            stderr=stderr,
        )  # fmt: skip
        # wait4 gives this child's own peak; RUSAGE_CHILDREN would be the
        # largest of every child this test process has had so far.
        _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    assert proc.returncode == 0, err.read_text()
    assert json.loads(out.read_text())["new_results"] == CASES
    assert usage.ru_maxrss / 1024 < MEMORY_LIMIT_MIB
