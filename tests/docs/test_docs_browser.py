"""The built site in a real headless Chromium, served from 127.0.0.1 only.

Every request to another host is aborted and recorded, so the test both proves the
site needs nothing from the internet and never sends traffic outside the machine.
"""

from __future__ import annotations

import contextlib
import functools
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

if TYPE_CHECKING:
    from conftest import BuiltSite
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

TIMEOUT_MS = 30_000


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def site_url(built_site: BuiltSite) -> Iterator[str]:
    """Serve the built site with http.server on a free port of 127.0.0.1."""
    handler = functools.partial(_QuietHandler, directory=str(built_site.site_dir))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # The factory's own browser helper: the system's headless Chromium (/usr/bin/chromium,
    # installed by ./dev test; google-chrome on GitHub's runners; $MAESTRO_CHROMIUM), with
    # the flags that keep it off the network, and never a downloaded browser.
    from maestro_test_adapters.browser import playwright_browser

    with playwright_browser() as browser:
        yield browser


@dataclass
class Session:
    """One browser page plus what it logged and tried to fetch elsewhere."""

    page: Page
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)


@pytest.fixture
def session(browser: Browser) -> Iterator[Session]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    recorded = Session(page)

    def guard(route: Any) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            recorded.foreign_requests.append(route.request.url)
            route.abort()

    def console(message: Any) -> None:
        if message.type == "error":
            recorded.console_errors.append(message.text)

    context.route("**/*", guard)
    page.on("console", console)
    page.on("pageerror", lambda error: recorded.console_errors.append(str(error)))
    page.set_default_timeout(TIMEOUT_MS)
    try:
        yield recorded
    finally:
        context.close()


def public_symbols(built_site: BuiltSite, hook: ModuleType, repo_root: Path) -> dict[str, str]:
    """Pick, per package, one object its API page documents (a class if any).

    Returns a mapping of the object's anchor on the site (``<site_dir>/api/index.html#
    <import_name>.<Name>``) to ``Name``.
    """
    index = json.loads(built_site.read("search/search_index.json"))
    symbols: dict[str, str] = {}
    for package in hook.discover_packages(repo_root):
        page = f"{package.site_dir}/api/index.html#{package.import_name}."
        names = [
            entry["location"].removeprefix(page)
            for entry in index["docs"]
            if entry["location"].startswith(page)
        ]
        names = [name for name in names if name.isidentifier() and not name.startswith("_")]
        assert names, f"{package.distribution}: its API page documents no public object"
        classes = [name for name in names if name[0].isupper() and not name.isupper()]
        symbol = (classes or names)[0]
        symbols[page + symbol] = symbol
    return symbols


def test_home_page_loads_cleanly_and_lists_every_package(
    session: Session,
    site_url: str,
    first_packages: tuple[str, ...],
    hook: ModuleType,
    repo_root: Path,
    artifacts_dir: Path,
) -> None:
    page = session.page
    page.goto(site_url + "index.html", wait_until="networkidle")
    assert page.title().startswith("Maestro package factory")
    page.screenshot(path=str(artifacts_dir / "home.png"), full_page=True, animations="disabled")

    page.get_by_role("link", name="Packages", exact=True).first.click()
    page.wait_for_load_state("networkidle")
    sidebar = page.locator("nav.md-nav--primary a.md-nav__link:visible")
    labels = {" ".join(text.split()) for text in sidebar.all_inner_texts()}
    expected = {package.distribution for package in hook.discover_packages(repo_root)}
    assert set(first_packages) <= expected
    assert expected <= labels, f"navigation shows {sorted(labels)}"

    assert session.console_errors == []
    assert session.foreign_requests == []


def test_api_page_shows_a_documented_class_with_its_signature(
    session: Session,
    site_url: str,
    hook: ModuleType,
    repo_root: Path,
    artifacts_dir: Path,
) -> None:
    page = session.page
    checked: list[str] = []
    for package in hook.discover_packages(repo_root):
        page.goto(f"{site_url}{package.site_dir}/api/index.html", wait_until="networkidle")
        classes = page.locator("div.doc-class")
        if classes.count() == 0:
            checked.append(package.distribution)
            continue
        documented = classes.first
        heading = documented.locator("h2, h3").first
        anchor = heading.get_attribute("id") or ""
        class_name = anchor.rsplit(".", 1)[-1]
        assert anchor.startswith(f"{package.import_name}."), anchor
        assert heading.is_visible()
        signature = documented.locator(".doc-signature").first
        assert signature.is_visible()
        signature_text = signature.inner_text()
        assert signature_text.startswith(class_name + "("), signature_text
        docstring = documented.locator(".doc-contents").first.inner_text()
        assert docstring.strip(), f"{anchor} has no docstring on the page"
        heading.scroll_into_view_if_needed()
        page.screenshot(
            path=str(artifacts_dir / f"api-{package.distribution}.png"), animations="disabled"
        )
        assert session.console_errors == []
        assert session.foreign_requests == []
        return
    pytest.fail(f"no API page shows a class: {checked}")


def search(page: Page, text: str, expected_anchor: str) -> list[str]:
    """Type ``text`` in the search box like a user; wait for a result linking ``expected_anchor``.

    Returns the links of the results shown (whether or not the expected one came).
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
    from playwright.sync_api import expect

    box = page.locator("input.md-search__input")
    box.click()
    box.fill("")
    expect(page.locator(".md-search-result__item")).to_have_count(0)  # no stale results
    box.press_sequentially(text, delay=20)
    path, fragment = expected_anchor.split("#", 1)
    expected = page.locator(f'.md-search-result__item a[href*="{path}"][href$="#{fragment}"]')
    with contextlib.suppress(PlaywrightTimeoutError):
        expected.first.wait_for(state="attached")
    links = page.locator(".md-search-result__item a")
    return [links.nth(index).get_attribute("href") or "" for index in range(links.count())]


def test_search_finds_a_public_symbol_of_every_package(
    session: Session,
    site_url: str,
    built_site: BuiltSite,
    hook: ModuleType,
    repo_root: Path,
) -> None:
    page = session.page
    page.goto(site_url + "index.html", wait_until="networkidle")
    for anchor, symbol in public_symbols(built_site, hook, repo_root).items():
        results = search(page, symbol, anchor)
        found = {f"{url.path.lstrip('/')}#{url.fragment}" for url in map(urlsplit, results)}
        assert anchor in found, f"searching {symbol!r} did not find {anchor}: {results}"
    assert session.console_errors == []
    assert session.foreign_requests == []
