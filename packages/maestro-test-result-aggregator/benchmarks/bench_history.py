"""Benchmark: a generated history of RUNS x TESTS JUnit XML results.

Measures ingest rate (parse + store), the flaky and trend queries over the
whole history, the HTML report (time and size) and peak memory, and, side by
side on the same files, junitparser parsing them without storing anything.
Prints a Markdown table; timings of repeated queries are medians.

Run from the repository root::

    uv run python packages/maestro-test-result-aggregator/benchmarks/bench_history.py
    uv run python packages/maestro-test-result-aggregator/benchmarks/bench_history.py --runs 100
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from maestro_test_result_aggregator import ResultStore, RunTags

T = TypeVar("T")
TARGET_INGEST = 100_000  # results/s
TARGET_FLAKY = 2.0  # s
TARGET_HTML_TIME = 5.0  # s
TARGET_HTML_SIZE = 5 * 1024 * 1024  # bytes


def generate(folder: Path, runs: int, tests: int, seed: int = 7) -> list[Path]:
    """Write ``runs`` JUnit files of ``tests`` cases: some fail, some are flaky."""
    rng = random.Random(seed)
    flaky = set(rng.sample(range(tests), max(tests // 50, 1)))
    broken_from = {t: rng.randrange(runs) for t in rng.sample(range(tests), max(tests // 200, 1))}
    base = [rng.uniform(0.001, 0.5) for _ in range(tests)]
    start = datetime(2026, 1, 1, tzinfo=UTC)
    paths = []
    for run in range(runs):
        stamp = (start + timedelta(minutes=30 * run)).isoformat()
        parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">']
        for suite in range(0, tests, 100):
            parts.append(f'<testsuite name="pkg.module{suite // 100}" timestamp="{stamp}">')
            for t in range(suite, min(suite + 100, tests)):
                duration = base[t] * rng.uniform(0.9, 1.1)
                head = (
                    f'<testcase classname="pkg.module{suite // 100}.TestThing{t % 7}" '
                    f'name="test_case_{t}" time="{duration:.4f}"'
                )
                if t in broken_from and run >= broken_from[t]:
                    parts.append(
                        f'{head}><failure message="AssertionError: expected {t} got {run}" '
                        f'type="AssertionError">Traceback (most recent call last):\n'
                        f'  File "test_{t}.py", line 12\nAssertionError</failure></testcase>'
                    )
                elif t in flaky and rng.random() < 0.2:
                    parts.append(
                        f'{head}><flakyFailure message="Timeout after {rng.randint(1, 900)} ms" '
                        'type="TimeoutError"/></testcase>'
                    )
                elif t % 97 == 0:
                    parts.append(f'{head}><skipped message="not on this platform"/></testcase>')
                else:
                    parts.append(f"{head}/>")
            parts.append("</testsuite>")
        parts.append("</testsuites>\n")
        path = folder / f"run-{run:05d}.xml"
        path.write_text("".join(parts), encoding="utf-8")
        paths.append(path)
    return paths


def timed(function: Callable[[], T], repeat: int = 5) -> tuple[float, T]:
    """Median wall time of ``repeat`` calls, and the last result."""
    began = time.perf_counter()
    result = function()
    times = [time.perf_counter() - began]
    for _ in range(repeat - 1):
        began = time.perf_counter()
        result = function()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


def junitparser_rate(paths: list[Path]) -> float | None:
    try:
        from junitparser import JUnitXml
    except ImportError:  # pragma: no cover - peer not installed
        return None
    began = time.perf_counter()
    cases = 0
    for path in paths:
        for suite in JUnitXml.fromfile(str(path)):
            for case in suite:
                cases += 1
                _ = case.result, case.time, case.name
    return cases / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1000)
    parser.add_argument("--tests", type=int, default=1000)
    parser.add_argument("--peer-files", type=int, default=50, help="files junitparser parses")
    parser.add_argument("--repeat", type=int, default=3, help="ingests into new stores")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        folder = Path(tmp)
        began = time.perf_counter()
        paths = generate(folder, args.runs, args.tests)
        generated = time.perf_counter() - began
        size = sum(p.stat().st_size for p in paths)
        print(
            f"generated {len(paths)} files, {size / 1e6:.0f} MB, in {generated:.1f}s",
            file=sys.stderr,
        )
        results = args.runs * args.tests
        tags = RunTags(project="bench", branch="main", commit="")
        load_before = os.getloadavg()[0]
        walls, cpus, parallel = [], [], []
        for attempt in range(args.repeat):  # a new store each time; the last one is queried
            with ResultStore(folder / f"workers-{attempt}.db") as store:
                began = time.perf_counter()
                report = store.ingest(paths, tags=tags, use_ci_environment=False, workers=2)
                parallel.append(time.perf_counter() - began)
                assert report.ok and report.new_results == results, report.failed[:3]
            db = folder / f"history-{attempt}.db"
            with ResultStore(db) as store:
                began, began_cpu = time.perf_counter(), time.process_time()
                report = store.ingest(paths, tags=tags, use_ci_environment=False)
                walls.append(time.perf_counter() - began)
                cpus.append(time.process_time() - began_cpu)
                assert report.ok and report.new_results == results, report.failed[:3]
        load_after = os.getloadavg()[0]
        ingest_s, ingest_cpu_s = statistics.median(walls), statistics.median(cpus)
        parallel_s = statistics.median(parallel)
        ingest_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with ResultStore(db) as store:
            flaky_s, flaky = timed(lambda: store.flaky(last=args.runs))
            trend_s, _ = timed(lambda: store.trend(last=args.runs))
            html_s, html = timed(lambda: store.report("html", last=args.runs), repeat=3)
            again_s, _ = timed(lambda: store.ingest(paths[:100], use_ci_environment=False))
        db_size = db.stat().st_size
        peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peer = statistics.median(
            junitparser_rate(paths[: args.peer_files]) or 0.0 for _ in range(args.repeat)
        )

    assert isinstance(html, str) and isinstance(flaky, list)
    html_bytes = len(html.encode("utf-8"))
    rate = results / ingest_s
    cpu_rate = results / ingest_cpu_s
    rows = [
        ("ingest JUnit XML (parse + store), wall clock", f"{rate:,.0f} results/s",
         f">= {TARGET_INGEST:,}", rate >= TARGET_INGEST),
        ("ingest JUnit XML, per CPU second of the process", f"{cpu_rate:,.0f} results/s",
         f">= {TARGET_INGEST:,}", cpu_rate >= TARGET_INGEST),
        ("ingest JUnit XML with workers=2, wall clock", f"{results / parallel_s:,.0f} results/s",
         f">= {TARGET_INGEST:,}", results / parallel_s >= TARGET_INGEST),
        ("junitparser, parse only (peer, same files)",
         f"{peer:,.0f} results/s" if peer else "not installed", "-", None),
        (f"re-ingest {min(len(paths), 100)} stored files (all duplicates)",
         f"{again_s * 1000:.0f} ms", "-", None),
        (f"flaky over {args.runs} runs ({len(flaky)} found)", f"{flaky_s:.2f} s",
         f"< {TARGET_FLAKY:g} s", flaky_s < TARGET_FLAKY),
        (f"trend over {args.runs} runs", f"{trend_s * 1000:.1f} ms", "-", None),
        ("HTML report, time", f"{html_s:.2f} s", f"< {TARGET_HTML_TIME:g} s",
         html_s < TARGET_HTML_TIME),
        ("HTML report, size", f"{html_bytes / 1024:,.0f} KiB", "< 5 MiB",
         html_bytes < TARGET_HTML_SIZE),
        ("store size", f"{db_size / 1e6:,.0f} MB", "-", None),
        ("peak memory (RSS) after ingest", f"{ingest_rss:,.0f} MiB", "-", None),
        ("peak memory (RSS) overall", f"{peak_rss:,.0f} MiB", "-", None),
    ]  # fmt: skip
    print(
        f"History of {args.runs:,} runs x {args.tests:,} tests ({results:,} results, "
        f"{size / 1e6:.0f} MB of JUnit XML); Python {platform.python_version()}, "
        f"{platform.machine()}, {os.cpu_count()} CPUs; load average {load_before:.1f} before "
        f"and {load_after:.1f} after the ingests; ingest rates are medians of {args.repeat}\n"
    )
    print("| measure | result | target | met |")
    print("|---|---:|---:|:---:|")
    for name, value, target, met in rows:
        mark = "" if met is None else ("yes" if met else "**no**")
        print(f"| {name} | {value} | {target} | {mark} |")


if __name__ == "__main__":
    main()
