"""scripts/rerender_packages.py refuses bad input with a message and exit status 2."""

from __future__ import annotations

import subprocess
import sys

import pytest
from template_render import REPO

SCRIPT = REPO / "scripts" / "rerender_packages.py"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["maestro-no-such-package"], "no package made with copier named maestro-no-such-package"),
        (["--data", "colour=1", "maestro-resilience"], "'colour' is not a question"),
        (["--data", "dependencies", "maestro-resilience"], "the value must be JSON"),
        (["--data", "dependencies=httpx>=1", "maestro-resilience"], "the value must be JSON"),
        (
            ["--data", 'dependencies="httpx>>1"', "maestro-resilience"],
            "Validation error for question 'dependencies'",
        ),
    ],
)
def test_bad_input_is_a_usage_error_without_a_traceback(arguments: list[str], message: str) -> None:
    before = _package_status()
    result = subprocess.run(
        [sys.executable, str(SCRIPT), *arguments], cwd=REPO, capture_output=True, text=True
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert _package_status() == before  # nothing was re-rendered


def _package_status() -> str:
    return subprocess.run(
        ["git", "status", "--porcelain", "packages/maestro-resilience"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
