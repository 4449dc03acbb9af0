"""The embedded default index: a real pypiserver on 127.0.0.1, backed by a folder."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

from maestro_resilience import ConstantBackoff, retry

from maestro_factory.errors import FactoryError
from maestro_factory.index import IndexConfig

__all__ = ["EmbeddedIndex", "free_port"]


class _NotStarted(Exception):
    """The server exited or did not answer in time (worth one more try on another port)."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class EmbeddedIndex:
    """Runs pypiserver on a free port of 127.0.0.1 for the duration of a ``with`` block.

    Uploads need no credentials, the PyPI fallback redirect is off (the index only
    serves what was published to it) and links carry ``#sha256=`` fragments.

    Args:
        directory: Where the packages are stored (kept between runs).
        log_file: Where pypiserver writes its log; defaults to ``<directory>.log``.
        startup_timeout: Seconds to wait for the server to answer.

    >>> import tempfile
    >>> with EmbeddedIndex(Path(tempfile.mkdtemp()) / "index") as config:
    ...     config.upload_url.startswith("http://127.0.0.1:")
    True
    """

    def __init__(
        self, directory: Path, *, log_file: Path | None = None, startup_timeout: float = 60.0
    ) -> None:
        self.directory = directory
        self.log_file = log_file or directory.with_name(directory.name + ".log")
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> IndexConfig:
        self.directory.mkdir(parents=True, exist_ok=True)
        # another process may grab the port between probe and bind: try another one
        start = retry(3, on=_NotStarted, backoff=ConstantBackoff(0), name="embedded pypiserver")
        try:
            return start(self._start)()
        except _NotStarted as error:
            raise FactoryError(f"the embedded pypiserver did not start: {error}") from None

    def _start(self) -> IndexConfig:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        self._process = process = subprocess.Popen(
            [
                sys.executable, "-m", "pypiserver", "run",
                "--host", "127.0.0.1", "--port", str(port),
                "--authenticate", ".", "--passwords", ".",
                "--disable-fallback", "--hash-algo", "sha256",
                "--log-file", str(self.log_file), "--log-stream", "none",
                str(self.directory),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            self._wait_until_ready(process, url)
        except _NotStarted:
            self._stop()
            raise
        return IndexConfig.for_url(url, embedded_directory=self.directory)

    def _wait_until_ready(self, process: subprocess.Popen[bytes], url: str) -> None:
        def answers() -> None:
            if process.poll() is not None:
                stderr = process.stderr.read().decode(errors="replace") if process.stderr else ""
                raise _NotStarted(f"exited with {process.returncode}: {stderr.strip()[-500:]}")
            with urllib.request.urlopen(url + "simple/", timeout=5):  # noqa: S310 - our own http URL
                pass

        # polling a local server that is starting up
        not_yet = (urllib.error.URLError, ConnectionError, TimeoutError)
        poll = retry(
            None,
            on=not_yet,
            backoff=ConstantBackoff(0.1),
            max_total_time=self._startup_timeout,
            name="embedded pypiserver",
        )
        try:
            poll(answers)()
        except not_yet:
            raise _NotStarted(
                f"no answer from {url} within {self._startup_timeout:.0f} s"
            ) from None

    def _stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stderr:
            self._process.stderr.close()
        self._process = None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop()
