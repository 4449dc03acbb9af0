"""Fixtures of the documentation site tests: the hook module and a strict build."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOOK_FILE = REPO_ROOT / "docs" / "_hooks" / "packages.py"
# Markdown files whose ```python blocks test_docs_examples.py runs.
DOCUMENTS_WITH_EXAMPLES = ("packages/*/README.md", "packages/*/docs/**/*.md", "docs/**/*.md")
# Fenced blocks with these languages are executed; ```pycon, ```bash, ```text are not.
EXAMPLE_LANGUAGES = frozenset({"python", "py"})
ARTIFACTS_DIR = REPO_ROOT / "build" / "test-artifacts" / "docs"
# The four packages the factory was started with; every other one is discovered.
FIRST_PACKAGES = (
    "maestro-audit-logger",
    "maestro-resilience",
    "maestro-test-adapters",
    "maestro-test-result-aggregator",
)


def load_hook() -> ModuleType:
    """Import ``docs/_hooks/packages.py`` the way MkDocs does: by its path."""
    name = "maestro_docs_packages_hook"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HOOK_FILE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while being created
    spec.loader.exec_module(module)
    return module


@dataclass(frozen=True)
class BuiltSite:
    """A site built with ``mkdocs build --strict``."""

    site_dir: Path
    output: str

    def read(self, page: str) -> str:
        return (self.site_dir / page).read_text(encoding="utf-8")


def build_site(config_file: Path, site_dir: Path) -> BuiltSite:
    """Run ``mkdocs build --strict`` and fail with MkDocs' own output if it fails."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "-f",
            str(config_file),
            "-d",
            str(site_dir),
        ],
        cwd=config_file.parent,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        pytest.fail(f"mkdocs build --strict -f {config_file} failed:\n{output}", pytrace=False)
    return BuiltSite(site_dir, output)


class NavLinks(HTMLParser):
    """Collect ``(href, text)`` of the links in Material's primary navigation."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._nav_depth = 0
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "nav" and (
            self._nav_depth or "md-nav--primary" in (attributes.get("class") or "")
        ):
            self._nav_depth += 1
        elif tag == "a" and self._nav_depth:
            self._href, self._text = attributes.get("href") or "", []

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav" and self._nav_depth:
            self._nav_depth -= 1
        elif tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._text).split())))
            self._href = None

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)


def nav_links(html: str) -> list[tuple[str, str]]:
    parser = NavLinks()
    parser.feed(html)
    return parser.links


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def first_packages() -> tuple[str, ...]:
    return FIRST_PACKAGES


@pytest.fixture(scope="session")
def example_languages() -> frozenset[str]:
    return EXAMPLE_LANGUAGES


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture(scope="session")
def site_builder() -> Callable[[Path, Path], BuiltSite]:
    return build_site


@pytest.fixture(scope="session")
def read_nav() -> Callable[[str], list[tuple[str, str]]]:
    return nav_links


@pytest.fixture(scope="session")
def hook() -> ModuleType:
    return load_hook()


@pytest.fixture(scope="session")
def built_site(tmp_path_factory: pytest.TempPathFactory) -> BuiltSite:
    """The repository's site, built once per test session."""
    return build_site(REPO_ROOT / "mkdocs.yml", tmp_path_factory.mktemp("docs-site") / "site")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Give ``document_with_examples`` one value per Markdown file with a python block."""
    if "document_with_examples" not in metafunc.fixturenames:
        return
    hook = load_hook()
    documents: set[Path] = set()
    for pattern in DOCUMENTS_WITH_EXAMPLES:
        for path in REPO_ROOT.glob(pattern):
            blocks = hook.iter_fenced_blocks(path.read_text(encoding="utf-8"))
            if any(block.language in EXAMPLE_LANGUAGES for block in blocks):
                documents.add(path)
    ordered = sorted(documents)
    metafunc.parametrize(
        "document_with_examples",
        ordered,
        ids=[path.relative_to(REPO_ROOT).as_posix() for path in ordered],
    )
