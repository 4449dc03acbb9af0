"""Render the template with either engine, from the repository or a throw-away copy.

Imported by the tests (the root pytest config puts this folder on ``pythonpath``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
# Files that belong to the package after the first render (copier.yml `_skip_if_exists`).
ANSWERS_FILE = ".copier-answers.yml"

# The answer sets the tests render with both engines (every one builds on Python 3.11).
ANSWER_SETS: dict[str, dict[str, Any]] = {
    "minimal": {"distribution_name": "maestro-minimal"},
    "extras": {
        "distribution_name": "maestro-with-extras",
        "extras": {"yaml": ["pyyaml>=6"], "toml": ["tomli-w>=1"]},
    },
    "console-script": {
        "distribution_name": "maestro-with-cli",
        "console_script": "maestro-with-cli",
        "description": 'A "quoted" description: with a colon',
    },
    "dependencies": {
        "distribution_name": "maestro-with-deps",
        "import_name": "maestro_deps",
        "dependencies": "packaging>=24,<30, attrs>=23",
        "license": "MIT",
        "initial_version": "2.0.0rc1",
    },
}


def render_copier(answers: Mapping[str, Any], dst: Path, src: Path = REPO, **kwargs: Any) -> Path:
    """Render the template with copier's API (the working tree, dirty or not)."""
    from copier import run_copy

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DirtyLocalWarning while developing the template
        run_copy(
            str(src),
            str(dst),
            data=dict(answers),
            defaults=True,
            unsafe=True,
            quiet=True,
            **kwargs,
        )
    return dst


def render_cookiecutter(answers: Mapping[str, Any], output_dir: Path, src: Path = REPO) -> Path:
    """Render the template with cookiecutter's API; return the package folder."""
    from cookiecutter.main import cookiecutter

    output_dir.mkdir(parents=True, exist_ok=True)
    result = cookiecutter(
        str(src),
        directory="template",
        no_input=True,
        extra_context=dict(answers),
        output_dir=str(output_dir),
        accept_hooks=False,
    )
    return Path(result)


def tree(root: Path) -> dict[str, bytes]:
    """Every file below ``root`` as relative path -> bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and ".git" not in path.relative_to(root).parts
    }


def git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "Template Test",
        "GIT_AUTHOR_EMAIL": "test@example.org",
        "GIT_COMMITTER_NAME": "Template Test",
        "GIT_COMMITTER_EMAIL": "test@example.org",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True
    ).stdout


def make_template_repo(repo: Path) -> Path:
    """Copy the current template into a new git repository with one commit."""
    for path in template_files():
        target = repo / path.relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "template v1")
    return repo


def template_files() -> Iterator[Path]:
    """The files a copy of the template needs: copier.yml and template/ (tracked or not)."""
    yield REPO / "copier.yml"
    for path in (REPO / "template").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path
