"""``maestro-adapters parse``: totals, JSON, exit codes 0/1/2, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from maestro_test_adapters import TestRun, read_results
from maestro_test_adapters.cli import main

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-world"
PASSING = FIXTURES / "publish-unit-test-result-action/latex-utensils.xml"
FAILING = FIXTURES / "test-reporter/jest-junit.xml"
CORRUPT = FIXTURES / "publish-unit-test-result-action/corrupt-xml.xml"


def test_all_passed_exits_0_and_prints_totals(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(PASSING)]) == 0
    out = capsys.readouterr().out
    assert f"{PASSING}: junit: 109 tests (109 passed) in" in out


def test_a_failure_exits_1_and_lists_the_failed_tests(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(FAILING)]) == 1
    out = capsys.readouterr().out
    assert "6 tests (1 passed, 4 failed, 1 skipped)" in out
    assert out.count("  FAILED ") == 4


def test_several_files_get_a_total_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(PASSING), str(FAILING)]) == 1
    assert "total: 2 files: 115 tests (110 passed, 4 failed, 1 skipped)" in capsys.readouterr().out


def test_a_broken_file_exits_2_but_the_others_are_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", str(CORRUPT), str(PASSING)]) == 2
    captured = capsys.readouterr()
    assert f"error: {CORRUPT}:11: not well-formed XML: no element found" in captured.err
    assert "Traceback" not in captured.err
    assert "109 passed" in captured.out


def test_json_prints_one_normalised_document_per_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["parse", "--json", str(FAILING), str(PASSING)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    assert len(lines) == 2
    runs = [TestRun.from_json(line) for line in lines]
    assert runs[0] == read_results(FAILING)
    assert json.loads(lines[1])["totals"]["passed"] == 109
    assert "total: 2 files" in captured.err  # the totals stay out of the JSON stream


def test_format_can_be_forced(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["parse", "--format", "jest", str(PASSING)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_unknown_content_lists_the_formats(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hello", encoding="utf-8")
    assert main(["parse", str(notes)]) == 2
    assert "supported formats: maestro, junit, trx, jest" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv", [["parse"], ["parse", "--format", "nunit", "x.xml"], ["frobnicate"], []]
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "usage: maestro-adapters" in err and "Traceback" not in err


def test_junit_xml_output_merges_the_files(tmp_path: Path) -> None:
    out = tmp_path / "merged.xml"
    assert main(["parse", str(PASSING), str(FAILING), "--junit-xml", str(out)]) == 1
    merged = read_results(out)
    assert merged.totals.total == 115
    assert merged.totals.failed == 4


def test_unwritable_junit_xml_names_the_file_asked_for(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "missing-dir" / "merged.xml"
    assert main(["parse", str(PASSING), "--junit-xml", str(out)]) == 2
    err = capsys.readouterr().err
    # Not the temporary file the export writes first.
    assert f"cannot write {out}: No such file or directory" in err and ".tmp" not in err


def test_the_console_entry_point(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "maestro_test_adapters", "parse", str(FAILING), str(CORRUPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert "4 failed" in done.stdout
    assert "corrupt-xml.xml:11" in done.stderr and "Traceback" not in done.stderr


def test_a_pipe_is_read_when_its_format_is_named(tmp_path: Path) -> None:
    # Detection ate the piped content and the reader then called the file malformed.
    def parse(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "maestro_test_adapters", "parse", *args, "/dev/stdin"],
            input=FAILING.read_text(encoding="utf-8"),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    detected = parse()
    assert detected.returncode == 2
    assert "/dev/stdin: is a pipe, which can be read only once: name its format" in detected.stderr
    named = parse("--format", "junit")
    assert named.returncode == 1 and "4 failed" in named.stdout, named.stderr
