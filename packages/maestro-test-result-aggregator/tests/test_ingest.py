"""Ingest: real-world files, dedup, broken and hostile input, tags, atomicity."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite

from aggregator_testing import FIXTURES, make_run
from maestro_test_result_aggregator import ResultStore, RunTags, _reading
from maestro_test_result_aggregator import store as store_module

# (total, passed, failed, errors, skipped incl. xfailed, flaky) per the MANIFEST's
# naive counts, with retries merged into one test with several attempts.
EXPECTED = {
    "test-reporter/jest-junit.xml": (6, 1, 4, 0, 1, 0),
    "test-reporter/python-xunit-pytest.xml": (10, 6, 2, 0, 2, 0),
    "test-reporter/python-xunit-unittest.xml": (8, 4, 1, 1, 2, 0),
    "test-reporter/dotnet-trx.trx": (11, 5, 5, 0, 1, 0),
    "test-reporter/dotnet-xunitv3.trx": (4, 1, 3, 0, 0, 0),
    "test-reporter/junit4-complete.xml": (8, 5, 1, 1, 1, 0),
    "test-reporter/pulsar-test-report.xml": (808, 793, 1, 0, 14, 0),
    "test-reporter/junit-basic.xml": (9, 8, 1, 0, 0, 0),
    "test-reporter/jest-test-results.xml": (4239, 4207, 2, 0, 30, 0),
    "test-reporter/test-errors/jest-test-results.xml": (2, 0, 0, 2, 0, 0),
    "test-reporter/go-junit-report.xml": (5, 2, 2, 0, 1, 0),
    "test-reporter/playwright-report.xml": (60, 36, 4, 0, 20, 0),
    "publish-unit-test-result-action/junit.fail.xml": (5, 3, 1, 0, 1, 0),
    "publish-unit-test-result-action/testsuite-in-testsuite.xml": (5, 5, 0, 0, 0, 0),
    "publish-unit-test-result-action/testsuite-root.xml": (5, 5, 0, 0, 0, 0),
    "publish-unit-test-result-action/jest-junit.xml": (2, 2, 0, 0, 0, 0),
    "publish-unit-test-result-action/latex-utensils.xml": (109, 109, 0, 0, 0, 0),
    "publish-unit-test-result-action/with-xml-entities.xml": (4, 0, 1, 1, 2, 0),
    "publish-unit-test-result-action/unsupported-unicode.xml": (7, 1, 2, 2, 2, 0),
    "publish-unit-test-result-action/no-cases-but-tests.xml": (0, 0, 0, 0, 0, 0),
    "publish-unit-test-result-action/junit.multiresult.xml": (4, 1, 1, 1, 1, 0),
    "publish-unit-test-result-action/xunit.xml": (2, 2, 0, 0, 0, 0),
    "publish-unit-test-result-action/suite-logs.xml": (1, 0, 0, 1, 0, 0),
    "publish-unit-test-result-action/TEST-uk.co.gresearch.spark.diff.DiffOptionsSuite.xml": (
        5,
        5,
        0,
        0,
        0,
        0,
    ),  # fmt: skip
    "publish-unit-test-result-action/pickles.trx": (4, 3, 1, 0, 0, 0),
    # Surefire rerun: 4 cases, 2 passed after a flakyFailure/flakyError.
    "publish-unit-test-result-action/flaky.xml": (4, 2, 1, 1, 0, 2),
    "action-junit-report/surefire-report.xml": (1, 1, 0, 0, 0, 1),
    # pass, fail, error of one test: one test, passed first, retries kept.
    "action-junit-report/flaky_success_first.xml": (1, 1, 0, 0, 0, 1),
    "action-junit-report/multi-level.xml": (3, 3, 0, 0, 0, 0),
    "junitparser/jenkins.xml": (3, 1, 1, 0, 1, 0),
    "junitparser/pytest_error.xml": (1, 0, 1, 0, 0, 0),
    "junitxml/conventions.xml": (1, 1, 0, 0, 0, 0),
    "junitxml/testcase-properties.xml": (1, 1, 0, 0, 0, 0),
    "compatibility-kit/retry.ndjson": (4, 3, 1, 0, 0, 2),
    "compatibility-kit/attachments.ndjson": (8, 7, 1, 0, 0, 0),
    # One case per Cucumber status: undefined and ambiguous are errors, pending skipped.
    "compatibility-kit/all-statuses.ndjson": (6, 1, 1, 2, 2, 0),
    # 4 scenarios: 2 passed, 1 failed, 1 with undefined steps (skipped).
    "cucumber-reporting/sample.json": (4, 2, 1, 0, 1, 0),
    # 14 entries: 10 expected + 1 flaky (passed on retry), 2 unexpected, 1 skipped.
    "playwright-report-summary/report-valid.json": (14, 11, 2, 0, 1, 1),
    "playwright-report-summary/report-sharded.json": (27, 23, 1, 0, 3, 1),
}
BROKEN = {
    "publish-unit-test-result-action/corrupt-xml.xml": "line 11",
    "action-junit-report/expectedRetries.xml": "line 9",
    "publish-unit-test-result-action/NUnit-sec1752-file.xml": "DTD",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_fixture_ingests_to_its_expected_totals(store: ResultStore, name: str) -> None:
    report = store.ingest(FIXTURES / name, use_ci_environment=False)
    assert report.ok, report.failed
    run = store.run(report.ingested[0].run_id)
    got = (run.total, run.passed, run.failed, run.errors, run.skipped + run.xfailed, run.flaky)
    assert got == EXPECTED[name]
    stored = (
        store.connection()
        .execute("SELECT COUNT(*) FROM results WHERE run_id = ?", (run.id,))
        .fetchone()[0]
    )
    assert stored == run.total


def test_the_whole_fixture_folder_ingests_and_reports_each_broken_file_by_name(
    store: ResultStore,
) -> None:
    report = store.ingest(FIXTURES, use_ci_environment=False)
    failed = {Path(f.source).relative_to(FIXTURES).as_posix(): f.reason for f in report.failed}
    assert set(failed) == set(BROKEN)
    for name, fragment in BROKEN.items():
        assert fragment in failed[name]
    # Every other result file was stored despite the broken ones.
    assert report.new_runs == len(EXPECTED)
    assert report.new_results == sum(run.total for run in store.runs(limit=None))


def test_ingesting_the_same_file_twice_adds_nothing(store: ResultStore, tmp_path: Path) -> None:
    source = FIXTURES / "test-reporter/junit-basic.xml"
    first = store.ingest(source, use_ci_environment=False)
    copy = tmp_path / "renamed.xml"
    shutil.copy(source, copy)
    again = store.ingest([source, copy], use_ci_environment=False)
    assert first.new_runs == 1 and first.new_results == 9
    assert again.new_runs == 0 and again.duplicates == 2
    assert {item.run_id for item in again.ingested} == {first.ingested[0].run_id}
    assert len(store.runs()) == 1


def test_the_same_testrun_object_twice_adds_nothing(store: ResultStore) -> None:
    run = make_run({"a": "passed", "b": "failed"})
    assert store.ingest(run).new_runs == 1
    assert store.ingest(run).duplicates == 1
    assert store.connection().execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2


def test_globs_and_folders_expand_to_result_files(store: ResultStore) -> None:
    report = store.ingest(str(FIXTURES / "test-reporter" / "*.trx"), use_ci_environment=False)
    assert sorted(Path(i.source).name for i in report.ingested) == [
        "dotnet-trx.trx",
        "dotnet-xunitv3.trx",
    ]


def test_a_missing_file_is_reported_and_does_not_stop_the_others(store: ResultStore) -> None:
    report = store.ingest(
        ["does/not/exist.xml", FIXTURES / "junitparser/jenkins.xml"], use_ci_environment=False
    )
    assert [(f.source, f.reason) for f in report.failed] == [("does/not/exist.xml", "no such file")]
    assert report.new_runs == 1


def test_unknown_format_error_lists_the_supported_formats(
    store: ResultStore, tmp_path: Path
) -> None:
    odd = tmp_path / "notes.json"
    odd.write_text('{"hello": "world"}')
    (failure,) = store.ingest(odd).failed
    assert "junit" in failure.reason and "supported formats" in failure.reason


def test_xml_bomb_is_refused_without_expanding(store: ResultStore, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xml"
    entities = "".join(f'<!ENTITY e{i} "{f"&e{i - 1};" * 10 if i else "lol"}">' for i in range(10))
    bomb.write_text(
        f'<?xml version="1.0"?><!DOCTYPE testsuites [{entities}]>'
        '<testsuites><testsuite name="&e9;"><testcase name="x"/></testsuite></testsuites>'
    )
    (failure,) = store.ingest(bomb).failed
    assert "DTD" in failure.reason
    assert store.runs() == []


def test_tags_come_from_arguments_then_ci_variables(
    store: ResultStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "GITHUB_ACTIONS": "true",
        "GITHUB_REPOSITORY": "org/shop",
        "GITHUB_REF_NAME": "feature",
        "GITHUB_SHA": "abc123",
        "GITHUB_RUN_ID": "77",
        "GITHUB_SERVER_URL": "https://github.example",
    }.items():
        monkeypatch.setenv(name, value)
    store.ingest(make_run({"a": "passed"}), tags=RunTags(branch="main", environment="py3.11"))
    run = store.run()
    assert (run.project, run.branch, run.commit, run.build, run.environment) == (
        "org/shop",
        "main",
        "abc123",
        "77",
        "py3.11",
    )
    assert run.ci_url == "https://github.example/org/shop/actions/runs/77"
    assert run.started_at.startswith("2026-11-01T08:00:00")


def test_pytest_plugin_output_is_ingested(store: ResultStore, tmp_path: Path) -> None:
    # The adapters' pytest plugin writes TestRun.to_json(): the "maestro" format.
    path = tmp_path / "maestro-results.json"
    path.write_text(make_run({"a": "passed", "b": "flaky", "c": "error"}).to_json())
    report = store.ingest(path, use_ci_environment=False)
    run = store.run(report.ingested[0].run_id)
    assert (run.format, run.total, run.errors, run.flaky) == ("maestro", 3, 1, 1)
    (attempt,) = store.connection().execute("SELECT status, message FROM attempts").fetchall()
    assert attempt == ("failed", "first attempt failed")


def test_repeated_test_ids_in_one_run_are_all_kept(store: ResultStore) -> None:
    twice = TestRun(
        "junit",
        suites=[
            TestSuite("a", [TestResult("t::x", "x", Status.PASSED)]),
            TestSuite("b", [TestResult("t::x", "x", Status.FAILED)]),
        ],
    )
    store.ingest(twice)
    assert sorted(o.uid for o in store.results()) == ["t::x", "t::x [2]"]


def test_repeated_test_ids_across_streamed_batches_are_all_kept(
    store: ResultStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reading, "STREAM_THRESHOLD", 0)
    monkeypatch.setattr(store_module, "_BATCH", 3)  # several batches per run
    cases = "".join(f'<testcase classname="c" name="t{i % 4}"/>' for i in range(10))
    path = tmp_path / "repeats.xml"
    path.write_text(f'<testsuite name="c">{cases}</testsuite>')
    (ingested,) = store.ingest(path, use_ci_environment=False).ingested
    uids = sorted(o.uid for o in store.results(ingested.run_id))
    assert len(uids) == len(set(uids)) == 10 == store.run().total
    assert uids.count("c::t0") == 1 and "c::t0 [3]" in uids


def _long_junit(path: Path, cases: int, *, truncated: bool) -> None:
    with path.open("w") as out:
        out.write('<testsuites><testsuite name="big">')
        for i in range(cases):
            out.write(f'<testcase classname="big" name="t{i}" time="0.001"/>')
        if not truncated:
            out.write("</testsuite></testsuites>")


def test_a_file_broken_after_many_results_leaves_nothing_half_written(
    store: ResultStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reading, "STREAM_THRESHOLD", 0)  # stream even small files
    broken = tmp_path / "broken.xml"
    _long_junit(broken, 50_000, truncated=True)
    good = tmp_path / "good.xml"
    _long_junit(good, 30_000, truncated=False)
    report = store.ingest([broken, good], use_ci_environment=False)
    assert [Path(f.source).name for f in report.failed] == ["broken.xml"]
    conn = store.connection()
    assert conn.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 1
    assert conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 30_000
    # The tests interned by the rolled-back run are gone and not cached.
    assert conn.execute("SELECT COUNT(*) FROM tests").fetchone()[0] == 30_000


def test_texts_are_clipped_to_bounded_size(store: ResultStore) -> None:
    huge = "x" * 1_000_000
    store.ingest(make_run({"a": "failed"}, messages={"a": huge}))
    (message,) = store.connection().execute("SELECT message FROM result_details").fetchone()
    assert 60_000 < len(message) <= 64 * 1024
    assert message.endswith("[truncated by maestro-test-result-aggregator]")


def test_a_store_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not a database" * 100)
    from maestro_test_result_aggregator import StoreError

    with pytest.raises(StoreError, match="not a usable result store"):
        ResultStore(bogus)


def test_wal_and_busy_timeout_are_on(store: ResultStore) -> None:
    conn = store.connection()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 60_000
    assert isinstance(conn, sqlite3.Connection)


def test_any_iterable_of_sources_is_accepted(store: ResultStore) -> None:
    names = ("junitparser/jenkins.xml", "junitparser/pytest_error.xml")
    report = store.ingest((FIXTURES / name for name in names), use_ci_environment=False)
    assert report.new_runs == 2


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        (
            {"GITLAB_CI": "true", "CI_PROJECT_PATH": "g/shop", "CI_COMMIT_REF_NAME": "dev",
             "CI_COMMIT_SHA": "f00", "CI_PIPELINE_ID": "12", "CI_JOB_URL": "https://gl/j/1",
             "CI_PIPELINE_CREATED_AT": "2026-11-27T10:00:00Z"},
            ("g/shop", "dev", "f00", "12", "https://gl/j/1"),
        ),
        (
            {"JENKINS_URL": "https://ci", "JOB_NAME": "shop", "GIT_BRANCH": "origin/main",
             "GIT_COMMIT": "abc", "BUILD_NUMBER": "7", "BUILD_URL": "https://ci/7"},
            ("shop", "origin/main", "abc", "7", "https://ci/7"),
        ),
        (
            {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/r", "GITHUB_REF_NAME": "1/merge",
             "GITHUB_HEAD_REF": "feature", "GITHUB_SHA": "s", "GITHUB_RUN_ID": "5",
             "MAESTRO_RESULTS_PROJECT": "override"},
            ("override", "feature", "s", "5", "https://github.com/o/r/actions/runs/5"),
        ),
        ({"CI": "true"}, ("", "", "", "", "")),
    ],
)  # fmt: skip
def test_ci_services_are_recognised(environ: dict[str, str], expected: tuple[str, ...]) -> None:
    tags = RunTags.from_environment(environ)
    assert (tags.project, tags.branch, tags.commit, tags.build, tags.ci_url) == expected
    gitlab = "CI_PIPELINE_CREATED_AT" in environ
    assert (tags.started_at is not None) == gitlab
    if tags.started_at is not None:
        assert tags.started_at.isoformat() == "2026-11-27T10:00:00+00:00"


def test_stray_files_in_a_folder_are_skipped_but_named_ones_fail(
    store: ResultStore, tmp_path: Path
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    (folder / "package.json").write_text('{"name": "shop"}')
    shutil.copy(FIXTURES / "junitparser/jenkins.xml", folder)
    report = store.ingest(folder, use_ci_environment=False)
    assert report.ok and report.new_runs == 1
    assert [Path(s).name for s in report.skipped] == ["package.json"]
    named = store.ingest(folder / "package.json")
    assert [Path(f.source).name for f in named.failed] == ["package.json"]
    assert "supported formats" in named.failed[0].reason


def test_worker_processes_give_the_same_history(tmp_path: Path) -> None:
    reports = []
    for workers in (1, 2):
        with ResultStore(tmp_path / f"w{workers}.db") as store:
            report = store.ingest(FIXTURES, workers=workers, use_ci_environment=False)
            again = store.ingest(FIXTURES, workers=workers, use_ci_environment=False)
            assert again.new_runs == 0 and again.duplicates == report.new_runs
            rows = store.connection().execute(
                "SELECT source, total, passed, failed, errors, skipped, flaky FROM runs ORDER BY id"
            )
            reports.append((report.to_dict(), rows.fetchall()))
    assert reports[0] == reports[1]
    assert len(reports[0][1]) == len(EXPECTED)


def test_big_files_are_streamed_by_the_writer_even_with_workers(
    store: ResultStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_reading, "STREAM_THRESHOLD", 1000)
    small = FIXTURES / "junitparser/jenkins.xml"
    big = FIXTURES / "test-reporter/jest-test-results.xml"
    report = store.ingest([small, big], workers=2, use_ci_environment=False)
    assert [i.results for i in report.ingested] == [3, 4239]
    assert store.run().started_at  # streamed files have no run start: ingest time


def test_a_reader_crash_is_reported_and_does_not_stop_the_others(
    store: ResultStore, tmp_path: Path
) -> None:
    from maestro_test_adapters import readers

    def crash(path: Path) -> TestRun:
        raise TypeError("reader bug")

    readers.register_format(
        readers.ResultFormat("crashy", "test only", lambda head: head.startswith("CRASH"), crash)
    )
    try:
        bad = tmp_path / "bad.json"
        bad.write_text("CRASH")
        report = store.ingest([bad, FIXTURES / "junitparser/jenkins.xml"])
    finally:
        readers._unregister("crashy")
    assert [(Path(f.source).name, f.reason) for f in report.failed] == [
        ("bad.json", "unexpected TypeError while reading: reader bug")
    ]
    assert report.new_runs == 1
