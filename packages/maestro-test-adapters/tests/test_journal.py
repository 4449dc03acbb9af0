"""The pytest plugin's journal, as the adapter reads it after a crash."""

from __future__ import annotations

from pathlib import Path

from maestro_test_adapters import Status, TestResult, TestRun, TestSuite
from maestro_test_adapters._journal import journal_path, read_journal


def entry(name: str, stdout: str) -> bytes:
    result = TestResult(f"t.py::{name}", name, Status.PASSED, stdout=stdout)
    run = TestRun("pytest", suites=[TestSuite("t.py", [result], file="t.py")])
    return (run.to_json() + "\n").encode()


def test_a_line_cut_inside_a_character_keeps_the_tests_before_it(tmp_path: Path) -> None:
    # The crash can cut the last line anywhere; the UnicodeDecodeError escaped the adapter.
    report = tmp_path / "run.json"
    whole = entry("test_b", "é" * 10)
    cut = whole[: whole.rindex("é".encode()) + 1]  # in the middle of a two-byte character
    journal_path(report).write_bytes(entry("test_a", "ok") + cut)

    run = read_journal(report, "pytest")

    assert run is not None
    assert [(r.name, r.stdout) for r in run.iter_results()] == [("test_a", "ok")]


def test_no_journal_is_no_run(tmp_path: Path) -> None:
    assert read_journal(tmp_path / "run.json", "pytest") is None
