"""How long it takes to render one package from the template (target: copier copy <= 2 s).

Run on demand, not in the test suite::

    uv run python benchmarks/bench_template.py [--runs 7]

Each engine renders the same answers into a fresh folder ``--runs`` times, through its
command line as a platform engineer would run it (process start-up included), and the
medians are printed as a Markdown table.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_SECONDS = 2.0
ANSWERS = {
    "distribution_name": "maestro-bench-widgets",
    "console_script": "bench-widgets",
    "dependencies": "packaging>=24",
}


def copier_command(dst: Path) -> list[str]:
    data = [f"--data={key}={value}" for key, value in ANSWERS.items()]
    return [
        str(BIN / "copier"),
        "copy",
        "--quiet",
        "--trust",
        "--defaults",
        *data,
        '--data=extras={"yaml": ["pyyaml>=6"]}',
        str(ROOT),
        str(dst),
    ]


def cookiecutter_command(dst: Path) -> list[str]:
    data = [f"{key}={value}" for key, value in ANSWERS.items()]
    return [
        str(BIN / "cookiecutter"),
        "--no-input",
        "--directory",
        "template",
        "--output-dir",
        str(dst),
        str(ROOT),
        *data,
    ]


def measure(build: object, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            command = build(Path(tmp) / "out")  # type: ignore[operator]
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            timings.append(time.perf_counter() - start)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rows = [
        ("copier copy", measure(copier_command, args.runs)),
        ("cookiecutter", measure(cookiecutter_command, args.runs)),
    ]
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{args.runs} runs each, medians (process start-up included)\n"
    )
    print("| engine | median | min | max | target |")
    print("|---|---:|---:|---:|---:|")
    for name, timings in rows:
        target = f"<= {TARGET_SECONDS:.1f} s" if name == "copier copy" else ""
        print(
            f"| {name} | {statistics.median(timings):.2f} s | {min(timings):.2f} s "
            f"| {max(timings):.2f} s | {target} |"
        )
    return 0 if statistics.median(rows[0][1]) <= TARGET_SECONDS else 1


if __name__ == "__main__":
    raise SystemExit(main())
