"""Parsing benchmark: maestro-test-adapters against junitparser, side by side.

Inputs: the 4,239-case ``jest-test-results.xml`` of the shared fixtures and a
generated JUnit XML file of about 100 MB (Surefire-like: one suite per class,
2% failures with stack traces and captured output). Each measurement runs in
a fresh Python process so its peak resident memory is its own; the table
reports the median time of the runs, records (test cases) per second and the
process's peak RSS (the interpreter with the library imported is the
"baseline" row). Times are CPU seconds of the measuring process
(``time.process_time``): parsing a cached file is CPU-bound, so on an idle
machine they equal wall-clock time, and on a shared, oversubscribed one they
leave out the time spent waiting for a CPU, which otherwise varies two- to
threefold between runs.

Contenders:

* ``maestro read_results``: builds the whole :class:`TestRun` in memory.
* ``maestro iter_results``: streams ``(suite, result)`` pairs, bounded memory.
* ``junitparser``: ``JUnitXml.fromfile`` and a walk over every case reading
  name, classname, time and result, the same facts the model holds.
* ``expat floor``: not a reader, the reference point. Expat with Python
  handlers that only count ``<testcase>`` elements: what any reader driven by
  expat callbacks pays before doing any work, hence the ceiling of its speed.
* ``ElementTree parse``: not a reader either. The C-accelerated
  ``xml.etree.ElementTree.parse`` building the tree junitparser walks, and a
  count of its ``<testcase>`` elements, also in C: the stdlib's other way in.

Run: ``uv run python packages/maestro-test-adapters/benchmarks/bench_parse.py``
(``--size-mb 10 --runs 1`` for a quick look).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

JEST_FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "tests"
    / "fixtures"
    / "real-world"
    / "test-reporter"
    / "jest-test-results.xml"
)

# Each contender parses the file once and prints its count, seconds and peak RSS.
WORKER = textwrap.dedent(
    """
    import json, resource, sys, time
    from pathlib import Path
    from xml.etree import ElementTree
    from xml.parsers.expat import ParserCreate

    # Imported before timing: the table compares parsing, not import time.
    import junitparser
    from maestro_test_adapters import iter_results, read_results

    contender, path, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])

    def maestro_read():
        run = read_results(path, format="junit")
        return sum(len(suite.tests) for suite in run.suites)

    def maestro_stream():
        count = 0
        for _suite, _result in iter_results(path, format="junit"):
            count += 1
        return count

    def junitparser_walk():
        xml = junitparser.JUnitXml.fromfile(str(path))
        suites = [xml] if isinstance(xml, junitparser.TestSuite) else xml
        count = 0
        for suite in suites:
            for case in suite:
                count += 1
                case.name, case.classname, case.time
                for outcome in case.result:
                    outcome.message
        return count

    def expat_floor():
        parser = ParserCreate()
        parser.buffer_text = True
        count = 0

        def start(tag, attrib):
            nonlocal count
            if tag == "testcase":
                count += 1

        parser.StartElementHandler = start
        parser.EndElementHandler = lambda tag: None
        with path.open("rb") as stream:
            while chunk := stream.read(1 << 16):
                parser.Parse(chunk, False)
        parser.Parse(b"", True)
        return count

    def elementtree_parse():
        return sum(1 for _ in ElementTree.parse(path).iter("testcase"))

    def baseline():
        return 0

    work = {
        "maestro read_results": maestro_read,
        "maestro iter_results": maestro_stream,
        "junitparser": junitparser_walk,
        "expat floor": expat_floor,
        "ElementTree parse": elementtree_parse,
        "baseline": baseline,
    }[contender]
    times = []
    for _ in range(repeat):
        start = time.process_time()
        count = work()
        times.append(time.process_time() - start)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"count": count, "times": times, "peak_mib": peak_kib / 1024}))
    """
)

CONTENDERS = (
    "maestro read_results",
    "maestro iter_results",
    "junitparser",
    "expat floor",
    "ElementTree parse",
)


def generate(path: Path, size_mb: int) -> int:
    """Write a Surefire-like JUnit XML file of about ``size_mb`` MB; return its case count."""
    target = size_mb * 1_000_000
    cases = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="generated">\n')
        suite = 0
        while out.tell() < target:
            name = f"com.example.service.module{suite % 97}.Service{suite}Test"
            out.write(
                f'  <testsuite name="{name}" tests="40" failures="1" errors="0" skipped="1"'
                f' time="2.5" timestamp="2026-11-27T10:00:00">\n'
            )
            for case in range(40):
                head = f'    <testcase name="shouldHandleCase{case}_withInput" classname="{name}"'
                if case == 7:
                    frame = f"\tat {name}.shouldHandleCase{case}_withInput"
                    trace = "".join(f"{frame}({name[-20:]}.java:{40 + i})\n" for i in range(12))
                    out.write(
                        f'{head} time="0.153">\n      <failure message="expected: &lt;200&gt; but'
                        f' was: &lt;500&gt;" type="org.opentest4j.AssertionFailedError">'
                        f"org.opentest4j.AssertionFailedError: expected: &lt;200&gt;\n{trace}"
                        "</failure>\n      <system-out>request id 42\nresponse 500\n</system-out>\n"
                        "    </testcase>\n"
                    )
                elif case == 13:
                    out.write(f'{head} time="0"><skipped message="disabled"/></testcase>\n')
                else:
                    out.write(f'{head} time="0.0{case % 10}1"/>\n')
                cases += 1
            out.write("  </testsuite>\n")
            suite += 1
        out.write("</testsuites>\n")
    return cases


def measure(contender: str, path: Path, repeat: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", WORKER, contender, str(path), str(repeat)],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, float] = json.loads(done.stdout)
    return result


def bench(label: str, path: Path, runs: int, repeat: int) -> list[list[str]]:
    # Round-robin: each run measures every contender once, so a noisy
    # neighbour on a shared machine slows them alike rather than one of them.
    times: dict[str, list[float]] = {contender: [] for contender in CONTENDERS}
    peaks: dict[str, float] = dict.fromkeys(CONTENDERS, 0.0)
    counts: dict[str, int] = dict.fromkeys(CONTENDERS, 0)
    for _ in range(runs):
        for contender in CONTENDERS:
            result = measure(contender, path, repeat)
            times[contender].extend(result["times"])
            peaks[contender] = max(peaks[contender], result["peak_mib"])
            counts[contender] = int(result["count"])
    medians = {contender: statistics.median(times[contender]) for contender in CONTENDERS}
    return [
        [
            label,
            contender,
            f"{counts[contender]:,}",
            f"{medians[contender]:.3f}",
            f"{counts[contender] / medians[contender]:,.0f}",
            f"{medians['junitparser'] / medians[contender]:.1f}x",
            f"{peaks[contender]:,.0f}",
        ]
        for contender in CONTENDERS
    ]


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=100, help="size of the generated file")
    parser.add_argument("--runs", type=int, default=3, help="fresh processes per contender")
    args = parser.parse_args()
    if not JEST_FIXTURE.is_file():
        sys.exit(f"missing fixture {JEST_FIXTURE}")
    baseline = measure("baseline", JEST_FIXTURE, 1)["peak_mib"]
    rows = bench("jest-test-results.xml (615 KB)", JEST_FIXTURE, args.runs, 10)
    with tempfile.TemporaryDirectory() as folder:
        big = Path(folder) / "generated.xml"
        generate(big, args.size_mb)
        size = big.stat().st_size / 1_000_000
        rows += bench(f"generated ({size:.0f} MB)", big, args.runs, 1)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"Machine: {_cpu_name()} ({os.cpu_count()} CPUs, load average {load} at the end),"
        f" {platform.system()}, Python {platform.python_version()}; median of {args.runs}"
        f" process(es); baseline RSS (interpreter + imports) {baseline:.0f} MiB.\n"
    )
    header = [
        "input",
        "parser",
        "records",
        "median CPU s",
        "records/s",
        "vs junitparser",
        "peak RSS MiB",
    ]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
