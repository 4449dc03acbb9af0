"""Index settings, credentials handling and the simple-API client."""

from __future__ import annotations

import hashlib
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from factory_test_support import run_factory, start_pypiserver

from maestro_factory import ConfigurationError, Credentials, IndexConfig, SimpleIndex
from maestro_factory._upload import explain_rejection


def test_settings_come_from_the_environment() -> None:
    config = IndexConfig.from_environment(
        {
            "NEXUS_URL": "https://nexus.example/repository/pypi-internal/",
            "NEXUS_INDEX_URL": "https://nexus.example/repository/pypi-all/",
            "NEXUS_USERNAME": "ci",
            "NEXUS_PASSWORD": "pw",
        }
    )

    assert config is not None
    assert config.upload_url == "https://nexus.example/repository/pypi-internal/"
    assert config.simple_url == "https://nexus.example/repository/pypi-internal/simple/"
    assert config.install_url == "https://nexus.example/repository/pypi-all/simple/"
    assert config.install_url_is_group
    assert config.credentials == Credentials("ci", "pw")


def test_no_nexus_url_means_the_embedded_index() -> None:
    assert IndexConfig.from_environment({}) is None


def test_credentials_inside_the_url_are_moved_out_of_it() -> None:
    config = IndexConfig.from_environment(
        {"NEXUS_URL": "https://ci:p%40ss@nexus.example:8443/repository/h/"}
    )

    assert config is not None
    assert config.upload_url == "https://nexus.example:8443/repository/h/"
    assert config.credentials == Credentials("ci", "p@ss")
    assert "p@ss" not in config.describe() + repr(config)


def test_credentials_are_moved_out_of_an_ipv6_url_keeping_its_brackets() -> None:
    config = IndexConfig.from_environment({"NEXUS_URL": "http://ci:pw@[::1]:8081/repository/h/"})

    assert config is not None
    assert config.upload_url == "http://[::1]:8081/repository/h/"
    assert config.credentials == Credentials("ci", "pw")


def test_a_token_alone_is_accepted() -> None:
    config = IndexConfig.from_environment(
        {"NEXUS_URL": "https://n.example/r/", "NEXUS_TOKEN": "tok"}
    )

    assert config is not None
    assert config.credentials == Credentials("__token__", "tok")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"NEXUS_URL": "nexus.example/repository"}, "NEXUS_URL must be an http(s) URL"),
        (
            {"NEXUS_URL": "https://n.example/", "NEXUS_PASSWORD": "x"},
            "NEXUS_PASSWORD is set but NEXUS_USERNAME is not",
        ),
        ({"NEXUS_INDEX_URL": "https://n.example/group/"}, "NEXUS_INDEX_URL is set but NEXUS_URL"),
        ({"NEXUS_URL": "https://[::1/"}, "NEXUS_URL must be an http(s) URL, got one that cannot"),
        ({"NEXUS_URL": "https://n.example:99999/"}, "is the port a number from 0 to 65535"),
        (
            {"NEXUS_URL": "https://n.example/", "NEXUS_INDEX_URL": "https://n.example:x/"},
            "NEXUS_INDEX_URL must be an http(s) URL, got one that cannot be parsed",
        ),
    ],
)
def test_bad_settings_are_explained(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        IndexConfig.from_environment(environ)


def test_a_bad_setting_is_a_usage_error_on_the_command_line(tmp_path: Path) -> None:
    from factory_test_support import make_workspace

    root = make_workspace(tmp_path / "ws")

    result = run_factory(
        root, "publish", env={"NEXUS_URL": "ftp://secret-host/", "NEXUS_PASSWORD": "pw-123"}
    )

    assert result.returncode == 2
    assert "NEXUS_URL must be an http(s) URL" in result.stderr


def test_credentials_never_show_their_secret() -> None:
    credentials = Credentials("ci", "very-secret")

    assert "very-secret" not in repr(credentials) + str(credentials) + repr(
        IndexConfig.for_url("https://x/", credentials)
    )


@pytest.mark.parametrize(
    ("status", "had_credentials", "expected"),
    [
        (401, True, "the index rejected the credentials; check NEXUS_USERNAME and NEXUS_PASSWORD"),
        (401, False, "the index needs credentials"),
        (400, True, "deployment policy forbids redeploy"),
        (
            400,
            True,
            "upload to the hosted repository (NEXUS_URL) and read from the group (NEXUS_INDEX_URL)",
        ),
        (
            405,
            True,
            "upload to the hosted repository (NEXUS_URL) and read from the group (NEXUS_INDEX_URL)",
        ),
        (409, True, "already exists"),
    ],
)
def test_rejections_are_explained(status: int, had_credentials: bool, expected: str) -> None:
    assert expected in explain_rejection(status, "https://nexus/repository/x/", "", had_credentials)


def test_the_client_reads_html_hashes_and_downloads_when_the_hash_is_not_sha256(
    tmp_path: Path,
) -> None:
    content = b"not really a wheel, but a file with a name pypiserver serves"
    (tmp_path / "index").mkdir()
    (tmp_path / "index" / "demo_pkg-1.0.0-py3-none-any.whl").write_bytes(content)  # before start:
    server = start_pypiserver(tmp_path / "index", hash_algo="md5")  # its listing may be cached
    try:
        index = SimpleIndex(server.url + "simple/")
        files = index.project_files("Demo.Pkg")  # any spelling PEP 503 considers equal
        assert list(files) == ["demo_pkg-1.0.0-py3-none-any.whl"]
        listed = files["demo_pkg-1.0.0-py3-none-any.whl"]
        assert listed.sha256 is None  # md5 fragment: not trusted
        assert index.sha256_of(listed) == hashlib.sha256(content).hexdigest()
        assert [str(v) for v in index.versions("demo-pkg")] == ["1.0.0"]
        assert index.project_files("unknown-project") == {}
    finally:
        server.stop()


@pytest.fixture
def json_index() -> Iterator[str]:
    """A real HTTP server that speaks only PEP 691 JSON."""
    document = {
        "meta": {"api-version": "1.1"},
        "name": "demo-pkg",
        "files": [
            {
                "filename": "demo_pkg-2.0.tar.gz",
                "url": "../../files/demo_pkg-2.0.tar.gz",
                "hashes": {"sha256": "ab" * 32},
            }
        ],
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            assert "application/vnd.pypi.simple.v1+json" in self.headers["Accept"]
            body = json.dumps(document).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.pypi.simple.v1+json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple/"
    server.shutdown()


def test_the_client_prefers_pep_691_json(json_index: str) -> None:
    files = SimpleIndex(json_index).project_files("demo-pkg")

    listed = files["demo_pkg-2.0.tar.gz"]
    assert listed.sha256 == "ab" * 32
    assert listed.url == json_index.replace("/simple/", "/files/demo_pkg-2.0.tar.gz")


def test_an_unreachable_index_is_a_transient_error() -> None:
    from maestro_factory import TransientIndexError
    from maestro_factory.embedded import free_port

    with pytest.raises(TransientIndexError, match="cannot reach"):
        SimpleIndex(f"http://127.0.0.1:{free_port()}/simple/").project_files("x")
