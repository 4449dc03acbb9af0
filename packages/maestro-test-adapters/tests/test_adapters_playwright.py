"""PlaywrightAdapter runs real Playwright Test and Python Playwright suites on system Chromium."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_test_adapters import Status, TestRun
from maestro_test_adapters.adapters import PlaywrightAdapter, ToolNotFoundError

pytestmark = pytest.mark.browser


def test_playwright_test_mixed_suite(js_project: Path, served_page: str, tmp_path: Path) -> None:
    run = PlaywrightAdapter().run(
        "playwright/mixed.spec.js",
        workdir=js_project,
        env={"MAESTRO_FIXTURE_URL": served_page, "MAESTRO_FIXTURE_OUTPUT_DIR": str(tmp_path)},
        timeout=180,
    )

    results = {result.name: result for result in run.iter_results()}
    assert {name: r.status for name, r in results.items()} == {
        "served page > has the title": Status.PASSED,
        "served page > has the wrong heading": Status.FAILED,
        "served page > is not ready yet": Status.SKIPPED,
        "served page > passes on the second attempt": Status.PASSED,
    }
    assert results["served page > passes on the second attempt"].flaky
    failed = results["served page > has the wrong heading"]
    media = {attachment.media_type for attachment in failed.attachments}
    assert {"image/png", "application/zip"} <= media
    assert all(Path(a.path).is_file() for a in failed.attachments if a.path)
    assert run.framework == "playwright" and run.totals.flaky == 1


def test_playwright_test_worker_crash_is_a_failure(js_project: Path, tmp_path: Path) -> None:
    run = PlaywrightAdapter().run(
        "playwright/crash.spec.js",
        workdir=js_project,
        env={"MAESTRO_FIXTURE_OUTPUT_DIR": str(tmp_path)},
        timeout=180,
    )

    [result] = run.iter_results()
    assert result.status.is_failure
    assert "worker process exited unexpectedly" in (result.message or "")


def test_playwright_test_hang_is_killed_with_its_whole_tree(
    js_project: Path, tmp_path: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    run = PlaywrightAdapter().run(
        "playwright/hang.spec.js",
        workdir=js_project,
        timeout=8,
        env={
            "MAESTRO_FIXTURE_PID_FILE": str(pid_file),
            "MAESTRO_FIXTURE_OUTPUT_DIR": str(tmp_path),
        },
    )

    assert list(run.iter_results())[-1].status is Status.ERROR
    assert_gone(pid_file)


def test_python_suite_with_the_playwright_fixtures(
    python_suites: Path, served_page: str, tmp_path: Path
) -> None:
    adapter = PlaywrightAdapter(runner="pytest", reruns=1)
    adapter_run: TestRun = adapter.run(
        "check_playwright_pages.py",
        workdir=python_suites,
        env={"MAESTRO_FIXTURE_URL": served_page},
        extra_args=[f"--maestro-artifacts={tmp_path}"],
        timeout=180,
    )

    results = {result.name: result for result in adapter_run.iter_results()}
    assert results["test_title"].status is Status.PASSED
    assert results["test_title"].attachments == ()
    failed = results["test_wrong_heading"]
    assert failed.status is Status.FAILED
    by_type = {attachment.media_type: Path(attachment.path) for attachment in failed.attachments}
    assert set(by_type) == {"image/png", "text/html", "application/zip"}
    assert by_type["image/png"].read_bytes().startswith(b"\x89PNG")
    assert "<h1>Hello</h1>" in by_type["text/html"].read_text()
    assert by_type["application/zip"].read_bytes().startswith(b"PK")
    # The first attempt keeps its own files; the rerun's are named apart.
    [first] = failed.attempts
    assert {Path(a.path).name for a in first.attachments} == {
        "check_playwright_pages.py_test_wrong_heading.png",
        "check_playwright_pages.py_test_wrong_heading.html",
        "check_playwright_pages.py_test_wrong_heading.trace.zip",
    }
    assert by_type["image/png"].name == "check_playwright_pages.py_test_wrong_heading-attempt2.png"
    assert adapter_run.framework == "playwright"


def test_the_python_playwright_command_is_not_taken_for_playwright_test(tmp_path: Path) -> None:
    # pip's `playwright` (no `test` command) used to run and fail with "unknown command".
    scripts = Path(sys.executable).parent
    node = shutil.which("node")
    if shutil.which("playwright", path=str(scripts)) is None or node is None:
        pytest.skip("needs the Python playwright package and Node.js")
    path = os.pathsep.join([str(scripts), str(Path(node).parent)])

    with pytest.raises(ToolNotFoundError, match="npm install --save-dev @playwright/test"):
        PlaywrightAdapter().run("tests", workdir=tmp_path, env={"PATH": path})
