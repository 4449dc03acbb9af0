"""``factory changed`` and ``factory check`` on throwaway git repositories."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from factory_test_support import git, make_workspace, run_factory, write_package

from maestro_factory import UsageError, Workspace


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_workspace(tmp_path / "ws")


def bump(root: Path, name: str, version: str, *, changelog: bool = True) -> None:
    folder = root / "packages" / name
    pyproject = folder / "pyproject.toml"
    text = pyproject.read_text()
    current = text.split('version = "', 1)[1].split('"', 1)[0]
    pyproject.write_text(text.replace(f'version = "{current}"', f'version = "{version}"', 1))
    if changelog:
        log = folder / "CHANGELOG.md"
        log.write_text(
            log.read_text().replace(
                "## [Unreleased]\n", f"## [Unreleased]\n\n## [{version}] - 2026-11-28\n", 1
            )
        )


def touch_code(root: Path, name: str) -> None:
    module = root / "packages" / name / "src" / name.replace("-", "_") / "__init__.py"
    module.write_text(module.read_text() + "NEW = 1\n")


def test_a_change_selects_the_package_and_its_dependants(repo: Path) -> None:
    touch_code(repo, "tp-alpha")

    result = run_factory(repo, "changed", "--since", "HEAD", "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["packages"] == ["tp-alpha", "tp-beta"]
    assert document["matrix"]["include"][1] == {
        "package": "tp-beta",
        "directory": "packages/tp-beta",
        "version": "1.0.0",
        "reason": "depends on tp-alpha",
    }


def test_a_leaf_change_selects_only_the_leaf_in_text_form(repo: Path) -> None:
    touch_code(repo, "tp-beta")
    git(repo, "commit", "-qam", "beta only")

    result = run_factory(repo, "changed", "--since", "HEAD~1")

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["tp-beta"]


def test_transitive_dependants_are_included(repo: Path) -> None:
    write_package(repo, "tp-delta", "1.0.0", deps=("tp-beta>=1",))
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "delta")
    touch_code(repo, "tp-alpha")

    result = run_factory(repo, "changed", "--since", "HEAD", "--json")

    reasons = {
        entry["package"]: entry["reason"]
        for entry in json.loads(result.stdout)["matrix"]["include"]
    }
    assert reasons == {
        "tp-alpha": "files changed",
        "tp-beta": "depends on tp-alpha",
        "tp-delta": "depends on tp-beta",
    }


def test_a_lock_file_change_selects_everything(repo: Path) -> None:
    (repo / "uv.lock").write_text("version = 1\n")

    result = run_factory(repo, "changed", "--since", "HEAD", "--json")

    assert json.loads(result.stdout)["packages"] == ["tp-alpha", "tp-gamma", "tp-beta"]


def test_nothing_changed_gives_an_empty_matrix(repo: Path) -> None:
    result = run_factory(repo, "changed", "--since", "HEAD", "--json")

    assert result.returncode == 0
    assert json.loads(result.stdout) == {"since": "HEAD", "packages": [], "matrix": {"include": []}}


def test_the_null_commit_of_a_first_push_selects_everything(repo: Path) -> None:
    # GitHub's github.event.before when a branch is pushed for the first time.
    changed = run_factory(repo, "changed", "--since", "0" * 40, "--json")
    checked = run_factory(repo, "check", "--since", "0" * 40)

    assert changed.returncode == 0, changed.stderr
    assert json.loads(changed.stdout)["packages"] == ["tp-alpha", "tp-gamma", "tp-beta"]
    assert checked.returncode == 0, checked.stderr
    assert "check: 3 package(s) ready to release" in checked.stdout


def test_an_unknown_ref_is_a_usage_error(repo: Path) -> None:
    result = run_factory(repo, "changed", "--since", "no-such-branch")

    assert result.returncode == 2
    assert "git ref 'no-such-branch' does not name a commit" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_since_is_a_usage_error(repo: Path) -> None:
    result = run_factory(repo, "changed")

    assert result.returncode == 2
    assert "--since" in result.stderr


def test_check_passes_for_a_first_release_with_changelog_entries(repo: Path) -> None:
    result = run_factory(repo, "check")

    assert result.returncode == 0, result.stdout
    assert "check: 3 package(s) ready to release" in result.stdout


def test_check_fails_when_code_changed_since_the_tag_without_a_bump(repo: Path) -> None:
    git(repo, "tag", "tp-alpha-v1.0.0")
    touch_code(repo, "tp-alpha")

    result = run_factory(repo, "check", "--package", "tp-alpha")

    assert result.returncode == 1
    assert "tp-alpha: code changed since tag tp-alpha-v1.0.0" in result.stdout
    assert "packages/tp-alpha/src/tp_alpha/__init__.py" in result.stdout
    assert "but the version is still 1.0.0: bump it" in result.stdout


def test_check_works_in_a_workspace_that_is_a_folder_of_its_repository(tmp_path: Path) -> None:
    outer = tmp_path / "repo"
    outer.mkdir()
    git(outer, "init", "-q", "-b", "main")
    workspace = outer / "python"
    workspace.mkdir()
    (workspace / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    write_package(workspace, "tp-alpha", "1.0.0")
    git(outer, "add", "-A")
    git(outer, "commit", "-q", "-m", "initial")
    git(outer, "tag", "tp-alpha-v1.0.0")
    touch_code(workspace, "tp-alpha")

    result = run_factory(workspace, "check")

    assert result.returncode == 1, result.stderr
    assert "tp-alpha: code changed since tag tp-alpha-v1.0.0" in result.stdout
    assert "(packages/tp-alpha/src/tp_alpha/__init__.py)" in result.stdout


def test_check_fails_on_a_bump_without_a_changelog_entry(repo: Path) -> None:
    git(repo, "tag", "tp-alpha-v1.0.0")
    touch_code(repo, "tp-alpha")
    bump(repo, "tp-alpha", "1.1.0", changelog=False)

    result = run_factory(repo, "check", "--package", "tp-alpha")

    assert result.returncode == 1
    assert "CHANGELOG.md has no entry for 1.1.0" in result.stdout


def test_a_changelog_that_is_not_utf8_fails_the_check_without_a_traceback(repo: Path) -> None:
    (repo / "packages" / "tp-gamma" / "CHANGELOG.md").write_bytes(b"\xff\xfe## [1.0.0]\n")

    result = run_factory(repo, "check")

    assert result.returncode == 1, result.stderr
    assert "FAIL tp-gamma: CHANGELOG.md is not UTF-8 text (invalid start byte at byte 0)" in (
        result.stdout
    )
    assert "Traceback" not in result.stderr


def test_check_passes_on_a_bump_with_a_changelog_entry(repo: Path) -> None:
    git(repo, "tag", "tp-alpha-v1.0.0")
    touch_code(repo, "tp-alpha")
    bump(repo, "tp-alpha", "1.1.0")

    result = run_factory(repo, "check", "--package", "tp-alpha")

    assert result.returncode == 0, result.stdout


def test_check_ignores_changes_that_are_not_released(repo: Path) -> None:
    git(repo, "tag", "tp-alpha-v1.0.0")
    (repo / "packages" / "tp-alpha" / "tests" / "test_more.py").write_text(
        "def test_x():\n    assert True\n"
    )

    result = run_factory(repo, "check", "--package", "tp-alpha")

    assert result.returncode == 0, result.stdout
    assert "released (tag tp-alpha-v1.0.0), unchanged" in result.stdout


def test_check_rejects_an_invalid_version_and_a_version_going_backwards(repo: Path) -> None:
    bump(repo, "tp-gamma", "one.two")
    git(repo, "tag", "tp-alpha-v2.0.0")

    result = run_factory(repo, "check")

    assert result.returncode == 1
    assert "tp-gamma: version 'one.two' is not a valid PEP 440 version" in result.stdout
    assert "tp-alpha: version 1.0.0 is lower than the released 2.0.0" in result.stdout


def test_check_rejects_a_sibling_range_that_excludes_the_workspace_version(repo: Path) -> None:
    bump(repo, "tp-alpha", "2.0.0")

    result = run_factory(repo, "check")

    assert result.returncode == 1
    assert "tp-beta: requires tp-alpha<2,>=1 but the workspace has tp-alpha 2.0.0" in result.stdout


def test_unknown_package_is_a_usage_error(repo: Path) -> None:
    result = run_factory(repo, "check", "--package", "tp-nope")

    assert result.returncode == 2
    assert (
        "unknown package 'tp-nope'; the workspace has: tp-alpha, tp-beta, tp-gamma" in result.stderr
    )


def test_outside_a_workspace_is_a_usage_error(tmp_path: Path) -> None:
    result = run_factory(tmp_path, "check")

    assert result.returncode == 2
    assert "is not inside a factory workspace" in result.stderr


def test_a_dependency_cycle_is_reported(repo: Path) -> None:
    write_package(repo, "tp-alpha", "1.0.0", deps=("tp-beta>=1",))

    with pytest.raises(
        UsageError,
        match=r"cycle: tp-(alpha|beta) -> tp-(alpha|beta) -> tp-(alpha|beta)",
    ):
        Workspace.load(repo)


def test_a_broken_pyproject_is_reported_with_its_path(repo: Path) -> None:
    (repo / "packages" / "tp-gamma" / "pyproject.toml").write_text("[project\nname=")

    result = run_factory(repo, "check")

    assert result.returncode == 2
    assert "packages/tp-gamma/pyproject.toml is not valid TOML" in result.stderr


@pytest.mark.parametrize(
    ("make_unreadable", "message"),
    [
        (
            lambda path: path.write_bytes(b"\xff\xfe[project]\n"),
            "is not valid TOML: it is not UTF-8",
        ),
        (lambda path: (path.unlink(), path.mkdir()), "cannot read"),
    ],
    ids=["not-utf8", "a-folder"],
)
def test_an_unreadable_pyproject_is_an_input_error_not_a_traceback(
    repo: Path, make_unreadable: Callable[[Path], object], message: str
) -> None:
    make_unreadable(repo / "packages" / "tp-gamma" / "pyproject.toml")

    result = run_factory(repo, "check")

    assert result.returncode == 2, result.stderr
    assert "packages/tp-gamma/pyproject.toml" in result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_two_packages_with_one_distribution_name_are_refused(repo: Path) -> None:
    clash = write_package(repo, "tp-delta", "1.0.0")
    pyproject = clash / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('name = "tp-delta"', 'name = "TP_Gamma"'))

    result = run_factory(repo, "check")

    assert result.returncode == 2
    assert (
        "two workspace packages have the same distribution name: "
        "tp-gamma in packages/tp-delta and packages/tp-gamma" in result.stderr
    )
