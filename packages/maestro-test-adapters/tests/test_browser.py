"""Browser helpers against a page served on 127.0.0.1: system Chromium, remote endpoints."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from maestro_test_adapters import browser

pytestmark = pytest.mark.browser

REQUIRED_FLAGS = {
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
}


def test_chromium_flags_are_the_quiet_offline_set() -> None:
    assert set(browser.CHROMIUM_FLAGS) == REQUIRED_FLAGS


def test_system_binaries_are_found() -> None:
    assert browser.find_chromium().name in {"chromium", "chromium-browser", "google-chrome"}
    assert browser.find_chromedriver().name == "chromedriver"


def test_an_environment_override_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fake = tmp_path / "my-chromium"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv(browser.CHROMIUM_VARIABLE, str(fake))

    assert browser.find_chromium() == fake


def test_a_bad_override_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(browser.CHROMEDRIVER_VARIABLE, str(tmp_path / "missing"))

    with pytest.raises(browser.BrowserNotFoundError, match="from MAESTRO_CHROMEDRIVER"):
        browser.find_chromedriver()


def test_nothing_is_downloaded_when_the_driver_is_missing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chromium = browser.find_chromium()  # before PATH is emptied: only the driver is missing
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv(browser.CHROMEDRIVER_VARIABLE, raising=False)
    monkeypatch.delenv(browser.SELENIUM_REMOTE_URL_VARIABLE, raising=False)

    with (
        pytest.raises(browser.BrowserNotFoundError, match="apt-get install chromium"),
        browser.selenium_driver(chromium=chromium),
    ):
        pass


def test_selenium_session_on_the_served_page(served_page: str) -> None:
    with browser.selenium_driver() as driver:
        driver.get(served_page)
        profile = Path(driver.capabilities["chrome"]["userDataDir"])
        assert driver.title == "Maestro fixture"
        assert profile.is_dir()
        attachments = browser.save_selenium_artifacts(driver, profile.parent / "art", "page")

    assert not profile.exists(), "the fresh profile directory is removed after the session"
    assert os.environ["SE_OFFLINE"] == "true"
    assert [a.media_type for a in attachments] == ["image/png", "text/html"]
    assert "<h1>Hello</h1>" in Path(attachments[1].path).read_text()


def test_playwright_page_on_the_served_page(served_page: str) -> None:
    with browser.playwright_browser() as launched, browser.playwright_page(launched) as page:
        page.goto(served_page)
        assert page.title() == "Maestro fixture"
        assert page.inner_text("h1") == "Hello"


def test_playwright_page_saves_artifacts_when_the_block_fails(
    served_page: str, tmp_path: Path
) -> None:
    with browser.playwright_browser() as launched:
        with (
            pytest.raises(AssertionError),
            browser.playwright_page(launched, artifacts_dir=tmp_path, name="login") as page,
        ):
            page.goto(served_page)
            raise AssertionError("the test failed")

    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "login.html",
        "login.png",
        "login.trace.zip",
    ]


def test_selenium_remote_session(webdriver_server: str, served_page: str) -> None:
    with browser.selenium_driver(remote_url=webdriver_server) as driver:
        driver.get(served_page)
        assert driver.title == "Maestro fixture"


@pytest.fixture
def playwright_server(js_project: Path) -> Iterator[str]:
    """A Playwright browser server (Playwright's own launchServer) on system Chromium."""
    server = subprocess.Popen(
        ["node", "launch-server.js"],
        cwd=js_project,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout is not None and server.stdin is not None
    try:
        endpoint = server.stdout.readline().strip()
        assert endpoint.startswith("ws://127.0.0.1:"), endpoint
        yield endpoint
    finally:
        server.stdin.close()
        server.wait(timeout=30)


def test_playwright_connects_to_a_remote_server(playwright_server: str, served_page: str) -> None:
    with (
        browser.playwright_browser(connect=playwright_server) as remote,
        browser.playwright_page(remote) as page,
    ):
        page.goto(served_page)
        assert page.title() == "Maestro fixture"
