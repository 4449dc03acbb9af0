"""Where packages go and how to read them back: settings, credentials and a simple-API client.

The client speaks PEP 691 (JSON) when the server offers it and PEP 503 (HTML)
otherwise, which covers Nexus 3, pypiserver, devpi and PyPI itself.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import cast

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from maestro_factory.errors import ConfigurationError, TransientIndexError, UploadRejectedError

__all__ = [
    "Credentials",
    "IndexConfig",
    "IndexFile",
    "Redactor",
    "SimpleIndex",
    "file_sha256",
    "version_of",
]

_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_JSON_TYPE = "application/vnd.pypi.simple.v1+json"


@dataclass(frozen=True)
class Credentials:
    """A user name and a password or token; the secret never shows in ``repr`` or ``str``.

    >>> Credentials("ci-bot", "s3cret")
    Credentials(username='ci-bot', password=<hidden>)
    """

    username: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(username={self.username!r}, password=<hidden>)"

    __str__ = __repr__

    def basic_auth_header(self) -> str:
        """The ``Authorization`` header value."""
        token = base64.b64encode(f"{self.username}:{self.password}".encode()).decode("ascii")
        return f"Basic {token}"


class Redactor:
    """Replaces secrets in text before it is shown, as a last line of defence.

    >>> Redactor(["hunter2"])("login failed for hunter2")
    'login failed for ********'
    """

    def __init__(self, secrets: list[str] | tuple[str, ...] = ()) -> None:
        self._secrets = [secret for secret in secrets if secret]

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "********")
            quoted = urllib.parse.quote(secret, safe="")
            if quoted != secret:
                text = text.replace(quoted, "********")
        return text


def _split_userinfo(url: str, variable: str) -> tuple[str, Credentials | None]:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port  # raises for a port that is not a number in 0-65535
    except ValueError:
        raise ConfigurationError(
            f"{variable} must be an http(s) URL, got one that cannot be parsed "
            "(is the port a number from 0 to 65535, are the IPv6 brackets closed?)"
        ) from None
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ConfigurationError(f"{variable} must be an http(s) URL, got a value of another form")
    if parts.username is None:
        return url, None
    netloc = (f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname) + (
        f":{port}" if port else ""
    )
    clean = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    credentials = Credentials(
        urllib.parse.unquote(parts.username), urllib.parse.unquote(parts.password or "")
    )
    return clean, credentials


def _simple_url(url: str) -> str:
    base = url.rstrip("/")
    return base + "/" if base.endswith("/simple") else base + "/simple/"


@dataclass(frozen=True)
class IndexConfig:
    """The index to publish to and read from.

    Attributes:
        upload_url: The hosted repository's upload URL (``NEXUS_URL``), without credentials.
        simple_url: The hosted repository's simple index, read to skip and verify uploads.
        install_url: The simple index consumers install from (``NEXUS_INDEX_URL``, the group).
        credentials: User name and password or token, if the index needs them.
        install_url_is_group: Whether *install_url* also proxies PyPI (then it is the only index).
        embedded_directory: The folder of the factory's own local pypiserver, when it is the index.

    >>> config = IndexConfig.from_environment({"NEXUS_URL": "https://nexus.example/repository/pypi-hosted/"})
    >>> config.simple_url
    'https://nexus.example/repository/pypi-hosted/simple/'
    """

    upload_url: str
    simple_url: str
    install_url: str
    credentials: Credentials | None = None
    install_url_is_group: bool = False
    embedded_directory: Path | None = None

    @property
    def embedded(self) -> bool:
        """Whether this is the factory's own local pypiserver."""
        return self.embedded_directory is not None

    @classmethod
    def for_url(
        cls,
        upload_url: str,
        credentials: Credentials | None = None,
        *,
        embedded_directory: Path | None = None,
    ) -> IndexConfig:
        """A hosted index whose simple API lives under ``<upload_url>/simple/``."""
        clean, inline = _split_userinfo(upload_url, "the index URL")
        simple = _simple_url(clean)
        return cls(
            clean, simple, simple, credentials or inline, embedded_directory=embedded_directory
        )

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> IndexConfig | None:
        """Read ``NEXUS_URL``, ``NEXUS_INDEX_URL``, ``NEXUS_USERNAME``, ``NEXUS_PASSWORD``/``NEXUS_TOKEN``.

        Returns ``None`` when ``NEXUS_URL`` is unset (the caller then uses the embedded index).
        A password missing from the environment is looked up in the system keyring.

        Raises:
            ConfigurationError: A URL is malformed, or a password is given without a user name.
        """
        upload = environ.get("NEXUS_URL", "").strip()
        if not upload:
            if environ.get("NEXUS_INDEX_URL"):
                raise ConfigurationError(
                    "NEXUS_INDEX_URL is set but NEXUS_URL (the hosted upload URL) is not"
                )
            return None
        clean, inline = _split_userinfo(upload, "NEXUS_URL")
        credentials = _credentials(environ, clean) or inline
        group = environ.get("NEXUS_INDEX_URL", "").strip()
        install = (
            _simple_url(_split_userinfo(group, "NEXUS_INDEX_URL")[0])
            if group
            else _simple_url(clean)
        )
        return cls(
            clean, _simple_url(clean), install, credentials, install_url_is_group=bool(group)
        )

    def describe(self) -> str:
        """A one-line description that is safe to print (no credentials)."""
        user = f" as {self.credentials.username}" if self.credentials else " anonymously"
        kind = "embedded pypiserver" if self.embedded else "index"
        return f"{kind} {self.upload_url}{user} (reading {self.install_url})"

    def redactor(self) -> Redactor:
        """A :class:`Redactor` for this configuration's secret."""
        return Redactor([self.credentials.password] if self.credentials else [])


