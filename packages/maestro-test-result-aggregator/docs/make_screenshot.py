"""Build a demo history, render its HTML report and screenshot it with headless Chromium.

Regenerates ``report.png`` next to this file (used by ``howto.md``)::

    uv run python packages/maestro-test-result-aggregator/docs/make_screenshot.py
"""

from __future__ import annotations

import random
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite

from maestro_test_result_aggregator import ResultStore, RunTags

HERE = Path(__file__).parent
CHROMIUM = "/usr/bin/chromium"
SUITES = {
    "tests/test_cart.py": ["test_add_item", "test_remove_item", "test_totals", "test_coupon"],
    "tests/test_checkout.py": ["test_pay_by_card", "test_pay_by_invoice", "test_refund"],
    "tests/test_search.py": ["test_query", "test_facets", "test_typo_tolerance"],
    "tests/test_login.py": [
        "test_password",
        "test_sso",
        "test_lockout",
        "<script>alert(1)</script>",
    ],
}
FLAKY = {"test_sso": 0.25, "test_facets": 0.15}


def demo_history(store: ResultStore, builds: int = 40) -> None:
    rng = random.Random(4)
    start = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    base = {name: rng.uniform(0.2, 1.5) for names in SUITES.values() for name in names}
    for build in range(1, builds + 1):
        suites = []
        for file, names in SUITES.items():
            results = []
            for name in names:
                slow = 3.0 if name == "test_query" and build > 36 else 1.0
                duration = base[name] * rng.uniform(0.95, 1.05) * slow
                status, attempts, message = Status.PASSED, (), None
                if name in FLAKY and rng.random() < FLAKY[name]:
                    attempts = (
                        Attempt(Status.FAILED, duration, "TimeoutError: page took 30001 ms"),
                    )
                if name == "test_refund" and build >= 34:
                    status, message = Status.FAILED, "AssertionError: refund 19.99 != 20.00"
                if name.startswith("<") and build >= 38:  # names are shown escaped
                    status, message = Status.FAILED, "<b>not bold</b> & not markup"
                if build == 22:  # the database container did not start
                    status, message = Status.ERROR, "ConnectionRefusedError: [Errno 111] db:5432"
                results.append(
                    TestResult(f"{file}::{name}", name, status, duration, file=file,
                               message=message, attempts=attempts)
                )  # fmt: skip
            suites.append(TestSuite(file, results, file=file))
        duration = sum(r.duration for s in suites for r in s.tests)
        started = start + timedelta(hours=6 * build)
        run = TestRun("pytest", started_at=started, duration=duration, suites=suites)
        commit = f"{build // 2:07x}c0ffee"  # two builds per commit: re-runs of one commit
        store.ingest(run, tags=RunTags(project="shop", branch="main", commit=commit,
                                       build=str(1000 + build), environment="py3.11"),
                     use_ci_environment=False)  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        html = Path(tmp) / "report.html"
        with ResultStore(Path(tmp) / "demo.db") as store:
            demo_history(store)
            store.report("html", output=html)
        subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
             "--disable-background-networking", "--hide-scrollbars", "--window-size=1100,2300",
             f"--screenshot={HERE / 'report.png'}", html.as_uri()],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"wrote {HERE / 'report.png'}")


if __name__ == "__main__":
    main()
