"""JestAdapter runs the real Jest suites of the npm fixture project."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_test_adapters import Status, TestResult, TestRun
from maestro_test_adapters.adapters import JestAdapter, ToolNotFoundError


def _results(run: TestRun) -> dict[str, TestResult]:
    return {result.test_id: result for result in run.iter_results()}


@pytest.fixture(scope="module")
def mixed_run(js_project: Path) -> TestRun:
    return JestAdapter().run("jest/mixed", workdir=js_project, timeout=120)


def test_mixed_suite_is_normalised_with_relative_ids(mixed_run: TestRun) -> None:
    status = {test_id: result.status for test_id, result in _results(mixed_run).items()}

    assert status == {
        "jest/mixed.test.js::arithmetic > adds": Status.PASSED,
        "jest/mixed.test.js::arithmetic > subtracts wrongly": Status.FAILED,
        "jest/mixed.test.js::arithmetic > is not ready yet": Status.SKIPPED,
        "jest/mixed.test.js::arithmetic > passes on the second attempt": Status.PASSED,
    }
    failed = _results(mixed_run)["jest/mixed.test.js::arithmetic > subtracts wrongly"]
    assert failed.traceback is not None and "Expected: 1" in failed.traceback
    assert mixed_run.framework == "jest" and mixed_run.environment["exit_code"] == "1"
    assert "--json" in mixed_run.environment["command"]


def test_retries_are_attempts_and_lines_are_known(mixed_run: TestRun) -> None:
    results = _results(mixed_run)
    retried = results["jest/mixed.test.js::arithmetic > passes on the second attempt"]
    failed = results["jest/mixed.test.js::arithmetic > subtracts wrongly"]

    assert retried.flaky and mixed_run.totals.flaky == 1
    assert [attempt.status for attempt in failed.attempts] == [Status.FAILED, Status.FAILED]
    assert (failed.file, failed.line) == ("jest/mixed.test.js", 11)


def test_suite_that_cannot_load_is_an_error(js_project: Path) -> None:
    run = JestAdapter().run("jest/crash", workdir=js_project, timeout=120)

    [result] = run.iter_results()
    assert result.status is Status.ERROR
    assert "fixture crashed while loading" in (result.traceback or result.message or "")


def test_hang_is_killed_with_its_whole_tree(
    js_project: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    run = JestAdapter().run(
        "jest/hang",
        workdir=js_project,
        timeout=6,
        env={"MAESTRO_FIXTURE_PID_FILE": str(pid_file)},
    )

    [result] = run.iter_results()
    assert result.status is Status.ERROR
    assert result.message == "jest did not finish within 6 s; its whole process tree was killed"
    assert_gone(pid_file)


def test_no_matching_tests_is_an_error(js_project: Path) -> None:
    run = JestAdapter().run("jest/no-such-suite", workdir=js_project, timeout=120)

    assert [result.status for result in run.iter_results()] == [Status.ERROR]
    assert not run.totals.ok


def test_missing_jest_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFoundError, match="npm install --save-dev jest"):
        JestAdapter().run("tests", workdir=tmp_path)