def _credentials(environ: Mapping[str, str], url: str) -> Credentials | None:
    username = environ.get("NEXUS_USERNAME", "").strip()
    password = environ.get("NEXUS_PASSWORD") or environ.get("NEXUS_TOKEN") or ""
    if password and not username:
        if environ.get("NEXUS_TOKEN"):
            return Credentials("__token__", password)
        raise ConfigurationError("NEXUS_PASSWORD is set but NEXUS_USERNAME is not: set both")
    if username and not password:
        password = _keyring_password(url, username) or ""
        if not password:
            raise ConfigurationError(
                f"NEXUS_USERNAME is {username!r} but there is no NEXUS_PASSWORD, NEXUS_TOKEN "
                f"or keyring entry for {url}: set one (keyring set {url} {username})"
            )
    return Credentials(username, password) if username else None


def _keyring_password(url: str, username: str) -> str | None:
    try:
        import keyring
        import keyring.errors
    except ImportError:
        return None
    try:
        return keyring.get_password(url, username)
    except keyring.errors.KeyringError:
        return None


def version_of(filename: str) -> tuple[str, Version] | None:
    """The normalised project name and version encoded in a distribution file name.

    >>> version_of("maestro_x-1.2.0-py3-none-any.whl")
    ('maestro-x', <Version('1.2.0')>)
    >>> version_of("notes.txt") is None
    True
    """
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            return name, version
        if filename.endswith((".tar.gz", ".zip")):
            sname, sversion = parse_sdist_filename(filename)
            return sname, sversion
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


@dataclass(frozen=True)
class IndexFile:
    """A file the simple index lists for a project.

    Attributes:
        filename: The file name.
        url: Where to download it.
        sha256: The sha256 the index states, or ``None`` when it states none (or another hash).
    """

    filename: str
    url: str
    sha256: str | None


class _LinkParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href = dict(attrs).get("href")
            self._text = []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, "".join(self._text).strip()))
            self._href = None


