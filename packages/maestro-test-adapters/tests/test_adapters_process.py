"""The process runner behind every adapter: no shell, whole-tree kill, output kept."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from maestro_test_adapters.adapters._process import run_process

ESCAPE = """
import os, subprocess, sys, time
from pathlib import Path
# A grandchild in a session of its own: killpg of our group cannot reach it.
child = subprocess.Popen(["setsid", "sleep", "3600"])
Path(sys.argv[1]).write_text(str(child.pid))
print("started", flush=True)
time.sleep(3600)
"""


def test_timeout_kills_even_a_grandchild_that_left_the_group(
    tmp_path: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    outcome = run_process(
        [sys.executable, "-c", ESCAPE, str(pid_file)],
        cwd=tmp_path,
        env=dict(os.environ),
        timeout=3,
        kill_grace=1,
    )

    assert outcome.timed_out
    assert outcome.stdout == "started\n"
    assert_gone(pid_file)


def test_arguments_are_never_interpreted_by_a_shell(tmp_path: Path) -> None:
    outcome = run_process(
        [sys.executable, "-c", "import sys; print(sys.argv[1])", "$(touch pwned); `id`"],
        cwd=tmp_path,
        env=dict(os.environ),
        timeout=60,
    )

    assert outcome.stdout == "$(touch pwned); `id`\n"
    assert not (tmp_path / "pwned").exists()
    assert (outcome.returncode, outcome.timed_out) == (0, False)


def test_exit_code_and_stderr_are_kept(tmp_path: Path) -> None:
    outcome = run_process(
        [sys.executable, "-c", "import sys; sys.stderr.write('bad'); sys.exit(3)"],
        cwd=tmp_path,
        env=dict(os.environ),
        timeout=60,
    )

    assert (outcome.returncode, outcome.stderr) == (3, "bad")
