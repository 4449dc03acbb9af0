"""A freshly generated package builds, installs, tests and lints itself with no edit."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
from maestro_factory.building import build_package, twine_check
from maestro_factory.workspace import Package
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from template_render import ANSWER_SETS, git, render_copier

pytestmark = pytest.mark.slow

BIN = Path(sys.executable).parent
PARENT_ENVIRONMENT = {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    # Leave the workspace's environment behind: uv must create the package's own.
    env = {k: v for k, v in os.environ.items() if k not in PARENT_ENVIRONMENT}
    result = subprocess.run(
        [str(arg) for arg in args], cwd=cwd, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


def fresh_venv(path: Path, *requirements: str) -> Path:
    run("uv", "venv", "--quiet", "--python", sys.executable, path, cwd=path.parent)
    python = path / "bin" / "python"
    run("uv", "pip", "install", "--quiet", "--python", python, *requirements, cwd=path.parent)
    return python


@pytest.mark.parametrize("answers", ANSWER_SETS.values(), ids=ANSWER_SETS)
def test_generated_package_builds_installs_and_passes_its_tests(
    answers: dict[str, Any], tmp_path: Path
) -> None:
    package = render_copier(answers, tmp_path / "package")
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    import_name = next((package / "src").iterdir()).name

    # The release tool's own steps: uv build (sdist, then the wheel) and twine check --strict.
    artefacts = build_package(Package(project["name"], project["version"], package), tmp_path)
    twine_check(artefacts.files)
    (wheel,) = artefacts.wheels

    # The wheel's metadata never carries a path or file:// requirement.
    with zipfile.ZipFile(wheel) as archive:
        (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = archive.read(metadata_name)
    assert b"file:" not in metadata
    assert b" @ " not in metadata

    python = fresh_venv(tmp_path / "venv", str(wheel), "pytest>=8.4", "pytest-timeout>=2.3")
    where = run(python, "-c", f"import {import_name}; print({import_name}.__file__)", cwd=tmp_path)
    assert str(tmp_path / "venv") in where.stdout, "imported from the source tree, not the wheel"
    tests = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=package)
    assert " passed" in tests.stdout and "failed" not in tests.stdout

    for extra in project.get("optional-dependencies", {}):
        extra_python = fresh_venv(tmp_path / f"venv-{extra}", f"{wheel}[{extra}]")
        run(extra_python, "-c", f"import {import_name}", cwd=tmp_path)
        freeze = run("uv", "pip", "freeze", "--python", extra_python, cwd=tmp_path).stdout.lower()
        for requirement in project["optional-dependencies"][extra]:
            name = canonicalize_name(Requirement(requirement).name)
            assert name in freeze, f"{name} missing after installing [{extra}]"


@pytest.mark.parametrize("answers", ANSWER_SETS.values(), ids=ANSWER_SETS)
def test_generated_package_passes_pre_commit(answers: dict[str, Any], tmp_path: Path) -> None:
    package = render_copier(answers, tmp_path / "package")
    git(package, "init", "-q", "-b", "main")
    git(package, "add", "-A")
    result = run(BIN / "pre-commit", "run", "--all-files", "--show-diff-on-failure", cwd=package)
    assert "Passed" in result.stdout
    assert "Failed" not in result.stdout
