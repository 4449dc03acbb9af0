"""Adapter overhead: each framework's bare run against the same suite run through its adapter.

The suites are the passing tests of the fixture suites (``tests/fixtures``).

Run from the repository root (the npm fixture project needs ``npm ci`` first):

    uv run python packages/maestro-test-adapters/benchmarks/bench_adapters.py [--repeat 7]

For every framework the bare command (what a user would type, output
captured) and ``adapter.run(...)`` (the same run plus the report flags,
reading the report and building the normalised result) alternate, so noise on
a shared machine hits both alike. The table gives medians and the overhead
of the adapter; the target is under 5 %. A busy machine makes the two
medians noisy, so the adapter's own work (its wall time minus that of the
framework process it started: spawning, reading and normalising the report,
reaping the process tree) is shown apart; the cost of the report options
inside the framework (``--json``, the pytest plugin) is in the first columns.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from maestro_test_adapters.adapters import (
    Adapter,
    CucumberAdapter,
    JestAdapter,
    PlaywrightAdapter,
    PytestAdapter,
    SeleniumAdapter,
    _base,
    _process,
)

TESTS = Path(__file__).resolve().parent.parent / "tests" / "fixtures"
PYTHON = TESTS / "python"
JS = TESTS / "js"
BIN = JS / "node_modules" / ".bin"
PLUGIN = ["-p", "maestro_test_adapters.pytest_plugin"]
PAGE = "<!doctype html><title>Maestro fixture</title><h1>Hello</h1>"


@dataclass(frozen=True)
class Case:
    """One suite: the bare command and the adapter call that runs the same thing."""

    name: str
    workdir: Path
    bare: list[str]
    adapter: Adapter
    target: str
    extra_args: Sequence[str] = ()


def cases(artifacts: str) -> list[Case]:
    python = sys.executable
    passing = ["-k", "test_passes and not second"]
    title = ["-k", "title", f"--maestro-artifacts={artifacts}"]
    return [
        Case(
            "pytest",
            PYTHON,
            [python, "-m", "pytest", "check_mixed.py", *passing],
            PytestAdapter(),
            "check_mixed.py",
            passing,
        ),
        Case(
            "behave",
            PYTHON,
            [python, "-m", "behave", "--name", "^Adding$", "features"],
            CucumberAdapter(runner="behave"),
            "features",
            ["--name", "^Adding$"],
        ),
        Case(
            "jest",
            JS,
            [str(BIN / "jest"), "-t", "adds", "jest/mixed"],
            JestAdapter(),
            "jest/mixed",
            ["-t", "adds"],
        ),
        Case(
            "cucumber-js",
            JS,
            [str(BIN / "cucumber-js"), "--name", "^Adding$", "cucumber/features/mixed.feature"],
            CucumberAdapter(),
            "cucumber/features/mixed.feature",
            ["--name", "^Adding$"],
        ),
        Case(
            "playwright test",
            JS,
            [str(BIN / "playwright"), "test", "playwright/mixed.spec.js", "-g", "has the title"],
            PlaywrightAdapter(),
            "playwright/mixed.spec.js",
            ["-g", "has the title"],
        ),
        Case(
            "selenium (pytest)",
            PYTHON,
            [python, "-m", "pytest", *PLUGIN, "check_selenium_pages.py", *title],
            SeleniumAdapter(),
            "check_selenium_pages.py",
            title,
        ),
        Case(
            "playwright (pytest)",
            PYTHON,
            [python, "-m", "pytest", *PLUGIN, "check_playwright_pages.py", *title],
            PlaywrightAdapter(runner="pytest"),
            "check_playwright_pages.py",
            title,
        ),
    ]


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def serve_page(root: Path) -> str:
    (root / "index.html").write_text(PAGE, encoding="utf-8")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a browser closing its connection early is not news

    server = QuietServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}/"


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="runs per side (default 7)")
    parser.add_argument(
        "--only", action="append", metavar="SUITE", help="measure only this suite (repeatable)"
    )
    args = parser.parse_args()
    if not BIN.is_dir():
        sys.exit(f"run `npm ci --prefix {JS}` first")

    with tempfile.TemporaryDirectory() as site, tempfile.TemporaryDirectory() as scratch:
        url = serve_page(Path(site))
        # Playwright Test empties its output folder: never the one that is served.
        env = {"MAESTRO_FIXTURE_URL": url, "MAESTRO_FIXTURE_OUTPUT_DIR": scratch}
        print(
            f"Machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()},"
            f" Python {platform.python_version()}; {args.repeat} runs per side, medians.\n"
        )
        print(
            "| suite | bare framework (s) | through the adapter (s) | overhead"
            " | adapter's own work (ms) | own work / bare run |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for case in cases(scratch):
            if args.only and case.name not in args.only:
                continue
            m = measure(case, env, args.repeat)
            b, a = statistics.median(m.bare), statistics.median(m.adapted)
            own = statistics.median(m.own)
            print(
                f"| {case.name} | {b:.3f} | {a:.3f} | {100 * (a - b) / b:+.1f} %"
                f" | {1000 * own:.1f} | {100 * own / b:.1f} % |"
            )


#: Wall time of each framework child process started by an adapter, in order.
CHILD_SECONDS: list[float] = []


def _timing_run_process(*args: Any, **kwargs: Any) -> _process.ProcessOutcome:
    outcome = _run_process(*args, **kwargs)
    CHILD_SECONDS.append(outcome.duration)
    return outcome


# Record how long the framework process itself took inside each adapter run,
# so the adapter's own work (start, report reading, normalising) is measured
# apart from the framework's noise.
_run_process = _process.run_process
_base.run_process = _timing_run_process  # type: ignore[attr-defined]


@dataclass
class Measurement:
    bare: list[float]
    adapted: list[float]
    own: list[float]  # adapter time outside the framework process


def measure(case: Case, env: dict[str, str], repeat: int) -> Measurement:
    """Time ``repeat`` bare runs and ``repeat`` adapter runs, alternating which goes first."""
    full_env = {**os.environ, **env}
    failures: list[str] = []

    def run_bare() -> None:
        subprocess.run(case.bare, cwd=case.workdir, env=full_env, capture_output=True)

    def run_adapter() -> None:
        run = case.adapter.run(
            case.target, workdir=case.workdir, env=env, extra_args=case.extra_args
        )
        if not run.totals.ok:  # every selected test passes: anything else is a broken setup
            failures.extend(
                r.message or r.test_id for r in run.iter_results() if r.status.is_failure
            )

    run_bare()  # warm the OS caches once for both sides
    result = Measurement([], [], [])
    for i in range(repeat):
        if i % 2:
            result.bare.append(timed(run_bare))
        result.adapted.append(timed(run_adapter))
        result.own.append(result.adapted[-1] - CHILD_SECONDS[-1])
        if not i % 2:
            result.bare.append(timed(run_bare))
    if failures:
        print(f"warning: {case.name} failed: {failures[0]}", file=sys.stderr)
    return result


if __name__ == "__main__":
    main()
