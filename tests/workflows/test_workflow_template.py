"""The template's workflows follow its answers, and exist only when asked for."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]


def _render(target: Path, *answers: str) -> Path:
    data = [arg for answer in answers for arg in ("--data", answer)]
    result = subprocess.run(
        ["uv", "run", "--frozen", "copier", "copy", "--trust", "--defaults", "--quiet",
         "--vcs-ref", "HEAD", "--data", "distribution_name=maestro-demo", *data,
         str(REPO_ROOT), str(target)],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return target


def test_without_standalone_ci_no_workflow_is_rendered(tmp_path: Path) -> None:
    package = _render(tmp_path / "pkg")
    assert (package / "pyproject.toml").is_file()
    assert [path for path in (package / ".github").rglob("*") if path.is_file()] == []


def test_the_test_matrix_starts_at_the_packages_minimum_python(tmp_path: Path) -> None:
    package = _render(tmp_path / "pkg", "standalone_ci=true", "python_min=3.12")
    ci = yaml.safe_load((package / ".github/workflows/ci.yml").read_text(encoding="utf-8"))
    assert ci["jobs"]["tests"]["strategy"]["matrix"]["python"] == ["3.12", "3.13"]


def test_github_expressions_survive_rendering(template_files: Any) -> None:
    root: Path = template_files.root
    ci = (root / ".github/workflows/ci.yml").read_text(encoding="utf-8")
    release = (root / ".github/workflows/release.yml").read_text(encoding="utf-8")
    assert "group: ci-${{ github.ref }}" in ci
    assert "python-version: ${{ matrix.python }}" in ci
    assert "UV_PUBLISH_PASSWORD: ${{ secrets.NEXUS_PASSWORD }}" in release
    # the template's answers, on the other hand, are filled in
    assert "{{" not in release.replace("${{", "")
    assert 'UV_PUBLISH_CHECK_URL: "https://nexus.maestro.example/' in release
