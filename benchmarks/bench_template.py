"""How long it takes to render one package from the template (target: copier copy <= 2 s).

Run on demand, not in the test suite::

    uv run python benchmarks/bench_template.py [--runs 7]

Each engine renders the same answers into a fresh folder ``--runs`` times, through its
command line as a platform engineer would run it (process start-up included), and the
medians are printed as a Markdown table. The template is a fresh clone of the current
commit, as a platform engineer has it: from a working tree with uncommitted changes copier
first snapshots them into a throw-away commit, which measures the snapshot, not the render.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TARGET_SECONDS = 2.0
ANSWERS = {
    "distribution_name": "maestro-bench-widgets",
    "console_script": "bench-widgets",
    "dependencies": "packaging>=24",
}


def copier_command(template: Path, dst: Path) -> list[str]:
    data = [f"--data={key}={value}" for key, value in ANSWERS.items()]
    return [
        str(BIN / "copier"),
        "copy",
        "--quiet",
        "--trust",
        "--defaults",
        *data,
        '--data=extras={"yaml": ["pyyaml>=6"]}',
        str(template),
        str(dst),
    ]


def cookiecutter_command(template: Path, dst: Path) -> list[str]:
    data = [f"{key}={value}" for key, value in ANSWERS.items()]
    return [
        str(BIN / "cookiecutter"),
        "--no-input",
        "--directory",
        "template",
        "--output-dir",
        str(dst),
        str(template),
        *data,
    ]


def measure(build: Callable[[Path, Path], list[str]], template: Path, runs: int) -> list[float]:
    timings = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            command = build(template, Path(tmp) / "out")
            start = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True)
            timings.append(time.perf_counter() - start)
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as clone:
        template = Path(clone) / "factory"
        subprocess.run(["git", "clone", "--quiet", str(REPOSITORY), str(template)], check=True)
        rows = [
            ("copier copy", measure(copier_command, template, args.runs)),
            ("cookiecutter", measure(cookiecutter_command, template, args.runs)),
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
