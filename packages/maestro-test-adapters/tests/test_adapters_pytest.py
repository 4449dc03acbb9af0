"""PytestAdapter runs real pytest suites and normalises every outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from maestro_test_adapters import Status, TestRun
from maestro_test_adapters.adapters import AdapterError, PytestAdapter, ToolNotFoundError


def _by_name(run: TestRun) -> dict[str, object]:
    return {result.name: result for result in run.iter_results()}


def test_mixed_suite_keeps_every_outcome_and_the_retry(python_suites: Path) -> None:
    run = PytestAdapter(reruns=1).run("check_mixed.py", workdir=python_suites, timeout=120)

    results = {result.test_id: result for result in run.iter_results()}
    status = {test_id: result.status for test_id, result in results.items()}
    assert status == {
        "check_mixed.py::test_passes": Status.PASSED,
        "check_mixed.py::test_fails": Status.FAILED,
        "check_mixed.py::test_skipped": Status.SKIPPED,
        "check_mixed.py::test_expected_failure": Status.XFAILED,
        "check_mixed.py::test_unexpected_pass": Status.XPASSED,
        "check_mixed.py::TestGroup::test_passes_on_second_attempt": Status.PASSED,
        "check_mixed.py::test_setup_error": Status.ERROR,
    }
    passes = results["check_mixed.py::test_passes"]
    assert passes.stdout == "hello from stdout\n"
    assert passes.properties == (("ticket", "QA-1"),)
    assert (passes.file, passes.line) == ("check_mixed.py", 10)
    assert passes.attempts == ()

    fails = results["check_mixed.py::test_fails"]
    assert fails.message is not None and "subtraction is broken" in fails.message
    assert fails.traceback is not None and "assert (3 - 1) == 1" in fails.traceback
    assert fails.stderr == "about to fail\n"
    assert [attempt.status for attempt in fails.attempts] == [Status.FAILED]

    flaky = results["check_mixed.py::TestGroup::test_passes_on_second_attempt"]
    assert flaky.flaky and flaky.classname == "TestGroup"
    assert flaky.attempts[0].message is not None
    assert "first attempt fails on purpose" in flaky.attempts[0].message

    assert results["check_mixed.py::test_skipped"].message == "not ready yet"
    assert results["check_mixed.py::test_expected_failure"].message == "known bug"
    setup_error = results["check_mixed.py::test_setup_error"]
    assert setup_error.message == "error in setup: RuntimeError: resource unavailable"
    assert run.totals.flaky == 1 and not run.totals.ok
    assert run.framework == "pytest" and run.environment["exit_code"] == "1"


def test_without_reruns_a_flaky_test_just_fails(python_suites: Path) -> None:
    run = PytestAdapter().run(
        "check_mixed.py",
        workdir=python_suites,
        extra_args=["-k", "second_attempt"],
        timeout=120,
    )

    [result] = run.iter_results()
    assert result.status is Status.FAILED and result.attempts == ()


def test_crash_keeps_finished_tests_and_is_an_error(python_suites: Path) -> None:
    run = PytestAdapter().run("check_crash.py", workdir=python_suites, timeout=120)

    finished, crash = run.iter_results()
    assert (finished.test_id, finished.status) == (
        "check_crash.py::test_before_the_crash",
        Status.PASSED,
    )
    assert crash.status is Status.ERROR
    assert crash.message == "pytest was killed by SIGKILL"
    assert crash.stdout is not None and "check_crash.py ." in crash.stdout


def test_import_error_is_an_error_result(python_suites: Path) -> None:
    run = PytestAdapter().run("check_broken.py", workdir=python_suites, timeout=120)

    [result] = run.iter_results()
    assert (result.test_id, result.status) == ("check_broken.py", Status.ERROR)
    assert result.traceback is not None and "a_module_that_does_not_exist" in result.traceback


def test_hang_is_killed_with_its_whole_tree(
    python_suites: Path, pid_file: Path, assert_gone: Callable[[Path], None]
) -> None:
    run = PytestAdapter().run(
        "check_hang.py",
        workdir=python_suites,
        timeout=6,
        env={"MAESTRO_FIXTURE_PID_FILE": str(pid_file)},
    )

    finished, result = run.iter_results()
    assert (finished.name, finished.status) == ("test_before_the_hang", Status.PASSED)
    assert result.status is Status.ERROR
    assert result.message == "pytest did not finish within 6 s; its whole process tree was killed"
    assert_gone(pid_file)


def test_a_target_without_tests_is_an_error(python_suites: Path) -> None:
    run = PytestAdapter().run("no_such_file.py", workdir=python_suites, timeout=120)

    [result] = run.iter_results()
    assert result.status is Status.ERROR
    assert result.message == (
        "pytest exited with code 4 but reported no failing test (no tests found, or a usage"
        " error): ERROR: file or directory not found: no_such_file.py"
    )


def test_a_missing_interpreter_says_what_to_do(tmp_path: Path) -> None:
    adapter = PytestAdapter(python=tmp_path / "no-python")

    with pytest.raises(ToolNotFoundError, match="existing Python interpreter"):
        adapter.run("tests", workdir=tmp_path)


def test_a_missing_workdir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AdapterError, match="does not exist"):
        PytestAdapter().run("tests", workdir=tmp_path / "nowhere")


@pytest.mark.parametrize("timeout", [0, -1.5, float("nan")])
def test_a_timeout_must_be_positive(tmp_path: Path, timeout: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        PytestAdapter().run("tests", workdir=tmp_path, timeout=timeout)


def test_extra_args_as_one_string_is_refused(tmp_path: Path) -> None:
    # It used to reach pytest one character at a time ("file or directory not found: -").
    with pytest.raises(TypeError, match=r"not the string '-x -q': use \['-x', '-q'\]"):
        PytestAdapter().run("tests", workdir=tmp_path, extra_args="-x -q")
