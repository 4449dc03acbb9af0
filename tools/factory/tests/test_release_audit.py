"""The release audit log reports a full disk as a failed step, not a traceback."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

# In a child process: RLIMIT_FSIZE makes the file system refuse to grow the
# log past a few records, as a full disk would.
FULL_DISK = textwrap.dedent(
    """
    import resource, signal, sys
    from pathlib import Path
    from maestro_factory._integrations import ReleaseAudit
    from maestro_factory.errors import StepFailedError

    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # let write() fail with EFBIG instead
    audit = ReleaseAudit(Path(sys.argv[1]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.RLIM_INFINITY))
    try:
        for i in range(100):
            audit.record("publish", f"pkg-{i}.whl")
    except StepFailedError as error:
        print(error)
    """
)


def test_a_full_disk_is_a_failed_step_that_names_the_log(tmp_path: Path) -> None:
    log = tmp_path / "audit" / "release.jsonl"
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(log)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    assert "Traceback" not in child.stderr
    assert child.stdout.startswith(f"cannot write to the release audit log {log}: File too large;")
