"""`copier update` carries a template change into a generated package and keeps its edits."""

from __future__ import annotations

import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import yaml
from template_render import ANSWERS_FILE, REPO, git, render_copier

pytestmark = pytest.mark.slow


def template_dir(repo: Path) -> Path:
    return next((repo / "template").glob("{{*"))


def test_update_carries_the_change_and_keeps_the_users_edits(
    template_repo: Path, tmp_path: Path
) -> None:
    from copier import run_update

    v1 = git(template_repo, "rev-parse", "HEAD").strip()
    package = render_copier(
        {"distribution_name": "maestro-updatable", "console_script": "updatable"},
        tmp_path / "package",
        src=template_repo,
        vcs_ref=v1,
    )
    assert yaml.safe_load((package / ANSWERS_FILE).read_text())["_commit"] == v1[:7]
    git(package, "init", "-q", "-b", "main")
    git(package, "add", "-A")
    git(package, "commit", "-q", "-m", "generated")

    # The package's own edits: its version, its README, and a line in a template file.
    pyproject = package / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    with (package / "README.md").open("a") as readme:
        readme.write("\n## Team notes\n\nOwned by the payments team.\n")
    with (package / ".gitignore").open("a") as ignore:
        ignore.write("*.local\n")
    git(package, "commit", "-q", "-am", "our edits")

    # The template moves on: a changed setting and a new file.
    source = template_dir(template_repo)
    (source / "pyproject.toml").write_text(
        (source / "pyproject.toml").read_text().replace("line-length = 100", "line-length = 110")
    )
    (source / "SECURITY.md").write_text("Report vulnerabilities to the platform team.\n")
    git(template_repo, "add", "-A")
    git(template_repo, "commit", "-q", "-m", "template v2")
    v2 = git(template_repo, "rev-parse", "HEAD").strip()

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_update(str(package), defaults=True, overwrite=True, unsafe=True, quiet=True, vcs_ref=v2)

    updated = pyproject.read_text()
    assert "line-length = 110" in updated
    assert 'version = "0.2.0"' in updated
    assert "Owned by the payments team." in (package / "README.md").read_text()
    assert (package / ".gitignore").read_text().endswith("*.local\n")
    assert (package / "SECURITY.md").read_text() == "Report vulnerabilities to the platform team.\n"
    assert yaml.safe_load((package / ANSWERS_FILE).read_text())["_commit"] == v2[:7]
    assert not list(package.rglob("*.rej"))


def test_check_update_reports_a_newer_template(template_repo: Path, tmp_path: Path) -> None:
    v1 = git(template_repo, "rev-parse", "HEAD").strip()
    package = render_copier(
        {"distribution_name": "maestro-checked"},
        tmp_path / "package",
        src=template_repo,
        vcs_ref=v1,
    )
    copier = str(Path(sys.executable).parent / "copier")
    (template_dir(template_repo) / "NOTICE.md").write_text("new\n")
    git(template_repo, "add", "-A")
    git(template_repo, "commit", "-q", "-m", "template v2")
    git(template_repo, "tag", "v2.0.0")
    result = subprocess.run(
        [copier, "check-update", "--output-format", "json", str(package)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert '"update_available": true' in result.stdout


def test_recorded_template_commits_exist_in_this_repository() -> None:
    # Rendering from a dirty working tree records a throw-away commit that copier update
    # can never find again: every package must point at a real commit.
    for answers_file in REPO.glob(f"packages/*/{ANSWERS_FILE}"):
        commit = yaml.safe_load(answers_file.read_text())["_commit"]
        found = subprocess.run(
            ["git", "cat-file", "-e", f"{commit}^{{commit}}"], cwd=REPO, capture_output=True
        )
        assert found.returncode == 0, f"{answers_file}: _commit {commit} is not in the repository"
