"""Copier and cookiecutter render the same package, file by file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from template_render import (
    ANSWER_SETS,
    ANSWERS_FILE,
    REPO,
    render_cookiecutter,
    render_copier,
    tree,
)

EXTRA_SETS: dict[str, dict[str, Any]] = {
    "python-3.12": {"distribution_name": "maestro-newer", "python_min": "3.12"},
    "standalone-ci": {"distribution_name": "maestro-standalone", "standalone_ci": True},
    "entry-points": {
        "distribution_name": "maestro-plugin",
        "entry_points": {"pytest11": {"maestro_plugin": "maestro_plugin.plugin"}},
    },
}


@pytest.mark.parametrize(
    "answers", [*ANSWER_SETS.values(), *EXTRA_SETS.values()], ids=[*ANSWER_SETS, *EXTRA_SETS]
)
def test_both_engines_render_identical_files(answers: dict[str, Any], tmp_path: Path) -> None:
    by_copier = tree(render_copier(answers, tmp_path / "copier"))
    by_cookiecutter = tree(render_cookiecutter(answers, tmp_path / "cookiecutter"))

    assert ANSWERS_FILE in by_copier
    by_copier.pop(ANSWERS_FILE)
    assert sorted(by_copier) == sorted(by_cookiecutter)
    different = [name for name in by_copier if by_copier[name] != by_cookiecutter[name]]
    assert different == []


def test_every_template_expression_is_rendered(tmp_path: Path) -> None:
    answers = {**ANSWER_SETS["extras"], **ANSWER_SETS["console-script"], "standalone_ci": True}
    rendered = tree(render_copier(answers, tmp_path / "pkg"))
    for name, content in rendered.items():
        text = content.decode()
        assert "cookiecutter." not in text, name
        assert "{%" not in text, name
        # GitHub expressions are the only `{{` that may survive, always as `${{`.
        assert text.count("{{") == text.count("${{"), name


def test_optional_files_are_switched_by_their_names(tmp_path: Path) -> None:
    without = tree(render_copier(ANSWER_SETS["minimal"], tmp_path / "minimal"))
    with_cli = tree(render_copier(ANSWER_SETS["console-script"], tmp_path / "cli"))
    assert "src/maestro_minimal/cli.py" not in without
    assert not any(name.startswith(".github/") for name in without)
    assert "src/maestro_with_cli/cli.py" in with_cli
    assert "src/maestro_with_cli/__main__.py" in with_cli
    assert b'maestro-with-cli = "maestro_with_cli.cli:main"' in with_cli["pyproject.toml"]


def test_extras_and_the_derived_all_extra(tmp_path: Path) -> None:
    import tomllib

    rendered = render_copier(ANSWER_SETS["extras"], tmp_path / "pkg")
    project = tomllib.loads((rendered / "pyproject.toml").read_text())["project"]
    assert project["optional-dependencies"] == {
        "toml": ["tomli-w>=1"],
        "yaml": ["pyyaml>=6"],
        "all": ["tomli-w>=1", "pyyaml>=6"],
    }
    readme = (rendered / "README.md").read_text()
    assert '"maestro-with-extras[yaml]"' in readme
    assert '"maestro-with-extras[all]"' in readme


def test_questions_metadata(tmp_path: Path) -> None:
    import tomllib

    rendered = render_copier(ANSWER_SETS["dependencies"], tmp_path / "pkg")
    pyproject = tomllib.loads((rendered / "pyproject.toml").read_text())
    project = pyproject["project"]
    assert project["name"] == "maestro-with-deps"
    assert project["version"] == "2.0.0rc1"
    assert project["license"] == "MIT"
    assert project["requires-python"] == ">=3.11"
    assert project["dependencies"] == ["packaging>=24,<30", "attrs>=23"]
    assert project["urls"]["Documentation"].endswith("/packages/maestro-with-deps/")
    assert pyproject["build-system"]["build-backend"] == "poetry.core.masonry.api"
    assert pyproject["tool"]["poetry"]["packages"] == [{"include": "maestro_deps", "from": "src"}]
    assert (rendered / "src" / "maestro_deps" / "py.typed").is_file()


def test_undefined_variables_fail_in_both_engines(template_repo: Path, tmp_path: Path) -> None:
    from cookiecutter.exceptions import UndefinedVariableInTemplate

    package_dir = next((template_repo / "template").glob("{{*"))
    (package_dir / "typo.txt").write_text("{{ cookiecutter.no_such_answer }}\n")

    with pytest.raises(Exception, match="no_such_answer"):
        render_copier({"distribution_name": "maestro-typo"}, tmp_path / "copier", src=template_repo)
    with pytest.raises(UndefinedVariableInTemplate):
        render_cookiecutter(
            {"distribution_name": "maestro-typo"}, tmp_path / "cc", src=template_repo
        )
    assert not (tmp_path / "cc" / "maestro-typo").exists()


def test_cookiecutter_json_is_generated_from_copier_yml() -> None:
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "sync_cookiecutter.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
