"""The `run` subcommand: real runs, exit codes 0/1/2, JSON output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from maestro_test_adapters import TestRun
from maestro_test_adapters.adapters._cli import main


def test_all_passed_exits_0(python_suites: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(
        [
            "run",
            "--workdir",
            str(python_suites),
            "pytest",
            "check_mixed.py",
            "-k",
            "test_passes and not second",
        ]
    )

    assert code == 0
    assert capsys.readouterr().out.startswith("pytest: 1 test (1 passed) in ")


def test_failures_exit_1_and_are_listed(
    python_suites: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["run", "--workdir", str(python_suites), "pytest", "check_mixed.py"])

    out = capsys.readouterr().out
    assert code == 1
    assert "FAILED check_mixed.py::test_fails: AssertionError: subtraction is broken" in out
    assert "ERROR check_mixed.py::test_setup_error" in out


def test_json_and_output_file(
    python_suites: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "run.json"

    code = main(
        [
            "run",
            "--json",
            "--reruns=1",
            f"--output={output}",
            f"--workdir={python_suites}",
            "--env",
            "UNUSED=1",
            "pytest",
            "check_mixed.py",
            "--",
            "-k",
            "second_attempt",
        ]
    )

    captured = capsys.readouterr()
    assert code == 0
    printed = TestRun.from_json(captured.out)
    assert printed == TestRun.from_json(output.read_text())
    assert printed.totals.flaky == 1
    assert "1 flaky" in captured.err


def test_crash_exits_1(python_suites: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", f"--workdir={python_suites}", "pytest", "check_crash.py"])

    assert code == 1
    assert "ERROR pytest::<run>: pytest was killed by SIGKILL" in capsys.readouterr().out


def test_missing_tool_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", f"--workdir={tmp_path}", "jest", "tests"])

    assert code == 2
    assert "jest is not installed" in capsys.readouterr().err


def test_wrong_runner_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["run", "--runner=behave", "jest", "tests"])

    assert code == 2
    assert "--runner 'behave' is not valid for jest" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["run", "--timeout=0", "pytest", "tests"],
        ["run", "--timeout=nan", "pytest", "tests"],
        ["run", "--env=NOEQUALS", "pytest", "tests"],
        ["run", "--reruns=-1", "pytest", "tests"],
        ["run", "nose", "tests"],
    ],
)
def test_bad_arguments_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)

    assert exit_info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_unwritable_output_exits_2(
    python_suites: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        [
            "run",
            f"--output={tmp_path / 'missing-dir' / 'run.json'}",
            f"--workdir={python_suites}",
            "pytest",
            "check_mixed.py",
            "-k",
            "test_passes and not second",
        ]
    )

    assert code == 2
    printed = capsys.readouterr()
    assert "cannot write" in printed.err and "missing-dir does not exist" in printed.err
    assert printed.out == ""  # refused before the suite ran


def test_output_that_cannot_be_written_still_shows_the_results(
    python_suites: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The summary used to be dropped when writing --output failed after the run.
    code = main(
        [
            "run",
            f"--output={tmp_path}",  # a folder
            f"--workdir={python_suites}",
            "pytest",
            "check_mixed.py",
            "-k",
            "test_passes and not second",
        ]
    )

    assert code == 2
    printed = capsys.readouterr()
    assert printed.out.startswith("pytest: 1 test (1 passed)")
    assert f"cannot write {tmp_path}: Is a directory" in printed.err


def test_missing_target_names_only_what_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["run", "pytest"])

    err = capsys.readouterr().err
    assert err.rstrip().endswith("the following arguments are required: target")


def test_cli_output_is_json(python_suites: Path, capsys: pytest.CaptureFixture[str]) -> None:
    main(["run", "--json", f"--workdir={python_suites}", "pytest", "check_broken.py"])

    assert json.loads(capsys.readouterr().out)["totals"]["error"] == 1
