"""The site builds strictly and every package gets its overview, API reference and changelog."""

from __future__ import annotations

import importlib
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from conftest import BuiltSite

NavReader = Callable[[str], list[tuple[str, str]]]


def test_strict_build_has_no_warnings(built_site: BuiltSite) -> None:
    # --strict already turns warnings into a failed build; this also catches any
    # warning a plugin logs after the build counted them.
    assert "WARNING" not in built_site.output, built_site.output
    assert (built_site.site_dir / "index.html").is_file()


def test_every_package_is_in_the_navigation(
    built_site: BuiltSite,
    hook: ModuleType,
    repo_root: Path,
    first_packages: tuple[str, ...],
    read_nav: NavReader,
) -> None:
    packages = hook.discover_packages(repo_root)
    assert {package.distribution for package in packages} >= set(first_packages)
    links = read_nav(built_site.read("index.html"))
    for package in packages:
        overview = f"{package.site_dir}/index.html"
        labels = {text for href, text in links if href == overview}
        assert package.distribution in labels, f"{package.distribution} not in the nav: {links}"
        assert f"{package.site_dir}/api/index.html" in {href for href, _ in links}


def test_each_package_has_overview_how_tos_api_and_changelog(
    built_site: BuiltSite, hook: ModuleType, repo_root: Path
) -> None:
    for package in hook.discover_packages(repo_root):
        site = built_site.site_dir / package.site_dir
        readme = (package.root / "README.md").read_text(encoding="utf-8")
        title = next(hook.headings(readme))[2]
        assert title in (site / "index.html").read_text(encoding="utf-8"), package.folder

        api = (site / "api" / "index.html").read_text(encoding="utf-8")
        assert f'id="{package.import_name}"' in api, f"{package.folder}: no module on the API page"

        changelog = (package.root / "CHANGELOG.md").read_text(encoding="utf-8")
        changelog_page = (site / "changelog" / "index.html").read_text(encoding="utf-8")
        assert next(hook.headings(changelog))[2] in changelog_page, package.folder

        for how_to in sorted((package.root / "docs").glob("*.md")):
            assert (site / "docs" / how_to.with_suffix(".html").name).is_file(), how_to


def test_every_exported_class_function_and_documented_constant_is_on_the_api_page(
    built_site: BuiltSite, hook: ModuleType, repo_root: Path
) -> None:
    """Each class and function of a package's ``__all__`` has its heading, also one named
    like a submodule (``from .retry import retry``), which griffe would take for the
    module; so has each constant documented with a Sphinx ``#:`` comment."""
    missing: list[str] = []
    for package in hook.discover_packages(repo_root):
        module = importlib.import_module(package.import_name)
        page = built_site.read(f"{package.site_dir}/api/index.html")
        headings = set(re.findall(r'<h[1-6] id="([^"]+)" class="doc doc-heading', page))
        sources = "\n".join(
            path.read_text(encoding="utf-8") for path in (package.root / "src").rglob("*.py")
        )
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isclass(obj) or inspect.isfunction(obj):
                ids = {f"{package.import_name}.{name}", f"{obj.__module__}.{obj.__qualname__}"}
            elif re.search(rf"(?m)^#:.*\n(?:#:.*\n)*{name}\b\s*(?::[^=\n]*)?=", sources):
                ids = {f"{package.import_name}.{name}"}
            else:
                continue
            if not ids & headings:
                missing.append(f"{package.import_name}.{name}")
    assert missing == []


def test_no_list_item_shows_as_text(built_site: BuiltSite) -> None:
    """A ``- item`` or ``1. item`` line never ends up inside a paragraph as literal text
    (CommonMark list blocks indented by two spaces, as the package READMEs write them)."""
    marker_in_text = re.compile(
        r"(?:^|\n)[ \t]*(?:[-*+]|\d{1,9}[.)]) +<strong>|(?:^|\n)[ \t]*[-*+] \w"
    )
    offenders = [
        f"{page.relative_to(built_site.site_dir)}: {paragraph[:80]!r}"
        for page in built_site.site_dir.rglob("*.html")
        for paragraph in re.findall(r"<p>(.*?)</p>", page.read_text(encoding="utf-8"), re.S)
        if marker_in_text.search(paragraph)
    ]
    assert offenders == []


def test_search_index_covers_every_package(
    built_site: BuiltSite, hook: ModuleType, repo_root: Path
) -> None:
    index = json.loads(built_site.read("search/search_index.json"))
    locations = [entry["location"] for entry in index["docs"]]
    for package in hook.discover_packages(repo_root):
        api_anchor = f"{package.site_dir}/api/index.html#{package.import_name}"
        assert any(location.startswith(api_anchor) for location in locations), package.distribution


def test_site_loads_nothing_from_other_hosts(built_site: BuiltSite) -> None:
    """No font, script, style, image or frame comes from another host (canonical links may)."""
    tag = re.compile(r"<(?:script|link|img|iframe|source)\b[^>]*>")
    remote = re.compile(r"""\b(?:src|href)=["'](?:https?:)?//""")
    offenders = [
        f"{page.relative_to(built_site.site_dir)}: {found}"
        for page in built_site.site_dir.rglob("*.html")
        for found in tag.findall(page.read_text(encoding="utf-8"))
        if remote.search(found) and 'rel="canonical"' not in found
    ]
    assert offenders == []


def test_package_links_point_at_pages_or_the_source_repository(
    built_site: BuiltSite, repo_root: Path
) -> None:
    """Links in package docs to files the site does not carry go to the source repository."""
    config = yaml.safe_load((repo_root / "mkdocs.yml").read_text(encoding="utf-8"))
    source_url = config["repo_url"].rstrip("/") + "/"
    bad: list[str] = []
    for page in (built_site.site_dir / "packages").rglob("*.html"):
        for href in re.findall(r'href="([^"#]+\.(?:md|py))"', page.read_text(encoding="utf-8")):
            if not href.startswith(source_url):
                bad.append(f"{page.relative_to(built_site.site_dir)}: {href}")
    assert bad == []


def test_benchmark_page_has_a_section_per_package(
    built_site: BuiltSite, hook: ModuleType, repo_root: Path
) -> None:
    page = built_site.read("benchmarks.html")
    for package in hook.discover_packages(repo_root):
        assert f"{package.site_dir}/index.html" in page
        section = hook.extract_section(
            (package.root / "README.md").read_text(encoding="utf-8"), hook.BENCHMARK_HEADING
        )
        if section is not None and "|" in section[1]:
            first_row = next(line for line in section[1].splitlines() if line.startswith("|"))
            first_cell = first_row.strip("|").split("|")[0].strip().strip("`*")
            assert first_cell in page, f"{package.distribution}: benchmark table not on the page"


def test_every_guide_is_in_the_navigation(
    built_site: BuiltSite, repo_root: Path, read_nav: NavReader
) -> None:
    hrefs = {href for href, _ in read_nav(built_site.read("index.html"))}
    for guide in sorted((repo_root / "docs" / "guides").glob("*.md")):
        assert f"guides/{Path(guide).stem}.html" in hrefs, guide.name
