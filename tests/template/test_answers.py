"""Bad answers get a clear message from both engines and leave nothing behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from template_render import REPO, render_cookiecutter, render_copier

BAD_ANSWERS: list[tuple[dict[str, Any], str]] = [
    ({"distribution_name": "Maestro_Widgets"}, "not PEP 503 normalised: use 'maestro-widgets'"),
    ({"distribution_name": "maestro widgets"}, "is not a valid PEP 508 name"),
    ({"distribution_name": "-maestro"}, "is not a valid PEP 508 name"),
    ({"distribution_name": "maestro/widgets"}, "contains a path separator"),
    ({"distribution_name": "..\\maestro"}, "contains a path separator"),
    (
        {"distribution_name": "maestro-x", "import_name": "maestro-x"},
        "not a valid Python identifier",
    ),
    ({"distribution_name": "maestro-x", "import_name": "class"}, "is a Python keyword"),
    ({"distribution_name": "maestro-x", "import_name": "logging"}, "shadows the standard-library"),
    ({"distribution_name": "maestro-x", "import_name": "../x"}, "contains a path separator"),
    ({"distribution_name": "maestro-x", "author_email": "nobody"}, "e-mail address"),
    ({"distribution_name": "maestro-x", "initial_version": "v1"}, "not a canonical PEP 440"),
    ({"distribution_name": "maestro-x", "dependencies": "requests>>2"}, "not a valid PEP 508"),
    (
        {"distribution_name": "maestro-x", "dependencies": "shared @ file:///src/shared"},
        "points at a path or URL",
    ),
    ({"distribution_name": "maestro-x", "extras": {"all": ["x>=1"]}}, "'all' is derived"),
    ({"distribution_name": "maestro-x", "extras": {"Fast_IO": ["x>=1"]}}, "normalised name"),
    ({"distribution_name": "maestro-x", "extras": {"fast": []}}, "lists no requirements"),
    ({"distribution_name": "maestro-x", "console_script": "bin/x"}, "contains a path separator"),
    (
        {"distribution_name": "maestro-x", "entry_points": {"pytest11": {"p": "not valid!"}}},
        "is not of the form",
    ),
    ({"distribution_name": "maestro-x", "description": "   "}, "description is empty"),
    (
        {"distribution_name": "maestro-x", "entry_points": {"my plugins": {"p": "maestro_x"}}},
        "is not a group name",
    ),
    (
        {"distribution_name": "maestro-x", "entry_points": {"pytest11": {"a=b": "maestro_x"}}},
        "entry point name 'a=b' in group 'pytest11' is not valid",
    ),
    (
        {"distribution_name": "maestro-x", "entry_points": {"pytest11": {"p": "maestro_x:f."}}},
        "is not of the form",
    ),
    ({"distribution_name": "maestro-x", "repository_url": ""}, "is not an absolute http(s) URL"),
    ({"distribution_name": "maestro-x", "docs_url": "docs.example"}, "not an absolute http(s) URL"),
    (
        {"distribution_name": "maestro-x", "index_url": "https://a b/"},
        "not an absolute http(s) URL",
    ),
    ({"distribution_name": "maestro-x", "author_name": "Ann, Bob <b@x.org>"}, "core metadata"),
    ({"distribution_name": "maestro-x", "author_name": " "}, "the author name is empty"),
]
IDS = [f"{next(iter(a.items()))[1] if len(a) == 1 else list(a)[-1]}" for a, _ in BAD_ANSWERS]


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=IDS)
def test_copier_rejects_bad_answers(answers: dict[str, Any], message: str, tmp_path: Path) -> None:
    target = tmp_path / "new-package"
    with pytest.raises(ValueError, match="Validation error") as error:
        render_copier(answers, target)
    assert message in str(error.value)
    assert not target.exists()


@pytest.mark.parametrize(("answers", "message"), BAD_ANSWERS, ids=IDS)
def test_cookiecutter_rejects_bad_answers(
    answers: dict[str, Any], message: str, tmp_path: Path
) -> None:
    from cookiecutter.exceptions import UndefinedVariableInTemplate

    output = tmp_path / "out"
    with pytest.raises(UndefinedVariableInTemplate) as error:
        render_cookiecutter(answers, output)
    assert message in str(error.value.error)
    assert list(output.iterdir()) == []


def test_copier_refuses_a_non_empty_target_folder(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()
    (target / "notes.txt").write_text("keep me\n")
    with pytest.raises(ValueError, match="already exists and is not empty"):
        render_copier({"distribution_name": "maestro-x"}, target)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "keep me\n"


def test_cookiecutter_refuses_an_existing_target_folder(tmp_path: Path) -> None:
    from cookiecutter.exceptions import OutputDirExistsException

    (tmp_path / "maestro-x").mkdir()
    (tmp_path / "maestro-x" / "notes.txt").write_text("keep me\n")
    with pytest.raises(OutputDirExistsException):
        render_cookiecutter({"distribution_name": "maestro-x"}, tmp_path)
    assert [p.name for p in (tmp_path / "maestro-x").iterdir()] == ["notes.txt"]


def test_command_lines_print_the_reason(tmp_path: Path) -> None:
    bin_dir = Path(sys.executable).parent
    copier = subprocess.run(
        [
            str(bin_dir / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--data",
            "distribution_name=Bad_Name",
            str(REPO),
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
    )
    assert copier.returncode != 0
    assert "not PEP 503 normalised: use 'bad-name'" in copier.stderr
    cookiecutter = subprocess.run(
        [
            str(bin_dir / "cookiecutter"),
            "--no-input",
            "--directory",
            "template",
            "-o",
            str(tmp_path / "b"),
            str(REPO),
            "distribution_name=Bad_Name",
        ],
        capture_output=True,
        text=True,
    )
    assert cookiecutter.returncode != 0
    assert "not PEP 503 normalised: use 'bad-name'" in cookiecutter.stdout + cookiecutter.stderr
    assert not (tmp_path / "a").exists()
    assert not (tmp_path / "b" / "Bad_Name").exists()


def test_copier_prints_an_invalid_requirements_reason_on_the_last_line(tmp_path: Path) -> None:
    # packaging's own message spans three lines (text, requirement, caret): only the first
    # is kept, so the last line of copier's output names the question and the reason.
    copier = subprocess.run(
        [
            str(Path(sys.executable).parent / "copier"),
            "copy",
            "--trust",
            "--defaults",
            "--data",
            "distribution_name=maestro-x",
            "--data",
            "dependencies=requests>=",
            str(REPO),
            str(tmp_path / "a"),
        ],
        capture_output=True,
        text=True,
    )
    assert copier.returncode == 1
    last_line = copier.stderr.strip().splitlines()[-1]
    assert last_line.startswith("ValueError: Validation error for question 'dependencies'")
    assert "'requests>=' is not a valid PEP 508 requirement: Expected" in last_line
