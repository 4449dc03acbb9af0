"""Every workflow passes actionlint, zizmor and the GitHub JSON schemas, offline.

Each check also runs once on a deliberately broken workflow, so a check that silently
stopped working (no file found, wrong option) cannot pass for the real ones.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]

#: zizmor's strictest persona that is meant for gating (``auditor`` is for manual audits),
#: failing on anything of medium severity or above.
ZIZMOR = ["uv", "run", "--frozen", "zizmor", "--offline", "--no-progress",
          "--persona", "pedantic", "--min-severity", "medium", "--format", "json"]  # fmt: skip

BROKEN_WORKFLOW = """\
on: pull_request_target
jobs:
  greet:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
        with:
          ref: ${{ github.event.pull_request.head.sha }}
      - run: echo "${{ github.event.pull_request.title }}"
"""


def _run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=False
    )


def _zizmor(paths: list[Path]) -> list[str]:
    result = _run([*ZIZMOR, *map(str, paths)])
    assert result.stdout.strip(), f"zizmor did not run:\n{result.stderr}"
    return [
        f"{finding['ident']} ({finding['determinations']['severity']}): "
        f"{finding['locations'][0]['symbolic']['key']['Local']['verbatim_path']}"
        f":{finding['locations'][0]['concrete']['location']['start_point']['row'] + 1}"
        f" {finding['desc']}"
        for finding in json.loads(result.stdout)
    ]


def _schema_errors(schema: str, paths: list[Path]) -> str:
    result = _run(["uv", "run", "--frozen", "check-jsonschema", "--builtin-schema", schema,
                   *map(str, paths)])  # fmt: skip
    return "" if result.returncode == 0 else result.stdout + result.stderr


def test_the_three_workflows_and_dependabot_exist(github_files: Any) -> None:
    names = {path.name for path in github_files.workflows}
    expected = {"ci.yml", "release.yml", "docs.yml"} if github_files.name == "repository" else {
        "ci.yml", "release.yml"}  # fmt: skip
    assert names == expected
    assert github_files.dependabot.is_file()


def test_actionlint_finds_nothing(
    github_files: Any, actionlint: Callable[[list[Path]], str]
) -> None:
    assert actionlint(github_files.workflows) == ""


def test_actionlint_catches_a_broken_workflow(
    tmp_path: Path, actionlint: Callable[[list[Path]], str]
) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text(BROKEN_WORKFLOW, encoding="utf-8")
    found = actionlint([broken])
    assert '"github.event.pull_request.title" is potentially untrusted' in found


def test_zizmor_finds_nothing_of_medium_severity_or_above(github_files: Any) -> None:
    assert _zizmor([*github_files.workflows, github_files.dependabot]) == []


def test_zizmor_catches_a_broken_workflow(tmp_path: Path) -> None:
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "broken.yml").write_text(BROKEN_WORKFLOW, encoding="utf-8")
    found = " ".join(_zizmor([workflows / "broken.yml"]))
    assert "dangerous-triggers" in found
    assert "template-injection" in found


def test_workflows_match_the_github_workflow_schema(github_files: Any) -> None:
    assert _schema_errors("vendor.github-workflows", github_files.workflows) == ""


def test_dependabot_config_matches_its_schema(github_files: Any) -> None:
    assert _schema_errors("vendor.dependabot", [github_files.dependabot]) == ""


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  build:\n    steps: []\n", encoding="utf-8")
    assert "runs-on" in _schema_errors("vendor.github-workflows", [broken])
