"""A small history with known answers, for the docstring examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite

from maestro_test_result_aggregator.store import ResultStore
from maestro_test_result_aggregator.tags import RunTags


def demo_store() -> ResultStore:
    """Return an in-memory store holding builds 1 to 6 of project ``shop``.

    ``test_login`` failed then passed on retry in builds 3 and 5;
    ``test_refund`` fails from build 5 on; ``test_search`` is four times
    slower in build 6; ``test_cart`` always passes.
    """
    store = ResultStore(":memory:")
    start = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for build in range(1, 7):
        retried = (Attempt(Status.FAILED, 0.4, "TimeoutError: 30000 ms"),)
        tests = [
            TestResult("shop::test_cart", "test_cart", Status.PASSED, 0.2),
            TestResult(
                "shop::test_login",
                "test_login",
                Status.PASSED,
                0.4,
                attempts=retried if build in (3, 5) else (),
            ),
            TestResult(
                "shop::test_refund",
                "test_refund",
                Status.FAILED if build >= 5 else Status.PASSED,
                0.3,
                message="AssertionError: 19.99 != 20.00" if build >= 5 else None,
            ),
            TestResult(
                "shop::test_search", "test_search", Status.PASSED, 2.0 if build == 6 else 0.5
            ),
        ]
        run = TestRun(
            "pytest",
            started_at=start + timedelta(hours=build),
            duration=sum(t.duration for t in tests),
            suites=[TestSuite("shop", tests)],
        )
        tags = RunTags(project="shop", branch="main", commit=f"c{build}", build=str(build))
        store.ingest(run, tags=tags, use_ci_environment=False)
    return store
