"""Shared fixtures of the adapter, browser and plugin tests: real suites, a real page."""

from __future__ import annotations

import fcntl
import functools
import http.server
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from maestro_test_adapters.browser import find_chromedriver

FIXTURES = Path(__file__).parent / "fixtures"

# The suites under fixtures/ are run by the adapters in child processes; they
# must not be collected (or imported by --doctest-modules) by this test run.
collect_ignore = ["fixtures"]
PAGE = (
    "<!doctype html><html><head><title>Maestro fixture</title></head>"
    "<body><h1>Hello</h1></body></html>"
)


@pytest.fixture(scope="session")
def python_suites() -> Path:
    """Folder of the pytest and behave suites the adapters run."""
    return FIXTURES / "python"


@pytest.fixture(scope="session")
def js_project() -> Path:
    """The npm fixture project, with ``node_modules`` installed from the lock file.

    ``npm ci`` runs once, under a file lock so parallel sessions do not collide.
    """
    project = FIXTURES / "js"
    if shutil.which("npm") is None:
        pytest.fail("npm is needed for the Jest, cucumber-js and Playwright Test suites")
    with open(project / ".npm-ci.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (project / "node_modules" / ".package-lock.json").is_file():
            subprocess.run(
                ["npm", "ci", "--no-audit", "--no-fund"], cwd=project, check=True, timeout=600
            )
    return project


@pytest.fixture(scope="session")
def served_page(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a small HTML page served on 127.0.0.1 by this test session."""
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text(PAGE, encoding="utf-8")
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def pid_file(tmp_path: Path) -> Path:
    """File where a hanging fixture suite writes the pid of the grandchild it started."""
    return tmp_path / "grandchild.pid"


@pytest.fixture
def assert_gone() -> Callable[[Path], None]:
    """Check that the process whose pid is in a file is dead (gone or a zombie)."""

    def check(pid_file: Path, deadline: float = 10.0) -> None:
        assert pid_file.is_file(), "the hanging suite never started its grandchild"
        pid = int(pid_file.read_text())
        stat = Path(f"/proc/{pid}/stat")
        end = time.monotonic() + deadline
        while time.monotonic() < end:
            try:
                state = stat.read_text().rpartition(")")[2].split()[0]
            except (FileNotFoundError, ProcessLookupError):
                return
            if state == "Z":
                return
            time.sleep(0.05)
        os.kill(pid, 9)
        raise AssertionError(f"grandchild {pid} survived the timeout kill")

    return check


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def webdriver_server() -> Iterator[str]:
    """chromedriver listening on 127.0.0.1: a WebDriver endpoint like a Selenium Grid."""
    port = _free_port()
    server = subprocess.Popen(
        [str(find_chromedriver()), f"--port={port}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/status", timeout=5).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
