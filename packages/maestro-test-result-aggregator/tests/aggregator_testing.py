"""Test helpers of maestro-test-result-aggregator: hand-built runs and histories."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite

from maestro_test_result_aggregator import ResultStore, RunTags

#: The real-world result files kept with maestro-test-adapters, which owns the readers;
#: MANIFEST.md there keeps their attribution.
FIXTURES = (
    Path(__file__).resolve().parents[2]
    / "maestro-test-adapters"
    / "tests"
    / "fixtures"
    / "real-world"
)
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def make_run(
    outcomes: Mapping[str, str],
    *,
    durations: Mapping[str, float] | None = None,
    messages: Mapping[str, str] | None = None,
    started: int = 0,
) -> TestRun:
    """Build a run from ``{"test": "passed" | "failed" | "error" | "skipped" | "flaky"}``.

    ``flaky`` means: failed on the first attempt, passed on the retry.
    """
    results = []
    for name, outcome in outcomes.items():
        attempts: list[Attempt] = []
        status = outcome
        if outcome == "flaky":
            status = "passed"
            attempts = [Attempt(Status.FAILED, 0.1, message="first attempt failed")]
        message = (messages or {}).get(name)
        if message is None and status in ("failed", "error"):
            message = f"{name} broke"
        results.append(
            TestResult(
                f"suite::{name}",
                name,
                Status(status),
                (durations or {}).get(name, 1.0),
                classname="suite",
                message=message,
                attempts=attempts,
            )
        )
    return TestRun(
        "pytest",
        started_at=T0 + timedelta(hours=started),
        duration=float(len(results)),
        suites=[TestSuite("suite", results)],
    )


def add(
    store: ResultStore,
    outcomes: Mapping[str, str],
    *,
    build: int,
    commit: str = "",
    branch: str = "main",
    durations: Mapping[str, float] | None = None,
    messages: Mapping[str, str] | None = None,
) -> int:
    """Ingest a hand-built run as build ``build`` (started ``build`` hours after T0)."""
    report = store.ingest(
        make_run(outcomes, durations=durations, messages=messages, started=build),
        tags=RunTags(project="shop", branch=branch, commit=commit or f"c{build}", build=str(build)),
        use_ci_environment=False,
    )
    assert report.ok, report.failed
    return report.ingested[0].run_id
