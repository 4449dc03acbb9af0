"""``factory publish`` against a real pypiserver on 127.0.0.1 (and a real flaky proxy in front of it)."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import threading
from pathlib import Path

import pytest
from factory_test_support import (
    FACTORY,
    PypiServer,
    audit_records,
    flaky_proxy,
    git,
    run_factory,
    start_pypiserver,
)

FAST_RETRY = ("--retry-delay", "0.05")


def index_env(url: str, **extra: str) -> dict[str, str]:
    return {"NEXUS_URL": url, **extra}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dist_files(root: Path) -> dict[str, Path]:
    return {
        path.name: path
        for path in (root / "dist").glob("*/*")
        if path.name.endswith((".whl", ".tar.gz"))
    }


def test_first_publish_uploads_everything_and_records_it(
    workspace: Path, pypiserver: PypiServer
) -> None:
    result = run_factory(workspace, "publish", *FAST_RETRY, env=index_env(pypiserver.url))

    assert result.returncode == 0, result.stderr
    built = dist_files(workspace)
    assert pypiserver.files() == sorted(built)
    for name, path in built.items():  # byte-identical on the index
        assert sha256(pypiserver.directory / name) == sha256(path)
    uploads = [r for r in audit_records(workspace) if r["action"] == "publish"]
    assert sorted(r["resource"]["id"] for r in uploads) == sorted(built)  # type: ignore[index]
    for record in uploads:
        metadata = record["metadata"]
        assert record["outcome"] == "success"
        assert metadata["sha256"] == sha256(built[record["resource"]["id"]])  # type: ignore[index]
        assert metadata["index_url"] == pypiserver.url  # type: ignore[index]
    assert "verified: every file is listed with its sha256" in result.stdout


def test_second_run_uploads_nothing_and_succeeds(workspace: Path, pypiserver: PypiServer) -> None:
    assert run_factory(workspace, "publish", env=index_env(pypiserver.url)).returncode == 0
    before = {name: (pypiserver.directory / name).stat().st_mtime_ns for name in pypiserver.files()}

    again = run_factory(workspace, "publish", env=index_env(pypiserver.url))

    assert again.returncode == 0, again.stderr
    assert "0 file(s) uploaded, 6 already on the index" in again.stdout
    assert {
        name: (pypiserver.directory / name).stat().st_mtime_ns for name in pypiserver.files()
    } == before
    skips = [r for r in audit_records(workspace) if r["action"] == "publish.skip"]
    assert len(skips) == 6


def test_same_name_with_different_hash_fails_loudly_and_overwrites_nothing(
    workspace: Path, pypiserver: PypiServer
) -> None:
    assert run_factory(workspace, "publish", env=index_env(pypiserver.url)).returncode == 0
    published = {name: sha256(pypiserver.directory / name) for name in pypiserver.files()}
    module = workspace / "packages" / "tp-alpha" / "src" / "tp_alpha" / "__init__.py"
    module.write_text(module.read_text() + "CHANGED = True  # same version, other content\n")
    assert (
        run_factory(workspace, "build", "--package", "tp-alpha", "--no-smoke-test").returncode == 0
    )

    result = run_factory(workspace, "publish", env=index_env(pypiserver.url))

    assert result.returncode == 1
    assert "tp_alpha-1.0.0" in result.stderr
    assert "is already on" in result.stderr
    assert "bump the version of tp-alpha" in result.stderr
    assert "Traceback" not in result.stderr
    assert {name: sha256(pypiserver.directory / name) for name in pypiserver.files()} == published
    failures = [r for r in audit_records(workspace) if r["outcome"] == "failure"]
    assert failures
    assert failures[0]["resource"]["id"].startswith("tp_alpha-1.0.0")  # type: ignore[index]


def test_dependency_is_never_published_after_its_dependant(
    workspace: Path, pypiserver: PypiServer
) -> None:
    alone = run_factory(workspace, "publish", "--package", "tp-beta", env=index_env(pypiserver.url))

    assert alone.returncode == 1
    assert (
        "tp-beta requires tp-alpha<2,>=1, but the index has no version of tp-alpha" in alone.stderr
    )
    assert pypiserver.files() == []  # nothing of tp-beta went up before tp-alpha
    refused = [r for r in audit_records(workspace) if r["action"] == "publish"]
    assert sorted((r["resource"]["id"], r["outcome"]) for r in refused) == [  # type: ignore[index]
        ("tp_beta-1.0.0-py3-none-any.whl", "failure"),
        ("tp_beta-1.0.0.tar.gz", "failure"),
    ]
    assert all("requires tp-alpha" in r["reason"] for r in refused)  # type: ignore[operator]

    both = run_factory(
        workspace,
        "publish",
        "--package",
        "tp-beta",
        "--package",
        "tp-alpha",
        env=index_env(pypiserver.url),
    )

    assert both.returncode == 0, both.stderr
    uploads = [
        r["resource"]["id"]  # type: ignore[index]
        for r in audit_records(workspace)
        if r["action"] == "publish" and r["outcome"] == "success"
    ]
    last_alpha = max(i for i, name in enumerate(uploads) if name.startswith("tp_alpha"))
    first_beta = min(i for i, name in enumerate(uploads) if name.startswith("tp_beta"))
    assert last_alpha < first_beta
    log = pypiserver.log.read_text()
    assert log.index("tp_alpha-1.0.0-py3-none-any.whl") < log.index("tp_beta-1.0.0.tar.gz")


def test_only_changed_packages_and_their_dependants_are_published(
    workspace: Path, pypiserver: PypiServer
) -> None:
    assert run_factory(workspace, "publish", env=index_env(pypiserver.url)).returncode == 0
    # gamma 1.1.0 is bumped *before* the ref, so it does not count as changed since it
    gamma = workspace / "packages" / "tp-gamma" / "pyproject.toml"
    gamma.write_text(gamma.read_text().replace('version = "1.0.0"', 'version = "1.1.0"'))
    git(workspace, "commit", "-qam", "gamma 1.1.0, held back")
    ref = git(workspace, "rev-parse", "HEAD").strip()
    alpha = workspace / "packages" / "tp-alpha"
    (alpha / "pyproject.toml").write_text(
        (alpha / "pyproject.toml").read_text().replace('"1.0.0"', '"1.1.0"')
    )
    (alpha / "src" / "tp_alpha" / "__init__.py").write_text('VALUE = "1.1.0"\n')
    git(workspace, "commit", "-qam", "alpha 1.1.0")
    # only alpha is rebuilt: were gamma selected, publishing would fail for want of its files
    assert (
        run_factory(workspace, "build", "--package", "tp-alpha", "--no-smoke-test").returncode == 0
    )

    result = run_factory(workspace, "publish", "--since", ref, env=index_env(pypiserver.url))

    assert result.returncode == 0, result.stderr
    files = pypiserver.files()
    assert "tp_alpha-1.1.0-py3-none-any.whl" in files
    assert not [name for name in files if name.startswith("tp_gamma-1.1.0")]
    assert "tp-beta 1.0.0: already on the index" in result.stdout  # considered as a dependant
    assert "tp-gamma" not in result.stdout


@pytest.fixture
def secured_server(tmp_path: Path) -> PypiServer:
    from passlib.apache import HtpasswdFile

    htpasswd = HtpasswdFile(str(tmp_path / "htpasswd"), new=True)
    htpasswd.set_password("ci-bot", "the-right-pass")
    htpasswd.save()
    server = start_pypiserver(tmp_path / "secured", htpasswd=tmp_path / "htpasswd")
    yield server  # type: ignore[misc]
    server.stop()


def test_wrong_credentials_are_explained_without_the_password(
    workspace: Path, secured_server: PypiServer
) -> None:
    secret = "Wr0ng-S3cret-Do-Not-Print"
    env = index_env(secured_server.url, NEXUS_USERNAME="ci-bot", NEXUS_PASSWORD=secret)

    result = run_factory(workspace, "publish", *FAST_RETRY, env=env)

    assert result.returncode == 1
    # pypiserver answers 403 to a wrong password (Nexus answers 401): both name the variables
    assert "refused with 403 Forbidden: the index refused these credentials" in result.stderr
    assert "Check NEXUS_USERNAME and NEXUS_PASSWORD" in result.stderr
    # the server's own words, as text: no tags and no HTML entities (&#039;)
    assert (
        f"The server said: Error: 403 Forbidden Sorry, the requested URL '{secured_server.url}'"
        in (result.stderr)
    )
    assert secret not in result.stdout + result.stderr
    assert secret not in (workspace / "build" / "audit" / "release-audit.jsonl").read_text()
    assert secured_server.files() == []


def test_right_credentials_upload(workspace: Path, secured_server: PypiServer) -> None:
    env = index_env(secured_server.url, NEXUS_USERNAME="ci-bot", NEXUS_PASSWORD="the-right-pass")

    result = run_factory(workspace, "publish", "--package", "tp-gamma", env=env)

    assert result.returncode == 0, result.stderr
    assert secured_server.files() == ["tp_gamma-1.0.0-py3-none-any.whl", "tp_gamma-1.0.0.tar.gz"]
    assert "the-right-pass" not in result.stdout + result.stderr
    assert "as ci-bot" in result.stdout


def test_missing_credentials_say_which_variables_to_set(
    workspace: Path, secured_server: PypiServer
) -> None:
    result = run_factory(
        workspace, "publish", "--package", "tp-gamma", env=index_env(secured_server.url)
    )

    assert result.returncode == 1
    assert "refused with 401 Unauthorized: the index needs credentials" in result.stderr
    assert "set NEXUS_USERNAME and NEXUS_PASSWORD" in result.stderr


def test_uploads_answered_503_are_retried_with_backoff(
    workspace: Path, pypiserver: PypiServer
) -> None:
    with flaky_proxy(pypiserver.url, failures=3) as proxy:
        result = run_factory(
            workspace, "publish", "--package", "tp-gamma", *FAST_RETRY, env=index_env(proxy.url)
        )

    assert result.returncode == 0, result.stderr
    assert proxy.posts[:4] == [503, 503, 503, 200]
    assert proxy.posts[4:] == [200]  # the second file went through at once
    assert result.stdout.count("failed (") == 3
    assert "retrying in" in result.stdout
    assert "Retry 1 of 1" not in result.stderr  # twine's own message about a retry it never makes
    assert pypiserver.files() == ["tp_gamma-1.0.0-py3-none-any.whl", "tp_gamma-1.0.0.tar.gz"]


def test_an_upload_stored_by_an_attempt_whose_answer_was_lost_is_not_a_failure(
    workspace: Path, pypiserver: PypiServer
) -> None:
    with flaky_proxy(pypiserver.url, failures=0, lost_answers=1) as proxy:
        result = run_factory(
            workspace, "publish", "--package", "tp-gamma", *FAST_RETRY, env=index_env(proxy.url)
        )

    assert result.returncode == 0, result.stderr
    # stored, answered 502; the retry is refused as a duplicate; the index has our file
    assert proxy.posts[:2] == [200, 400]  # pypiserver, like Nexus, answers 400 to a duplicate
    assert "answered 502" in result.stdout
    assert "already on the index with the same sha256: an earlier attempt stored it" in (
        result.stdout
    )
    assert pypiserver.files() == ["tp_gamma-1.0.0-py3-none-any.whl", "tp_gamma-1.0.0.tar.gz"]
    uploads = [r for r in audit_records(workspace) if r["action"] == "publish"]
    assert [r["outcome"] for r in uploads] == ["success", "success"]


def test_an_index_that_keeps_failing_gives_up_with_the_status(
    workspace: Path, pypiserver: PypiServer
) -> None:
    with flaky_proxy(pypiserver.url, failures=100) as proxy:
        result = run_factory(
            workspace,
            "publish",
            "--package",
            "tp-gamma",
            "--upload-attempts",
            "2",
            *FAST_RETRY,
            env=index_env(proxy.url),
        )

    assert result.returncode == 1
    assert proxy.posts == [503, 503]
    assert "answered 503" in result.stderr
    assert pypiserver.files() == []


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        (
            "--retry-delay",
            "abc",
            "argument --retry-delay: must be a number of seconds >= 0, got 'abc'",
        ),
        (
            "--retry-delay",
            "inf",
            "argument --retry-delay: must be a number of seconds >= 0, got 'inf'",
        ),
        (
            "--upload-attempts",
            "x",
            "argument --upload-attempts: must be a whole number >= 1, got 'x'",
        ),
        ("--upload-attempts", "0", "argument --upload-attempts: must be at least 1, got 0"),
    ],
)
def test_bad_retry_options_are_explained(
    tmp_path: Path, option: str, value: str, message: str
) -> None:
    result = run_factory(tmp_path, "publish", option, value)

    assert result.returncode == 2
    assert message in result.stderr
    assert "invalid" not in result.stderr  # argparse's "invalid _seconds value"


def test_publishing_without_built_files_says_to_build(
    tmp_path: Path, pypiserver: PypiServer
) -> None:
    from factory_test_support import make_workspace

    root = make_workspace(tmp_path / "fresh")

    result = run_factory(root, "publish", env=index_env(pypiserver.url))

    assert result.returncode == 1
    assert "run `factory build` first" in result.stderr


def test_the_embedded_index_keeps_its_files_and_says_how_to_start_afresh(workspace: Path) -> None:
    assert run_factory(workspace, "publish").returncode == 0  # no NEXUS_URL: the embedded index
    stored = sorted(path.name for path in (workspace / "build" / "index").iterdir())
    assert stored == sorted(dist_files(workspace))
    module = workspace / "packages" / "tp-gamma" / "src" / "tp_gamma" / "__init__.py"
    module.write_text(module.read_text() + "CHANGED = True\n")
    assert (
        run_factory(workspace, "build", "--package", "tp-gamma", "--no-smoke-test").returncode == 0
    )

    result = run_factory(workspace, "publish")

    assert result.returncode == 1
    assert (
        f"This is the embedded demo index: delete {workspace / 'build' / 'index'}" in result.stderr
    )


def test_a_release_already_on_the_index_is_tagged_by_a_later_run(
    workspace: Path, pypiserver: PypiServer
) -> None:
    # an earlier run published tp-gamma but died before tagging (or its tag push failed)
    assert (
        run_factory(
            workspace, "publish", "--package", "tp-gamma", "--no-tag", env=index_env(pypiserver.url)
        ).returncode
        == 0
    )
    assert git(workspace, "tag", "--list") == ""

    result = run_factory(
        workspace, "publish", "--package", "tp-gamma", env=index_env(pypiserver.url)
    )

    assert result.returncode == 0, result.stderr
    assert "already on the index" in result.stdout
    assert git(workspace, "tag", "--list").split() == ["tp-gamma-v1.0.0"]


def test_publishing_outside_git_says_the_releases_are_not_tagged(
    workspace: Path, pypiserver: PypiServer
) -> None:
    shutil.rmtree(workspace / ".git")  # an exported source tree

    result = run_factory(
        workspace, "publish", "--package", "tp-gamma", env=index_env(pypiserver.url)
    )

    assert result.returncode == 0, result.stderr
    assert "note: not a git repository: the releases are published but not tagged" in result.stdout
    assert pypiserver.files() == ["tp_gamma-1.0.0-py3-none-any.whl", "tp_gamma-1.0.0.tar.gz"]


def test_a_short_audit_key_is_a_usage_error_that_does_not_echo_it(
    workspace: Path, pypiserver: PypiServer
) -> None:
    result = run_factory(
        workspace, "publish", env=index_env(pypiserver.url, FACTORY_AUDIT_KEY="short-key")
    )

    assert result.returncode == 2
    assert "cannot open the release audit log" in result.stderr
    assert "short-key" not in result.stdout + result.stderr
    assert pypiserver.files() == []


@pytest.mark.parametrize("where", ["a-folder", "under-a-file"])
def test_an_unusable_audit_log_path_is_an_input_error_before_any_upload(
    workspace: Path, pypiserver: PypiServer, tmp_path: Path, where: str
) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    path = tmp_path if where == "a-folder" else tmp_path / "a-file" / "audit.jsonl"

    result = run_factory(
        workspace, "publish", "--audit-log", str(path), env=index_env(pypiserver.url)
    )

    assert result.returncode == 2, result.stderr
    assert f"cannot open the release audit log {path}: " in result.stderr
    assert "Traceback" not in result.stderr
    assert pypiserver.files() == []


def test_the_audit_log_is_signed_with_the_configured_key(
    workspace: Path, pypiserver: PypiServer
) -> None:
    from maestro_audit_logger import verify

    key = "a-release-audit-key-of-32-bytes!"
    result = run_factory(
        workspace,
        "publish",
        "--package",
        "tp-gamma",
        env=index_env(pypiserver.url, FACTORY_AUDIT_KEY=key),
    )

    assert result.returncode == 0, result.stderr
    log = workspace / "build" / "audit" / "release-audit.jsonl"
    assert verify(log, key=key).ok
    assert not verify(log, key="another-key-of-at-least-32-bytes").ok


def test_an_index_that_lists_uploads_late_is_read_again_with_backoff(
    workspace: Path, pypiserver: PypiServer
) -> None:
    with flaky_proxy(pypiserver.url, failures=0, stale_listings=2) as proxy:
        result = run_factory(
            workspace, "publish", "--package", "tp-gamma", *FAST_RETRY, env=index_env(proxy.url)
        )

    assert result.returncode == 0, result.stderr
    assert proxy.stale_served == 2
    assert result.stdout.count("in the simple index: not there yet; looking again") == 2
    assert "verified: every file is listed with its sha256" in result.stdout


def test_uploads_the_index_never_lists_fail_the_run(
    workspace: Path, pypiserver: PypiServer
) -> None:
    with flaky_proxy(pypiserver.url, failures=0, stale_listings=1000) as proxy:
        result = run_factory(
            workspace, "publish", "--package", "tp-gamma", *FAST_RETRY, env=index_env(proxy.url)
        )

    assert result.returncode == 1
    assert "uploaded but not listed with the right sha256" in result.stderr
    assert "NEXUS-34950" in result.stderr
    verified = [r for r in audit_records(workspace) if r["action"] == "publish.verify"]
    assert {r["outcome"] for r in verified} == {"failure"}


@pytest.mark.parametrize(
    ("stop", "exit_code", "message"),
    [
        (signal.SIGINT, 130, "factory: error: interrupted"),  # Ctrl-C
        (signal.SIGTERM, 143, "factory: error: terminated (SIGTERM)"),  # kill, timeout, CI
    ],
    ids=["SIGINT", "SIGTERM"],
)
def test_an_interrupted_upload_is_recorded_and_a_rerun_completes_it(
    workspace: Path, pypiserver: PypiServer, stop: signal.Signals, exit_code: int, message: str
) -> None:
    upload_started, interrupted = threading.Event(), threading.Event()

    def hold_and_drop_the_first_upload() -> bool:
        if upload_started.is_set():
            return True
        upload_started.set()
        interrupted.wait(timeout=300)  # held until the factory has been interrupted, then lost
        return False

    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    with flaky_proxy(
        pypiserver.url, failures=0, before_post=hold_and_drop_the_first_upload
    ) as proxy:
        env["NEXUS_URL"] = proxy.url
        with subprocess.Popen(
            [*FACTORY, "publish", "--package", "tp-gamma"],
            cwd=workspace,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        ) as factory:
            try:
                assert upload_started.wait(timeout=300), "the factory never started an upload"
                factory.send_signal(stop)
                _, stderr = factory.communicate(timeout=300)
            finally:
                interrupted.set()

    assert factory.returncode == exit_code
    assert message in stderr
    assert "Traceback" not in stderr
    records = [r for r in audit_records(workspace) if r["action"] == "publish"]
    assert [(r["resource"]["id"], r["outcome"]) for r in records] == [  # type: ignore[index]
        ("tp_gamma-1.0.0.tar.gz", "error")
    ]
    assert "interrupted during the upload" in records[0]["reason"]  # type: ignore[operator]

    rerun = run_factory(
        workspace, "publish", "--package", "tp-gamma", env=index_env(pypiserver.url)
    )

    assert rerun.returncode == 0, rerun.stderr
    assert pypiserver.files() == ["tp_gamma-1.0.0-py3-none-any.whl", "tp_gamma-1.0.0.tar.gz"]


def test_sigterm_shuts_the_embedded_index_down(workspace: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEXUS_")}
    with subprocess.Popen(
        [*FACTORY, "publish"], cwd=workspace, env=env, stdout=subprocess.PIPE, text=True
    ) as factory:
        assert factory.stdout is not None
        first_line = factory.stdout.readline()  # printed once the server answers
        factory.send_signal(signal.SIGTERM)
        factory.communicate(timeout=300)
    port = int(first_line.split("http://127.0.0.1:", 1)[1].split("/", 1)[0])

    assert factory.returncode in (0, 143)  # 0 only if the publish had already finished
    with pytest.raises(ConnectionRefusedError):  # no pypiserver left behind on its port
        socket.create_connection(("127.0.0.1", port), timeout=10).close()
