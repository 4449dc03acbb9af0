"""Every package in packages/ still matches the template it was generated from.

Each package is rendered again from its own recorded answers with the current template;
every template-owned file must be identical. Files listed in copier.yml `_skip_if_exists`
belong to the package, and so does the `version` line of pyproject.toml. When this test
fails after a template change, carry the change over with `copier update` (see
docs/guides/template-updates.md).
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from template_render import ANSWERS_FILE, REPO, render_copier, tree

PACKAGES = sorted(path.parent for path in REPO.glob(f"packages/*/{ANSWERS_FILE}"))
COPIER_CONFIG = yaml.safe_load((REPO / "copier.yml").read_text())
PACKAGE_OWNED = COPIER_CONFIG["_skip_if_exists"]
VERSION_LINE = re.compile(rb'^version = "[^"]*"$', re.MULTILINE)


def template_owned(relative: str) -> bool:
    return relative != ANSWERS_FILE and not any(
        fnmatch.fnmatch(relative, pattern) for pattern in PACKAGE_OWNED
    )


def without_version(pyproject: bytes) -> bytes:
    return VERSION_LINE.sub(b'version = "<owned by the package>"', pyproject, count=1)


def test_every_package_was_generated_from_the_template() -> None:
    names = {path.name for path in REPO.glob("packages/*") if path.is_dir()}
    assert names >= {
        "maestro-audit-logger",
        "maestro-resilience",
        "maestro-test-adapters",
        "maestro-test-result-aggregator",
    }
    assert {path.name for path in PACKAGES} == names, "a package has no .copier-answers.yml"


@pytest.mark.parametrize("package", PACKAGES, ids=[path.name for path in PACKAGES])
def test_template_owned_files_have_not_drifted(package: Path, tmp_path: Path) -> None:
    answers = yaml.safe_load((package / ANSWERS_FILE).read_text())
    data = {key: value for key, value in answers.items() if not key.startswith("_")}
    expected = {
        name: content
        for name, content in tree(render_copier(data, tmp_path / package.name)).items()
        if template_owned(name)
    }
    actual = {name: content for name, content in tree(package).items() if template_owned(name)}

    missing = sorted(set(expected) - set(actual))
    assert missing == [], f"{package.name} lacks template files: run copier update"
    expected["pyproject.toml"] = without_version(expected["pyproject.toml"])
    actual["pyproject.toml"] = without_version(actual["pyproject.toml"])
    drifted = sorted(name for name in expected if expected[name] != actual[name])
    assert drifted == [], (
        f"{package.name}: {drifted} differ from the template; run "
        f"`uv run copier update --trust --defaults packages/{package.name}`"
    )


def test_no_update_leftovers_in_the_repository() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    leftovers = [name for name in tracked if name.endswith((".rej", ".orig"))]
    assert leftovers == []
    markers = re.compile(r"^(<<<<<<< |>>>>>>> )", re.MULTILINE)
    conflicted = [
        name
        for name in tracked
        if name.startswith(("packages/", "template/"))
        and name.endswith((".py", ".toml", ".md", ".yml", ".yaml", ".json", ".cfg"))
        and (REPO / name).is_file()
        and markers.search((REPO / name).read_text(errors="replace"))
    ]
    assert conflicted == []
