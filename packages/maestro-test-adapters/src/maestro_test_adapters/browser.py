"""Browser sessions for Selenium and Playwright suites, without downloading anything.

Locally the browser is the system's headless Chromium (``/usr/bin/chromium``
and ``/usr/bin/chromedriver`` on Debian, found automatically); at scale it is
a Selenium Grid (``remote_url``) or a Playwright server (``connect``).
Selenium Manager is switched off and Playwright is always given an
``executable_path``, so no code path here ever fetches a browser or a driver.

Paths and endpoints can be given as arguments or through the environment
(:data:`CHROMIUM_VARIABLE`, :data:`CHROMEDRIVER_VARIABLE`,
:data:`SELENIUM_REMOTE_URL_VARIABLE`, :data:`PLAYWRIGHT_ENDPOINT_VARIABLE`);
arguments win.

``selenium`` and ``playwright`` are optional: install the extras
``maestro-test-adapters[selenium]`` or ``[playwright]``. This module imports
them only when a session is opened.

>>> "--headless" in CHROMIUM_FLAGS and "--disable-quic" in CHROMIUM_FLAGS
True
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Final, TypeAlias

from maestro_test_adapters.models import Attachment

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page
    from selenium.webdriver.remote.webdriver import WebDriver

__all__ = [
    "CHROMEDRIVER_VARIABLE",
    "CHROMIUM_FLAGS",
    "CHROMIUM_VARIABLE",
    "PLAYWRIGHT_ENDPOINT_VARIABLE",
    "SELENIUM_REMOTE_URL_VARIABLE",
    "BrowserNotFoundError",
    "find_chromedriver",
    "find_chromium",
    "playwright_browser",
    "playwright_page",
    "save_playwright_artifacts",
    "save_selenium_artifacts",
    "selenium_driver",
]

#: Path of the Chromium binary to use instead of the one found on the system.
CHROMIUM_VARIABLE: Final = "MAESTRO_CHROMIUM"
#: Path of the chromedriver binary to use instead of the one found on the system.
CHROMEDRIVER_VARIABLE: Final = "MAESTRO_CHROMEDRIVER"
#: Selenium Grid URL; when set, Selenium sessions are remote.
SELENIUM_REMOTE_URL_VARIABLE: Final = "MAESTRO_SELENIUM_REMOTE_URL"
#: Playwright server endpoint (``ws://...``); when set, browsers are remote.
PLAYWRIGHT_ENDPOINT_VARIABLE: Final = "MAESTRO_PLAYWRIGHT_ENDPOINT"

#: Flags for a quiet, headless, offline-friendly Chromium (a fresh
#: ``--user-data-dir`` is added per session).
CHROMIUM_FLAGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)

_CHROMIUM_NAMES: Final = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_APT_HINT: Final = "install it (Debian: `apt-get install chromium chromium-driver`)"

#: A function that resolves a binary, preferring an explicit path.
Finder: TypeAlias = Callable[[str | os.PathLike[str] | None], Path]


class BrowserNotFoundError(FileNotFoundError):
    """Chromium or chromedriver is not installed where it was looked for.

    >>> print(BrowserNotFoundError("chromedriver", "set MAESTRO_CHROMEDRIVER"))
    chromedriver not found: set MAESTRO_CHROMEDRIVER
    """

    def __init__(self, what: str, install_hint: str) -> None:
        super().__init__(f"{what} not found: {install_hint}")
        self.what = what
        self.install_hint = install_hint


def _find(
    what: str, explicit: str | os.PathLike[str] | None, variable: str, names: Sequence[str]
) -> Path:
    configured = explicit if explicit is not None else os.environ.get(variable)
    if configured:
        path = Path(configured)
        if path.is_file() and os.access(path, os.X_OK):
            return path
        raise BrowserNotFoundError(
            what,
            f"{path} (from {'the argument' if explicit else variable}) is not an executable file",
        )
    for name in names:
        found = shutil.which(name)
        if found is not None:
            return Path(found)
    raise BrowserNotFoundError(what, f"{_APT_HINT}, or set {variable} to its path")


def find_chromium(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the Chromium binary: ``explicit``, else ``$MAESTRO_CHROMIUM``, else ``PATH``.

    Raises:
        BrowserNotFoundError: No executable Chromium; the message says how to get one.

    >>> find_chromium().is_file()  # Debian's chromium, or Google Chrome on GitHub's runners
    True
    """
    return _find("Chromium", explicit, CHROMIUM_VARIABLE, _CHROMIUM_NAMES)


