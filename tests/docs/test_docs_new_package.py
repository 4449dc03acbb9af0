"""A package generated with copier tomorrow gets its section with no edit to the site."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from conftest import BuiltSite

NEW_PACKAGE = "maestro-demo-widgets"
NEW_IMPORT_NAME = "maestro_demo_widgets"
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def copy_working_tree(repo_root: Path, destination: Path) -> None:
    """Copy the files git tracks or would track (no .venv, caches or builds)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo_root,
        capture_output=True,
        check=True,
    ).stdout.decode()
    for relative in filter(None, listed.split("\0")):
        source = repo_root / relative
        if source.is_file():
            target = destination / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)


@pytest.mark.slow
def test_new_copier_package_is_in_nav_and_search(
    repo_root: Path,
    tmp_path: Path,
    site_builder: Callable[[Path, Path], BuiltSite],
    read_nav: Callable[[str], list[tuple[str, str]]],
) -> None:
    assert (repo_root / "copier.yml").is_file(), "the copier template (copier.yml) is missing"
    checkout = tmp_path / "checkout"
    copy_working_tree(repo_root, checkout)
    mkdocs_yml = (checkout / "mkdocs.yml").read_bytes()
    docs_before = sorted(p.relative_to(checkout) for p in (checkout / "docs").rglob("*"))

    copier = Path(sys.executable).with_name("copier")
    generated = subprocess.run(
        [
            str(copier),
            "copy",
            "--trust",
            "--defaults",
            "--data",
            f"distribution_name={NEW_PACKAGE}",
            str(repo_root),
            str(checkout / "packages" / NEW_PACKAGE),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    assert (checkout / "packages" / NEW_PACKAGE / "src" / NEW_IMPORT_NAME / "__init__.py").is_file()

    # a how-to page with an image, written as it reads on the git server
    docs = checkout / "packages" / NEW_PACKAGE / "docs"
    docs.mkdir()
    (docs / "chart.png").write_bytes(PNG_1X1)
    (docs / "howto.md").write_text(
        "# Use the widgets\n\n"
        "![chart](chart.png) See the [overview](../README.md), the "
        "[changelog](../CHANGELOG.md#unreleased) and "
        f"[the code](../src/{NEW_IMPORT_NAME}/__init__.py).\n",
        encoding="utf-8",
    )

    site = site_builder(checkout / "mkdocs.yml", tmp_path / "site")

    # no edit to the site's configuration or pages was needed
    assert (checkout / "mkdocs.yml").read_bytes() == mkdocs_yml
    assert sorted(p.relative_to(checkout) for p in (checkout / "docs").rglob("*")) == docs_before

    nav = read_nav(site.read("index.html"))
    assert (f"packages/{NEW_PACKAGE}/index.html", NEW_PACKAGE) in nav
    assert f"packages/{NEW_PACKAGE}/api/index.html" in {href for href, _ in nav}
    assert f"packages/{NEW_PACKAGE}/changelog/index.html" in {href for href, _ in nav}

    index = json.loads(site.read("search/search_index.json"))
    locations = {entry["location"] for entry in index["docs"]}
    assert f"packages/{NEW_PACKAGE}/index.html" in locations
    assert f"packages/{NEW_PACKAGE}/api/index.html#{NEW_IMPORT_NAME}" in locations
    assert f"packages/{NEW_PACKAGE}/changelog/index.html" in locations
    titles = {entry["title"] for entry in index["docs"]}
    assert NEW_PACKAGE in titles
    assert "Use the widgets" in titles

    howto = site.read(f"packages/{NEW_PACKAGE}/docs/howto.html")
    assert (site.site_dir / "packages" / NEW_PACKAGE / "docs" / "chart.png").read_bytes() == PNG_1X1
    assert 'src="chart.png"' in howto
    assert 'href="../index.html"' in howto
    assert 'href="../changelog/index.html#unreleased"' in howto
    source = f"/blob/main/packages/{NEW_PACKAGE}/src/{NEW_IMPORT_NAME}/__init__.py"
    assert re.search(rf'href="https://[^"]+{re.escape(source)}"', howto), howto
