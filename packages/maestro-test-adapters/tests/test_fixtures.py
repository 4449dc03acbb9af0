"""Every real-world file of ``fixtures/real-world`` reads to the totals of its MANIFEST.

Expected values are the MANIFEST's, adapted the way it says: ``error`` is
kept apart from ``failed``, retries of one test are attempts of that test,
and pytest's ``xfail`` (a ``<skipped type="pytest.xfail">``) is ``xfailed``.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pytest

from maestro_test_adapters import (
    ResultFileError,
    Status,
    detect_format,
    iter_results,
    read_results,
)

#: Copied from the shared fixtures with their MANIFEST.md (attribution, expected totals).
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "real-world"


class Expected(NamedTuple):
    format: str
    total: int
    passed: int = 0
    failed: int = 0
    error: int = 0
    skipped: int = 0
    xfailed: int = 0
    flaky: int = 0


EXPECTED = {
    "test-reporter/jest-junit.xml": Expected("junit", 6, 1, 4, 0, 1),
    "test-reporter/python-xunit-pytest.xml": Expected("junit", 10, 6, 2, 0, 1, xfailed=1),
    "test-reporter/python-xunit-unittest.xml": Expected("junit", 8, 4, 1, 1, 2),
    "test-reporter/dotnet-trx.trx": Expected("trx", 11, 5, 5, 0, 1),
    "test-reporter/dotnet-xunitv3.trx": Expected("trx", 4, 1, 3),
    "test-reporter/junit4-complete.xml": Expected("junit", 8, 5, 1, 1, 1),
    "test-reporter/pulsar-test-report.xml": Expected("junit", 808, 793, 1, 0, 14),
    "test-reporter/junit-basic.xml": Expected("junit", 9, 8, 1),
    "test-reporter/jest-test-results.xml": Expected("junit", 4239, 4207, 2, 0, 30),
    "test-reporter/test-errors/jest-test-results.xml": Expected("junit", 2, 0, 0, 2),
    "test-reporter/go-junit-report.xml": Expected("junit", 5, 2, 2, 0, 1),
    "test-reporter/playwright-report.xml": Expected("junit", 60, 36, 4, 0, 20),
    "publish-unit-test-result-action/junit.fail.xml": Expected("junit", 5, 3, 1, 0, 1),
    "publish-unit-test-result-action/testsuite-in-testsuite.xml": Expected("junit", 5, 5),
    "publish-unit-test-result-action/testsuite-root.xml": Expected("junit", 5, 5),
    "publish-unit-test-result-action/jest-junit.xml": Expected("junit", 2, 2),
    "publish-unit-test-result-action/latex-utensils.xml": Expected("junit", 109, 109),
    "publish-unit-test-result-action/with-xml-entities.xml": Expected("junit", 4, 0, 1, 1, 2),
    "publish-unit-test-result-action/unsupported-unicode.xml": Expected("junit", 7, 1, 2, 2, 2),
    "publish-unit-test-result-action/no-cases-but-tests.xml": Expected("junit", 0),
    "publish-unit-test-result-action/junit.multiresult.xml": Expected("junit", 4, 1, 1, 1, 1),
    "publish-unit-test-result-action/xunit.xml": Expected("junit", 2, 2),
    "publish-unit-test-result-action/suite-logs.xml": Expected("junit", 1, 0, 0, 1),
    "publish-unit-test-result-action/TEST-uk.co.gresearch.spark.diff.DiffOptionsSuite.xml": (
        Expected("junit", 5, 5)
    ),
    "publish-unit-test-result-action/pickles.trx": Expected("trx", 4, 3, 1),
    # 4 test cases: two flaky ones passed after flakyFailure/flakyError, the
    # other two failed (rerunFailure) and errored (rerunError) every time.
    "publish-unit-test-result-action/flaky.xml": Expected("junit", 4, 2, 1, 1, flaky=2),
    "action-junit-report/surefire-report.xml": Expected("junit", 1, 1, flaky=1),
    # pass, fail, error of the same test (same file and line): one flaky pass.
    "action-junit-report/flaky_success_first.xml": Expected("junit", 1, 1, flaky=1),
    "action-junit-report/multi-level.xml": Expected("junit", 3, 3),
    "junitparser/jenkins.xml": Expected("junit", 3, 1, 1, 0, 1),
    "junitparser/pytest_error.xml": Expected("junit", 1, 0, 1),
    "junitxml/conventions.xml": Expected("junit", 1, 1),
    "junitxml/testcase-properties.xml": Expected("junit", 1, 1),
    # retry: 3 retried cases, two passed in the end (flaky), one failed throughout.
    "compatibility-kit/retry.ndjson": Expected("cucumber-messages", 4, 3, 1, flaky=2),
    # PASSED, FAILED, PENDING/SKIPPED -> skipped, UNDEFINED/AMBIGUOUS -> error.
    "compatibility-kit/all-statuses.ndjson": Expected("cucumber-messages", 6, 1, 1, 2, 2),
    "compatibility-kit/attachments.ndjson": Expected("cucumber-messages", 8, 7, 1),
    # Playwright's "flaky" test is passed with a failed attempt.
    "playwright-report-summary/report-valid.json": Expected("playwright", 14, 11, 2, 0, 1, flaky=1),
    "playwright-report-summary/report-sharded.json": Expected(
        "playwright", 27, 23, 1, 0, 3, flaky=1
    ),
    # 2 passed, 1 failed, 1 whose steps never ran (skipped); the background is no test.
    "cucumber-reporting/sample.json": Expected("cucumber-json", 4, 2, 1, 0, 1),
}

BROKEN = {
    "publish-unit-test-result-action/corrupt-xml.xml": (11, "no element found"),
    "action-junit-report/expectedRetries.xml": (9, "not well-formed"),
    "publish-unit-test-result-action/NUnit-sec1752-file.xml": (None, "refused"),
}


def test_the_fixture_folder_is_there() -> None:
    assert FIXTURES.is_dir(), f"the real-world fixtures are missing: expected them in {FIXTURES}"
    assert (FIXTURES / "MANIFEST.md").is_file()


def test_every_fixture_file_is_covered() -> None:
    on_disk = {
        path.relative_to(FIXTURES).as_posix()
        for path in FIXTURES.rglob("*")
        if path.is_file() and path.name not in ("MANIFEST.md", "README.md")
    }
    assert on_disk == set(EXPECTED) | set(BROKEN)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_reads_to_the_manifest_totals(name: str) -> None:
    expected = EXPECTED[name]
    path = FIXTURES / name
    assert detect_format(path) == expected.format
    run = read_results(path)
    totals = run.totals
    assert (
        totals.total,
        totals.passed,
        totals.failed,
        totals.error,
        totals.skipped,
        totals.xfailed,
        totals.flaky,
    ) == tuple(expected[1:])
    assert totals.xpassed == 0
    for result in run.iter_results():
        assert result.test_id and isinstance(result.status, Status)
        assert result.duration >= 0


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_survives_the_json_round_trip(name: str) -> None:
    run = read_results(FIXTURES / name)
    assert type(run).from_json(run.to_json()) == run


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_or_hostile_fixture_gives_a_clear_error(name: str) -> None:
    line, reason = BROKEN[name]
    with pytest.raises(ResultFileError) as caught:
        read_results(FIXTURES / name)
    error = caught.value
    assert error.path.endswith(name.rsplit("/", 1)[1])
    assert error.line == line
    assert reason in str(error)
    assert str(error).startswith(f"{error.path}")


def test_the_xxe_fixture_is_refused_before_anything_is_resolved() -> None:
    with pytest.raises(ResultFileError, match="DTD") as caught:
        detect_format(FIXTURES / "publish-unit-test-result-action/NUnit-sec1752-file.xml")
    assert "XXE" in str(caught.value)


def test_streaming_gives_the_same_results_as_reading() -> None:
    path = FIXTURES / "test-reporter/pulsar-test-report.xml"
    streamed = [(suite.name, result) for suite, result in iter_results(path)]
    read = [(suite.name, result) for suite in read_results(path).suites for result in suite.tests]
    assert streamed == read


def test_details_of_real_files_are_kept() -> None:
    surefire = read_results(FIXTURES / "publish-unit-test-result-action/flaky.xml")
    by_name = {result.name: result for result in surefire.iter_results()}
    flaky = by_name["failsAssertionOnlyFirstAttempt"]
    assert flaky.flaky and flaky.status is Status.PASSED
    assert (
        flaky.attempts[0].message == "First attempt fails assertion ==> expected: <1> but was: <2>"
    )
    assert "ExampleTests.java:32" in (flaky.attempts[0].traceback or "")
    always = by_name["throwsAlways"]
    assert always.status is Status.ERROR and len(always.attempts) == 3 and not always.flaky

    xunit1 = read_results(FIXTURES / "publish-unit-test-result-action/junit.fail.xml")
    located = [result for result in xunit1.iter_results() if result.line is not None]
    assert located and all(result.file for result in located)

    unicode = read_results(FIXTURES / "publish-unit-test-result-action/unsupported-unicode.xml")
    names = " ".join(f"{result.name} {result.message or ''}" for result in unicode.iter_results())
    assert any(ord(char) > 0xFFFF for char in names)

    entities = read_results(FIXTURES / "publish-unit-test-result-action/with-xml-entities.xml")
    text = " ".join(f"{r.name} {r.message or ''}" for r in entities.iter_results())
    assert "&" in text or "<" in text or '"' in text

    testmo = read_results(FIXTURES / "junitxml/conventions.xml")
    (case,) = testmo.iter_results()
    paths = [attachment.path for attachment in case.attachments]
    assert "screenshots/dashboard.png" in paths
    assert any(a.content == "SGVsbG8sIFdvcmxkIQ==" for a in case.attachments)
    assert ("priority", "high") in case.properties

    cck = read_results(FIXTURES / "compatibility-kit/attachments.ndjson")
    media = {a.media_type for r in cck.iter_results() for a in r.attachments}
    assert {"application/pdf", "application/json", "text/plain"} <= media

    playwright = read_results(FIXTURES / "playwright-report-summary/report-valid.json")
    flaky_tests = [result for result in playwright.iter_results() if result.flaky]
    assert len(flaky_tests) == 1 and flaky_tests[0].attempts[0].status is Status.FAILED
