"""JUnit XML export: CI tools read it back, nothing is lost that JUnit can carry."""

from __future__ import annotations

from pathlib import Path

import junitparser
import pytest

from maestro_test_adapters import (
    Attachment,
    Attempt,
    Status,
    TestResult,
    TestRun,
    TestSuite,
    read_results,
    to_junit_xml,
    write_junit_xml,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-world"
ROUND_TRIPPED = [
    "publish-unit-test-result-action/flaky.xml",
    "test-reporter/python-xunit-pytest.xml",
    "test-reporter/jest-test-results.xml",
    "junitparser/jenkins.xml",
    "compatibility-kit/retry.ndjson",
    "playwright-report-summary/report-valid.json",
    # The same test in three projects, one failing: not to be read back as retries.
    "playwright-report-summary/report-sharded.json",
    "test-reporter/dotnet-trx.trx",
]


def outline(run: TestRun) -> list[tuple[str, str, Status, int, str | None]]:
    return [
        (suite.name, result.name, result.status, len(result.attempts), result.message)
        for suite in run.suites
        for result in suite.tests
    ]


@pytest.mark.parametrize("name", ROUND_TRIPPED)
def test_export_reads_back_to_the_same_results(tmp_path: Path, name: str) -> None:
    original = read_results(FIXTURES / name)
    exported = write_junit_xml(original, tmp_path / "junit.xml")
    again = read_results(exported)
    assert again.totals == original.totals
    assert outline(again) == outline(original)


@pytest.mark.parametrize("name", ROUND_TRIPPED)
def test_junitparser_reads_the_export_with_the_right_counts(tmp_path: Path, name: str) -> None:
    original = read_results(FIXTURES / name)
    exported = write_junit_xml(original, tmp_path / "junit.xml")
    xml = junitparser.JUnitXml.fromfile(str(exported))
    totals = original.totals
    assert xml.tests == totals.total
    assert xml.failures == totals.failed
    assert xml.errors == totals.error
    assert xml.skipped == totals.skipped + totals.xfailed
    cases = [case for suite in xml for case in suite]
    assert len(cases) == totals.total
    failed = sum(
        1 for case in cases if any(isinstance(r, junitparser.Failure) for r in case.result)
    )
    assert failed == totals.failed


def test_every_field_junit_can_carry_survives(tmp_path: Path) -> None:
    result = TestResult(
        "calc::div",
        'div "quoted" <tag> & more',
        Status.FAILED,
        1.5,
        classname="calc",
        file="tests/calc.py",
        line=7,
        message="multi\nline\tmessage",
        traceback="Traceback 😀\n  ]]> in text",
        stdout="out",
        stderr="err",
        attempts=(Attempt(Status.ERROR, 0.5, "first", "trace 1", "o1", "e1"),),
        attachments=(Attachment("shots/div.png", "image/png"),),
        properties=(("owner", "qa"), ("owner", "dev")),
    )
    xfail = TestResult("calc::xf", "xf", Status.XFAILED, message="known")
    run = TestRun("pytest", duration=2.0, suites=[TestSuite("calc", [result, xfail])])
    again = read_results(write_junit_xml(run, tmp_path / "r.xml"))
    back, back_xfail = again.iter_results()
    assert (back.name, back.classname, back.file, back.line, back.duration) == (
        result.name,
        "calc",
        "tests/calc.py",
        7,
        1.5,
    )
    assert (back.message, back.traceback, back.stderr) == (
        result.message,
        result.traceback,
        "err",
    )
    assert back.stdout is not None and back.stdout.startswith("out")
    assert back.attachments == (Attachment("shots/div.png", "image/png"),)
    assert back.properties == result.properties
    assert back.attempts == (Attempt(Status.ERROR, 0.5, "first", "trace 1", "o1", "e1"),)
    assert (back_xfail.status, back_xfail.message) == (Status.XFAILED, "known")


def test_characters_xml_cannot_carry_are_replaced(tmp_path: Path) -> None:
    nasty = "nul\x00 esc\x1b[31m bell\x07 lone\ud800 end"
    run = TestRun(
        "x", suites=[TestSuite("s", [TestResult("s::t", nasty, Status.FAILED, message=nasty)])]
    )
    text = to_junit_xml(run)
    assert "\x00" not in text and "\ud800" not in text
    back = next(read_results(write_junit_xml(run, tmp_path / "r.xml")).iter_results())
    assert back.name == "nul\ufffd esc\ufffd[31m bell\ufffd lone\ufffd end"


def test_counts_come_from_the_tests(tmp_path: Path) -> None:
    statuses = [Status.PASSED, Status.FAILED, Status.ERROR, Status.SKIPPED, Status.XPASSED]
    suite = TestSuite("s", [TestResult(f"s::{s}", str(s), s) for s in statuses])
    head = to_junit_xml(TestRun("x", suites=[suite])).splitlines()[2]
    assert 'tests="5" failures="1" errors="1" skipped="1"' in head


def test_failed_write_leaves_the_previous_file_and_no_litter(tmp_path: Path) -> None:
    target = tmp_path / "junit.xml"
    target.write_text("previous", encoding="utf-8")
    broken = TestRun("x", suites=[TestSuite("s", [TestResult("id", 42, Status.PASSED)])])  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        write_junit_xml(broken, target)
    assert target.read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junit.xml"]


def test_the_file_gets_the_permissions_of_a_plain_write(tmp_path: Path) -> None:
    # The temporary file's owner-only mode used to stay on the written file.
    plain = tmp_path / "plain.xml"
    plain.write_text("x", encoding="utf-8")
    written = write_junit_xml(TestRun("x"), tmp_path / "junit.xml")
    assert written.stat().st_mode == plain.stat().st_mode


def test_write_into_a_missing_folder_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_junit_xml(TestRun("x"), tmp_path / "nope" / "junit.xml")
    assert not (tmp_path / "nope").exists()
