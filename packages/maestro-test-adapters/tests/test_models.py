"""The result model: statuses, totals, flakiness and the lossless JSON round trip."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_test_adapters import (
    SCHEMA_ID,
    Attachment,
    Attempt,
    InvalidRunError,
    Status,
    TestResult,
    TestRun,
    TestSuite,
    Totals,
    json_schema,
)


def full_run() -> TestRun:
    """A run using every field of the model."""
    flaky = TestResult(
        "tests/test_a.py::test_flaky",
        "test_flaky",
        Status.PASSED,
        0.25,
        classname="tests.test_a",
        file="tests/test_a.py",
        line=12,
        stdout="out 🎉",
        stderr="err",
        attempts=(
            Attempt(
                Status.FAILED,
                0.5,
                "AssertionError",
                "Traceback...",
                "first out",
                "first err",
                (Attachment("shots/1.png", "image/png", "first try"),),
            ),
        ),
        attachments=(
            Attachment("trace.zip", "application/zip", "trace"),
            Attachment("", "text/plain", "log", "inline text"),
        ),
        properties=(("owner", "qa"), ("owner", "dev")),
    )
    return TestRun(
        "pytest",
        started_at=datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        duration=3.5,
        environment={"python": "3.11.7", "ci": "yes"},
        suites=[
            TestSuite(
                "tests/test_a.py",
                [
                    flaky,
                    TestResult("a::xf", "xf", Status.XFAILED, message="known bug"),
                    TestResult("a::xp", "xp", Status.XPASSED),
                    TestResult("a::e", "e", Status.ERROR, traceback="boom"),
                ],
                file="tests/test_a.py",
                duration=1.0,
                started_at=datetime(2026, 11, 27, tzinfo=UTC),
                properties=(("hostname", "ci-1"),),
                stdout="suite out",
                stderr="suite err",
            ),
            TestSuite("empty"),
        ],
    )


def test_totals_count_final_statuses_and_flaky_tests() -> None:
    totals = full_run().totals
    assert totals == Totals(total=4, passed=1, error=1, xfailed=1, xpassed=1, flaky=1)
    assert not totals.ok
    assert Totals(total=2, passed=1, xfailed=1).ok


def test_totals_add_up() -> None:
    assert Totals(1, 1) + Totals(2, 0, 1, 1, flaky=0) == Totals(3, 1, 1, 1)


@pytest.mark.parametrize(
    ("status", "attempt_statuses", "flaky"),
    [
        (Status.PASSED, [Status.FAILED], True),
        (Status.PASSED, [Status.ERROR, Status.FAILED], True),
        (Status.PASSED, [], False),
        (Status.PASSED, [Status.SKIPPED], False),
        (Status.FAILED, [Status.FAILED], False),
    ],
)
def test_flaky_means_failed_then_passed(
    status: Status, attempt_statuses: list[Status], flaky: bool
) -> None:
    result = TestResult("t", "t", status, attempts=tuple(Attempt(s) for s in attempt_statuses))
    assert result.flaky is flaky


def test_status_is_a_string_enum() -> None:
    assert Status("xpassed") is Status.XPASSED
    assert json.dumps(Status.FAILED) == '"failed"'
    assert [s for s in Status if s.is_failure] == [Status.FAILED, Status.ERROR]


def test_json_round_trip_is_lossless() -> None:
    run = full_run()
    again = TestRun.from_json(run.to_json(indent=2))
    assert again == run
    assert again.started_at is not None and again.started_at.utcoffset() == timedelta(hours=2)
    assert again.suites[0].tests[0].properties == (("owner", "qa"), ("owner", "dev"))


def test_json_follows_the_shipped_schema() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    document = json.loads(full_run().to_json())
    jsonschema.Draft202012Validator(schema).validate(document)
    assert document["schema"] == SCHEMA_ID
    assert document["totals"]["flaky"] == 1


def test_schema_rejects_what_the_reader_rejects() -> None:
    document = json.loads(full_run().to_json())
    document["suites"][0]["tests"][0]["status"] = "green"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, json_schema())
    with pytest.raises(InvalidRunError, match=r"suites\[0\]\.tests\[0\]\.status: 'green'"):
        TestRun.from_dict(document)


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 27, 10, 0),  # JUnit timestamps often carry no offset
        datetime(2026, 11, 27, 10, 0, 5, 123456, tzinfo=UTC),
        datetime(2026, 11, 27, 10, 0, tzinfo=timezone(timedelta(hours=5, minutes=30))),
    ],
)
def test_every_timestamp_written_follows_the_schema(moment: datetime) -> None:
    run = TestRun("x", started_at=moment, suites=[TestSuite("s", started_at=moment)])
    jsonschema.validate(json.loads(run.to_json()), json_schema())


def test_the_schema_refuses_a_timestamp_the_reader_refuses() -> None:
    # "format": "date-time" is only an annotation: it let any string through,
    # and claimed RFC 3339 (an offset) that naive timestamps do not have.
    document = json.loads(full_run().to_json())
    document["started_at"] = "yesterday"
    with pytest.raises(jsonschema.ValidationError, match="does not match"):
        jsonschema.validate(document, json_schema())
    with pytest.raises(InvalidRunError, match="not an ISO 8601 date-time"):
        TestRun.from_dict(document)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.pop("schema"), "schema: expected 'maestro-test-run/1'"),
        (lambda d: d.update(framework=None), "framework: expected a string"),
        (
            lambda d: d.update(started_at="yesterday"),
            "started_at: 'yesterday' is not an ISO 8601 date-time",
        ),
        (lambda d: d.update(suites={}), "suites: expected an array"),
        (lambda d: d["suites"][0]["tests"][0].update(line=-1), "line: expected a non-negative"),
        (lambda d: d["suites"][0]["tests"][0].update(duration="1s"), "duration: expected a number"),
        (
            lambda d: d["suites"][0]["tests"][0].update(duration=-0.5),
            "duration: expected a finite number of 0 or more, got -0.5",
        ),
        (lambda d: d.update(duration=float("nan")), "duration: expected a finite number"),
        (
            lambda d: d["suites"][0]["tests"][0].update(properties=[["a"]]),
            r"properties\[0\]: expected a \[name, value\] pair",
        ),
        (
            lambda d: d["suites"][0]["tests"][0]["attempts"][0].update(status=None),
            r"attempts\[0\]\.status: None is not one of",
        ),
    ],
)
def test_invalid_documents_name_the_offending_key(change: object, message: str) -> None:
    document = json.loads(full_run().to_json())
    change(document)  # type: ignore[operator]
    with pytest.raises(InvalidRunError, match=message):
        TestRun.from_dict(document)


def test_not_json_is_an_invalid_run() -> None:
    with pytest.raises(InvalidRunError, match="not valid JSON"):
        TestRun.from_json("{")


def test_totals_in_a_document_are_recomputed_not_trusted() -> None:
    document = json.loads(full_run().to_json())
    document["totals"]["passed"] = 1000
    assert TestRun.from_dict(document).totals.passed == 1


texts = st.none() | st.text(max_size=20)
attachments = st.builds(
    Attachment, st.text(max_size=10), st.sampled_from(["image/png", "text/plain"]), texts, texts
)
durations = st.floats(min_value=0, max_value=1e6, allow_nan=False)
results = st.builds(
    TestResult,
    st.text(max_size=20),
    st.text(max_size=20),
    st.sampled_from(Status),
    durations,
    texts,
    texts,
    st.none() | st.integers(min_value=0, max_value=10**6),
    texts,
    texts,
    texts,
    texts,
    st.lists(st.builds(Attempt, st.sampled_from(Status), durations, texts), max_size=2).map(tuple),
    st.lists(attachments, max_size=2).map(tuple),
    st.lists(st.tuples(st.text(max_size=5), st.text(max_size=5)), max_size=3).map(tuple),
)
runs = st.builds(
    TestRun,
    st.text(max_size=10),
    st.none() | st.datetimes(timezones=st.none() | st.just(UTC)),
    durations,
    st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
    st.lists(st.builds(TestSuite, st.text(max_size=10), st.lists(results, max_size=3)), max_size=3),
)


@settings(max_examples=150, deadline=None)
@given(runs)
def test_any_run_survives_the_json_round_trip(run: TestRun) -> None:
    assert TestRun.from_json(run.to_json()) == run
