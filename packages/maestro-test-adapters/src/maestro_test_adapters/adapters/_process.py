"""Run a framework as a child process and take its whole process tree down on timeout.

The child starts in a session (and process group) of its own, so that
``os.killpg`` reaches every process it started.  Some tools move their own
children into a new group (Playwright does this for browsers), so each child
also carries a unique marker in its environment, and every process that still
carries it once the run is over is killed as well (Linux ``/proc``).
POSIX only: sessions, process groups and signals have no Windows equivalent here.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

#: Environment variable that tags every process of one adapter run.
RUN_MARKER_VARIABLE: Final = "MAESTRO_ADAPTER_RUN"

#: Most output kept per stream; the tail is kept because that is where errors are.
MAX_CAPTURED_CHARS: Final = 1_000_000


@dataclass(frozen=True, slots=True)
class ProcessOutcome:
    """What happened to one child process.

    Attributes:
        argv: The command line that was run.
        returncode: Exit status; negative when a signal ended the process.
        stdout: Captured standard output (tail, at most ``MAX_CAPTURED_CHARS``).
        stderr: Captured standard error (tail, at most ``MAX_CAPTURED_CHARS``).
        started_at: When the child was started (UTC).
        duration: Wall-clock seconds until the child (and its tree) ended.
        timed_out: True when the timeout expired and the tree was killed.
    """

    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    started_at: datetime
    duration: float
    timed_out: bool


def run_process(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float | None,
    kill_grace: float = 3.0,
) -> ProcessOutcome:
    """Run ``argv`` without a shell and return its outcome.

    On timeout the process group gets ``SIGTERM`` (frameworks use it to close
    browsers and flush reports), then ``SIGKILL`` after ``kill_grace`` seconds.

    Raises:
        FileNotFoundError: ``argv[0]`` does not exist.
    """
    marker = uuid.uuid4().hex
    child_env = {**env, RUN_MARKER_VARIABLE: marker}
    # Output goes to files, not pipes: a leftover grandchild holding a pipe
    # open must not keep us waiting after the framework itself has exited.
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        process = subprocess.Popen(  # an argv list: never a shell
            list(argv),
            cwd=cwd,
            env=child_env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
            start_new_session=True,
        )
        timed_out = False
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            returncode = _terminate(process, kill_grace)
        finally:
            _kill_group(process.pid, signal.SIGKILL)
            _kill_marked(marker)
        duration = time.perf_counter() - start
        return ProcessOutcome(
            argv=tuple(argv),
            returncode=returncode,
            stdout=_read_tail(out),
            stderr=_read_tail(err),
            started_at=started_at,
            duration=duration,
            timed_out=timed_out,
        )


def _terminate(process: subprocess.Popen[bytes], grace: float) -> int:
    _kill_group(process.pid, signal.SIGTERM)
    try:
        return process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid, signal.SIGKILL)
        return process.wait()


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


def _kill_marked(marker: str) -> None:
    """Kill every process whose environment still carries this run's marker."""
    proc = Path("/proc")
    if not proc.is_dir():
        return
    needle = f"{RUN_MARKER_VARIABLE}={marker}".encode()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone already, or not ours to read
            continue
        if needle in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(int(entry.name), signal.SIGKILL)


def _read_tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    # Four bytes per character at most, so this always covers the kept tail.
    stream.seek(max(0, size - 4 * MAX_CAPTURED_CHARS))
    text = stream.read().decode("utf-8", errors="replace")
    return text[-MAX_CAPTURED_CHARS:]