class SimpleIndex:
    """A read-only client of one simple index (PEP 503/691).

    Args:
        url: The simple index root, e.g. ``https://nexus/repository/pypi-hosted/simple/``.
        credentials: Sent with every request when given (for indexes that need login to read).
        timeout: Seconds to wait for each answer.
    """

    def __init__(
        self, url: str, credentials: Credentials | None = None, *, timeout: float = 60.0
    ) -> None:
        self.url = url if url.endswith("/") else url + "/"
        self._credentials = credentials
        self._timeout = timeout

    def _open(self, url: str, accept: str) -> http.client.HTTPResponse:
        if urllib.parse.urlsplit(url).scheme not in {"http", "https"}:
            raise UploadRejectedError(
                f"the index links to {url}, which is not an http(s) URL", status=0
            )
        headers = {"Accept": accept, "User-Agent": "maestro-factory"}
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
        opener = urllib.request.build_opener(_SameHostAuth(self.url, self._credentials))
        try:
            response = cast(http.client.HTTPResponse, opener.open(request, timeout=self._timeout))
        except urllib.error.HTTPError as error:
            error.close()
            raise _http_error(error.code, url) from None
        except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
            reason = getattr(error, "reason", error)
            raise TransientIndexError(f"cannot reach {url}: {reason}") from None
        return response

    def project_files(self, project: str) -> dict[str, IndexFile]:
        """Every file the index lists for *project*, by file name (empty when the project is unknown)."""
        url = f"{self.url}{canonicalize_name(project)}/"
        try:
            response = self._open(url, _ACCEPT)
        except UploadRejectedError as error:
            if error.status == 404:
                return {}
            raise
        with response:
            content_type = response.headers.get_content_type()
            body = response.read()
            final_url = response.geturl()
        if content_type == _JSON_TYPE:
            return _parse_json(body, final_url)
        return _parse_html(body.decode("utf-8", "replace"), final_url)

    def versions(self, project: str) -> set[Version]:
        """The versions of *project* that have at least one file on the index."""
        key = canonicalize_name(project)
        found = (version_of(name) for name in self.project_files(project))
        return {parsed[1] for parsed in found if parsed is not None and parsed[0] == key}

    def sha256_of(self, file: IndexFile) -> str:
        """The file's sha256: as the index states it, or computed from a download."""
        if file.sha256:
            return file.sha256
        with self._open(file.url, "*/*") as response:
            return hashlib.file_digest(response, "sha256").hexdigest()


class _SameHostAuth(urllib.request.BaseHandler):
    """Adds basic auth to requests for the index's host only.

    The header is "unredirected": urllib does not copy it to a redirect, and a
    redirect passes through this handler again, so another host never sees it.
    """

    def __init__(self, base_url: str, credentials: Credentials | None) -> None:
        self._netloc = urllib.parse.urlsplit(base_url).netloc
        self._credentials = credentials

    def _add(self, request: urllib.request.Request) -> urllib.request.Request:
        same_host = urllib.parse.urlsplit(request.full_url).netloc == self._netloc
        if self._credentials is not None and same_host:
            request.add_unredirected_header("Authorization", self._credentials.basic_auth_header())
        return request

    http_request = _add
    https_request = _add


def _http_error(status: int, url: str) -> Exception:
    if status >= 500 or status == 429:
        return TransientIndexError(f"{url} answered {status}")
    if status in (401, 403):
        return UploadRejectedError(
            f"{url} answered {status}: the index needs valid credentials to read; "
            "check NEXUS_USERNAME and NEXUS_PASSWORD (or NEXUS_TOKEN)",
            status=status,
        )
    return UploadRejectedError(f"{url} answered {status}", status=status)


def _fragment_sha256(url: str) -> tuple[str, str | None]:
    base, _, fragment = url.partition("#")
    algorithm, _, value = fragment.partition("=")
    return base, (value.lower() if algorithm == "sha256" and value else None)


def _parse_html(text: str, page_url: str) -> dict[str, IndexFile]:
    parser = _LinkParser()
    parser.feed(text)
    files: dict[str, IndexFile] = {}
    for href, label in parser.links:
        absolute, sha256 = _fragment_sha256(urllib.parse.urljoin(page_url, href))
        filename = label or urllib.parse.unquote(absolute.rsplit("/", 1)[-1])
        files[filename] = IndexFile(filename, absolute, sha256)
    return files


def _parse_json(body: bytes, page_url: str) -> dict[str, IndexFile]:
    document = json.loads(body)
    files: dict[str, IndexFile] = {}
    for entry in document.get("files", []):
        hashes = entry.get("hashes") or {}
        url = urllib.parse.urljoin(page_url, entry["url"])
        files[entry["filename"]] = IndexFile(
            entry["filename"], url.partition("#")[0], hashes.get("sha256")
        )
    return files


def file_sha256(path: Path) -> str:
    """The sha256 hex digest of a file, read in chunks (never whole into memory).

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "f"
    >>> _ = target.write_bytes(b"abc")
    >>> file_sha256(target) == hashlib.sha256(b"abc").hexdigest()
    True
    """
    with path.open("rb") as stream:
        return hashlib.file_digest(stream, "sha256").hexdigest()
