"""Helpers of the factory tests: real servers and throwaway workspaces.

Nothing here imitates the upload protocol: the index is a real pypiserver on
127.0.0.1, and the flaky index is a real HTTP proxy in front of it.
"""

from __future__ import annotations

import contextlib
import http.client
import http.server
import os
import re
import socket
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FACTORY = [sys.executable, "-m", "maestro_factory.cli"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class PypiServer:
    """A pypiserver process serving *directory* on 127.0.0.1."""

    url: str
    directory: Path
    log: Path
    process: subprocess.Popen[bytes]

    def files(self) -> list[str]:
        return sorted(path.name for path in self.directory.iterdir())

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_pypiserver(
    directory: Path, *, htpasswd: Path | None = None, hash_algo: str = "sha256"
) -> PypiServer:
    directory.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    log = directory.with_name(directory.name + ".log")
    auth = ["-a", "update", "-P", str(htpasswd)] if htpasswd else ["-a", ".", "-P", "."]
    process = subprocess.Popen(
        [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port), *auth,
         "--disable-fallback", "--hash-algo", hash_algo, "--log-file", str(log), "--log-stream", "none", "-v", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "simple/", timeout=5):
                break
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"pypiserver did not start (exit {process.poll()})") from None
            time.sleep(0.1)
    return PypiServer(url, directory, log, process)


@dataclass
class FlakyProxy:
    """Answers 503 to the first *failures* uploads (POST), forwards everything else.

    With *stale_listings*, the first project pages read after an upload come back
    without their file links, like an index that updates late (or drops files).
    With *lost_answers*, the first uploads that reach the index are answered 502, as
    by a proxy that timed out while the index stored the file.
    With *before_post*, each upload first calls it (it may block, holding the upload);
    when it returns ``False`` the upload is dropped: the connection closes unanswered.
    """

    url: str
    failures: int
    stale_listings: int = 0
    lost_answers: int = 0
    posts: list[int] = field(default_factory=list)  # status answered to each POST
    stale_served: int = 0


@contextlib.contextmanager
def flaky_proxy(
    upstream: str,
    failures: int,
    *,
    stale_listings: int = 0,
    lost_answers: int = 0,
    before_post: Callable[[], bool] | None = None,
) -> Iterator[FlakyProxy]:
    """Run a :class:`FlakyProxy` in front of *upstream* for the duration of a ``with`` block."""
    target = urllib.parse.urlsplit(upstream)
    state = FlakyProxy("", failures, stale_listings, lost_answers)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _forward(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.command == "POST":
                if before_post is not None and not before_post():
                    self.close_connection = True
                    return
                with lock:
                    fail = state.failures > 0
                    state.failures -= fail
                    state.posts.append(503 if fail else 0)
                if fail:
                    self.send_response(503, "Service Unavailable")
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=60)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in {"host", "connection"}
            }
            connection.request(self.command, self.path, body=body, headers=headers)
            response = connection.getresponse()
            payload = response.read()
            lost = False
            if self.command == "POST":
                with lock:
                    state.posts[-1] = response.status
                    lost = state.lost_answers > 0
                    state.lost_answers -= lost
            if lost:
                self.send_response(502, "Bad Gateway")
                self.send_header("Content-Length", "0")
                self.end_headers()
                connection.close()
                return
            project_page = (
                self.command == "GET"
                and self.path.count("/") == 3
                and self.path.startswith("/simple/")
            )
            with lock:
                stale = project_page and state.posts and state.stale_served < state.stale_listings
                state.stale_served += bool(stale)
            if stale:
                payload = re.sub(rb"<a [^>]*>[^<]*</a>", b"", payload)
            self.send_response(response.status, response.reason)
            for key, value in response.getheaders():
                if key.lower() not in {"transfer-encoding", "connection", "content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            connection.close()

        do_GET = do_POST = _forward

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def write_package(
    root: Path,
    name: str,
    version: str,
    *,
    deps: tuple[str, ...] = (),
    extras: dict[str, list[str]] | None = None,
) -> Path:
    """A tiny poetry-core package with a changelog, a README and one passing test."""
    module = name.replace("-", "_")
    folder = root / "packages" / name
    (folder / "src" / module).mkdir(parents=True, exist_ok=True)
    (folder / "tests").mkdir(exist_ok=True)
    extras_toml = "".join(
        f"{key} = {value!r}\n".replace("'", '"') for key, value in (extras or {}).items()
    )
    deps_toml = ", ".join(f'"{dep}"' for dep in deps)
    (folder / "pyproject.toml").write_text(
        textwrap.dedent(f"""\
        [project]
        name = "{name}"
        version = "{version}"
        description = "Throwaway package {name} for the factory tests."
        readme = "README.md"
        requires-python = ">=3.11"
        dependencies = [{deps_toml}]

        [project.optional-dependencies]
        """)
        + extras_toml
        + textwrap.dedent(f"""
        [build-system]
        requires = ["poetry-core>=2,<3"]
        build-backend = "poetry.core.masonry.api"

        [tool.poetry]
        packages = [{{ include = "{module}", from = "src" }}]
        """)
    )
    (folder / "src" / module / "__init__.py").write_text(f'"""{name}."""\n\nVALUE = "{version}"\n')
    (folder / "README.md").write_text(f"# {name}\n\nA throwaway package.\n")
    (folder / "CHANGELOG.md").write_text(
        f"# Changelog\n\n## [Unreleased]\n\n## [{version}] - 2026-11-27\n\n- First.\n"
    )
    (folder / "tests" / "test_it.py").write_text("def test_truth():\n    assert 1 + 1 == 2\n")
    return folder


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@localhost",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@localhost"}  # fmt: skip
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True, env=env
    ).stdout


def make_workspace(root: Path) -> Path:
    """Three packages: alpha, beta (requires alpha, extra 'fast' also requiring alpha), gamma; committed."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*"]\n')
    (root / ".gitignore").write_text("/build/\ndist/\n__pycache__/\nsite/\n")
    write_package(root, "tp-alpha", "1.0.0")
    write_package(
        root, "tp-beta", "1.0.0", deps=("tp-alpha>=1,<2",), extras={"fast": ["tp-alpha>=1.0"]}
    )
    write_package(root, "tp-gamma", "1.0.0")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def run_factory(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in *root*; NEXUS_* come only from *env*."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("NEXUS_")}
    return subprocess.run(
        [*FACTORY, *args],
        cwd=root,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def audit_records(root: Path) -> list[dict[str, Any]]:
    """The release audit log of *root*, read with maestro-audit-logger after checking its chain."""
    from maestro_audit_logger import read_events, verify

    path = root / "build" / "audit" / "release-audit.jsonl"
    assert verify(path).ok, f"the audit log {path} does not verify"
    return [event.to_dict() for event in read_events(path)]