def find_chromedriver(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return chromedriver: ``explicit``, else ``$MAESTRO_CHROMEDRIVER``, else ``PATH``.

    Raises:
        BrowserNotFoundError: No executable chromedriver.

    >>> find_chromedriver().name
    'chromedriver'
    """
    return _find("chromedriver", explicit, CHROMEDRIVER_VARIABLE, ("chromedriver",))


@contextlib.contextmanager
def selenium_driver(
    *,
    chromium: str | os.PathLike[str] | None = None,
    chromedriver: str | os.PathLike[str] | None = None,
    remote_url: str | None = None,
    arguments: Sequence[str] = (),
) -> Iterator[WebDriver]:
    """Open a Selenium WebDriver session on Chromium and quit it afterwards.

    Without ``remote_url`` (or ``$MAESTRO_SELENIUM_REMOTE_URL``) the session
    runs the local headless Chromium through the local chromedriver, with a
    fresh profile directory that is removed afterwards; Selenium Manager is
    disabled (``SE_OFFLINE=true``) so nothing is downloaded.

    Args:
        chromium: Chromium binary (default: :func:`find_chromium`).
        chromedriver: chromedriver binary (default: :func:`find_chromedriver`).
        remote_url: Selenium Grid URL for a remote session.
        arguments: More Chromium flags, after :data:`CHROMIUM_FLAGS`.

    Raises:
        BrowserNotFoundError: A local binary is missing.

    >>> with selenium_driver() as driver:
    ...     driver.get("data:text/html,<title>hi</title>")
    ...     driver.title
    'hi'
    """
    from selenium import webdriver  # optional dependency: imported on use
    from selenium.webdriver.chrome.service import Service

    remote_url = remote_url or os.environ.get(SELENIUM_REMOTE_URL_VARIABLE) or None
    options = webdriver.ChromeOptions()
    for flag in (*CHROMIUM_FLAGS, *arguments):
        options.add_argument(flag)
    if remote_url is not None:
        driver: WebDriver = webdriver.Remote(command_executor=remote_url, options=options)
        try:
            yield driver
        finally:
            driver.quit()
        return

    binary = find_chromium(chromium)
    driver_path = find_chromedriver(chromedriver)
    # Selenium Manager is only consulted when a path is missing; both are set,
    # and SE_OFFLINE makes sure it could not download even if it were.
    os.environ["SE_OFFLINE"] = "true"
    options.binary_location = str(binary)
    with tempfile.TemporaryDirectory(prefix="maestro-chromium-") as profile:
        options.add_argument(f"--user-data-dir={profile}")
        service = Service(executable_path=str(driver_path))
        driver = webdriver.Chrome(service=service, options=options)
        try:
            yield driver
        finally:
            driver.quit()


@contextlib.contextmanager
def playwright_browser(
    *,
    chromium: str | os.PathLike[str] | None = None,
    connect: str | None = None,
    arguments: Sequence[str] = (),
) -> Iterator[Browser]:
    """Launch headless Chromium with Playwright (or connect to a Playwright server).

    Locally Playwright is given the system Chromium as ``executable_path``
    (Playwright gives every launch a fresh temporary profile itself), so
    ``playwright install`` is never needed.

    Args:
        chromium: Chromium binary (default: :func:`find_chromium`).
        connect: ``ws://`` endpoint of a Playwright server
            (default: ``$MAESTRO_PLAYWRIGHT_ENDPOINT``); no local browser then.
        arguments: More Chromium flags, after :data:`CHROMIUM_FLAGS`.

    Raises:
        BrowserNotFoundError: Chromium is missing.

    >>> with playwright_browser() as browser, playwright_page(browser) as page:
    ...     page.set_content("<title>hi</title>")
    ...     page.title()
    'hi'
    """
    from playwright.sync_api import sync_playwright  # optional dependency: imported on use

    connect = connect or os.environ.get(PLAYWRIGHT_ENDPOINT_VARIABLE) or None
    executable = None if connect is not None else find_chromium(chromium)
    with sync_playwright() as playwright:
        if executable is None:
            browser = playwright.chromium.connect(connect or "")
        else:
            browser = playwright.chromium.launch(
                executable_path=executable,
                headless=True,
                # Playwright adds --headless and its own --user-data-dir.
                args=[f for f in (*CHROMIUM_FLAGS, *arguments) if f != "--headless"],
            )
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def playwright_page(
    browser: Browser,
    *,
    artifacts_dir: str | os.PathLike[str] | None = None,
    name: str = "page",
) -> Iterator[Page]:
    """Open a page in a fresh browser context, recording a trace.

    When the block raises and ``artifacts_dir`` is given, a screenshot, the
    page HTML and the trace are saved there (see
    :func:`save_playwright_artifacts`) before the exception propagates.

    >>> with playwright_browser() as browser, playwright_page(browser) as page:
    ...     page.set_content("<h1>Hello</h1>")
    ...     page.inner_text("h1")
    'Hello'
    """
    context = browser.new_context()
    context.tracing.start(screenshots=True, snapshots=True)
    page = context.new_page()
    try:
        yield page
    except BaseException:
        if artifacts_dir is not None:
            save_playwright_artifacts(page, artifacts_dir, name)
        raise
    finally:
        with contextlib.suppress(Exception):  # already stopped when saved
            context.tracing.stop()
        context.close()


def save_selenium_artifacts(
    driver: WebDriver, directory: str | os.PathLike[str], name: str
) -> list[Attachment]:
    """Save a screenshot and the page HTML of ``driver``; return them as attachments.

    Files are ``<directory>/<name>.png`` and ``<directory>/<name>.html``.
    What cannot be captured (the browser is gone) is left out.

    >>> with tempfile.TemporaryDirectory() as folder, selenium_driver() as driver:
    ...     driver.get("data:text/html,<h1>Hi</h1>")
    ...     saved = save_selenium_artifacts(driver, folder, "home")
    >>> [(Path(a.path).name, a.media_type) for a in saved]
    [('home.png', 'image/png'), ('home.html', 'text/html')]
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    attachments = []
    screenshot = folder / f"{name}.png"
    with contextlib.suppress(Exception):
        if driver.save_screenshot(str(screenshot)):
            attachments.append(Attachment(str(screenshot), "image/png", "screenshot"))
    html = folder / f"{name}.html"
    with contextlib.suppress(Exception):
        html.write_text(driver.page_source, encoding="utf-8")
        attachments.append(Attachment(str(html), "text/html", "page source"))
    return attachments


def save_playwright_artifacts(
    page: Page, directory: str | os.PathLike[str], name: str
) -> list[Attachment]:
    """Save a screenshot, the page HTML and the context's trace; return them as attachments.

    Files are ``<name>.png``, ``<name>.html`` and ``<name>.trace.zip`` in
    ``directory``; open the trace with ``playwright show-trace``. Tracing is
    stopped by this call. What cannot be captured is left out.

    >>> with tempfile.TemporaryDirectory() as folder, playwright_browser() as browser:
    ...     with playwright_page(browser) as page:
    ...         page.set_content("<h1>Hi</h1>")
    ...         saved = save_playwright_artifacts(page, folder, "home")
    >>> [Path(a.path).name for a in saved]
    ['home.png', 'home.html', 'home.trace.zip']
    """
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    attachments = []
    screenshot = folder / f"{name}.png"
    with contextlib.suppress(Exception):
        page.screenshot(path=screenshot, full_page=True)
        attachments.append(Attachment(str(screenshot), "image/png", "screenshot"))
    html = folder / f"{name}.html"
    with contextlib.suppress(Exception):
        html.write_text(page.content(), encoding="utf-8")
        attachments.append(Attachment(str(html), "text/html", "page source"))
    trace = folder / f"{name}.trace.zip"
    with contextlib.suppress(Exception):
        page.context.tracing.stop(path=trace)
        attachments.append(Attachment(str(trace), "application/zip", "trace"))
    return attachments
