"""CucumberAdapter runs real cucumber-js (messages) and behave (JSON) suites."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_test_adapters import Status, TestRun
from maestro_test_adapters.adapters import CucumberAdapter, ToolNotFoundError


def _status(run: TestRun) -> dict[str, Status]:
    return {result.test_id: result.status for result in run.iter_results()}


def test_cucumber_js_mixed_suite_keeps_retries(js_project: Path) -> None:
    run = CucumberAdapter().run(
        "cucumber/features/mixed.feature",
        workdir=js_project,
        extra_args=["--retry", "1"],
        timeout=120,
    )

    assert _status(run) == {
        "cucumber/features/mixed.feature:2::Adding": Status.PASSED,
        "cucumber/features/mixed.feature:7::Adding wrongly": Status.FAILED,
        "cucumber/features/mixed.feature:12::Not ready yet": Status.SKIPPED,
        "cucumber/features/mixed.feature:15::Flaky adding": Status.PASSED,
    }
    results = {result.name: result for result in run.iter_results()}
    assert results["Flaky adding"].flaky
    assert [a.status for a in results["Adding wrongly"].attempts] == [Status.FAILED]
    assert run.framework == "cucumber-js" and run.totals.flaky == 1


def test_cucumber_js_crash_is_an_error(js_project: Path) -> None:
    run = CucumberAdapter().run("cucumber/features/crash.feature", workdir=js_project, timeout=120)

    errors = [r for r in run.iter_results() if r.status is Status.ERROR]
    assert [r.message for r in errors] == ["cucumber-js was killed by SIGKILL"]


def test_cucumber_js_target_without_scenarios_is_an_error(js_project: Path) -> None:
    # cucumber-js itself exits 0 here; a mistyped path must not pass in CI.
    run = CucumberAdapter().run("cucumber/no-such-folder", workdir=js_project, timeout=120)

    [result] = run.iter_results()
    assert result.status is Status.ERROR
    assert result.message == ("cucumber-js ran no test: check that the target names tests to run")
    assert not run.totals.ok


def test_cucumber_js_hang_is_killed_with_its_whole_tree(
    js_project: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    run = CucumberAdapter().run(
        "cucumber/features/hang.feature",
        workdir=js_project,
        timeout=6,
        env={"MAESTRO_FIXTURE_PID_FILE": str(pid_file)},
    )

    assert [r.status for r in run.iter_results()][-1] is Status.ERROR
    assert "did not finish within 6 s" in (list(run.iter_results())[-1].message or "")
    assert_gone(pid_file)


def test_behave_mixed_suite(python_suites: Path) -> None:
    run = CucumberAdapter(runner="behave").run("features", workdir=python_suites, timeout=120)

    assert _status(run) == {
        "features/mixed.feature:2::Adding": Status.PASSED,
        "features/mixed.feature:7::Adding wrongly": Status.FAILED,
        "features/mixed.feature:12::Not ready yet": Status.SKIPPED,
    }
    failed = next(r for r in run.iter_results() if r.status is Status.FAILED)
    assert "expected 3, got 2" in (failed.message or "")
    assert run.framework == "behave"


def test_behave_usage_error_quotes_behave(python_suites: Path) -> None:
    run = CucumberAdapter(runner="behave").run(
        "no-such.feature", workdir=python_suites, timeout=120
    )

    [result] = run.iter_results()
    assert result.status is Status.ERROR
    assert (result.message or "").startswith("behave wrote no report (exit code 1): ConfigError:")


def test_behave_crash_is_an_error(python_suites: Path) -> None:
    run = CucumberAdapter(runner="behave").run("crash_features", workdir=python_suites, timeout=120)

    [result] = run.iter_results()
    assert (result.status, result.message) == (Status.ERROR, "behave was killed by SIGKILL")


def test_behave_hang_is_killed_with_its_whole_tree(
    python_suites: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    run = CucumberAdapter(runner="behave").run(
        "hang_features",
        workdir=python_suites,
        timeout=6,
        env={"MAESTRO_FIXTURE_PID_FILE": str(pid_file)},
    )

    assert [r.status for r in run.iter_results()] == [Status.ERROR]
    assert_gone(pid_file)


def test_missing_cucumber_js_says_what_to_install(tmp_path: Path) -> None:
    with pytest.raises(ToolNotFoundError, match="npm install --save-dev @cucumber/cucumber"):
        CucumberAdapter().run("features", workdir=tmp_path)


def test_unknown_runner_is_refused() -> None:
    with pytest.raises(ValueError, match="use one of"):
        CucumberAdapter(runner="lettuce")  # type: ignore[arg-type]
