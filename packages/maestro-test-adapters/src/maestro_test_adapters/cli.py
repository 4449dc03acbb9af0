"""Command-line interface of maestro-test-adapters: ``maestro-adapters``.

``parse FILE... [--format NAME] [--json]`` reads result files and prints
their totals (``--json``: the normalised JSON, one document per line, with
the totals on standard error). ``run`` comes from
:mod:`maestro_test_adapters.adapters` when it is installed.

Exit codes: 0 every test passed, 1 a test failed or errored, 2 a usage
error or a file that could not be read (the other files are still read).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from maestro_test_adapters import __version__
from maestro_test_adapters.exporters import write_junit_xml
from maestro_test_adapters.models import TestRun, Totals
from maestro_test_adapters.readers import ReadError, read_results, supported_formats

__all__ = ["build_parser", "main"]

_Handler = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of ``maestro-adapters`` with every subcommand.

    >>> sorted(build_parser()._subparsers._group_actions[0].choices)[:1]
    ['parse']
    """
    parser = argparse.ArgumentParser(
        prog="maestro-adapters",
        description="Run Pytest, Jest, Cucumber, Playwright and Selenium suites and read"
        " every common test-result format into one model.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_parse_command(subparsers)
    _add_optional_run_command(subparsers)
    return parser


def _add_optional_run_command(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    # `run` lives with the adapters; the readers work without them.
    try:
        from maestro_test_adapters.adapters._cli import add_run_command
    except ImportError:  # pragma: no cover - the adapters ship with the package
        return
    add_run_command(subparsers)


def _add_parse_command(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    formats = supported_formats()
    parser = subparsers.add_parser(
        "parse",
        help="read result files and print their totals",
        description="Read test result files (format detected from the content) and print"
        f" their totals. Supported formats: {', '.join(formats)}.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="result file")
    parser.add_argument(
        "--format", choices=formats, metavar="NAME", help="force a format instead of detecting it"
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the normalised JSON of each file (one document per line); totals go to stderr",
    )
    parser.add_argument(
        "--junit-xml",
        type=Path,
        metavar="OUT",
        help="also write the results of all files as one JUnit XML file",
    )
    parser.set_defaults(handler=parse_command)


def parse_command(args: argparse.Namespace) -> int:
    """Read the files named in parsed ``parse`` arguments; return the exit code."""
    report = sys.stderr if args.json else sys.stdout
    # Runs are kept only to be merged into --junit-xml: otherwise each file's
    # run is dropped once printed, however many files are named.
    runs: list[TestRun] = []
    overall, duration = Totals(), 0.0
    files_read = unreadable = 0
    for path in args.files:
        try:
            run = read_results(path, format=args.format)
        except ReadError as exc:
            print(f"maestro-adapters parse: error: {exc}", file=sys.stderr)
            unreadable += 1
            continue
        files_read += 1
        overall += run.totals
        duration += run.duration
        if args.junit_xml is not None:
            runs.append(run)
        if args.json:
            print(run.to_json())
        print(f"{path}: {describe_totals(run.framework, run.totals, run.duration)}", file=report)
        for result in run.iter_results():
            if result.status.is_failure:
                print(
                    f"  {result.status.value.upper()} {result.test_id}: {result.message or ''}",
                    file=report,
                )
    if len(args.files) > 1:
        print(f"total: {describe_totals(f'{files_read} files', overall, duration)}", file=report)
    if runs:
        merged = TestRun(runs[0].framework if len(runs) == 1 else "mixed")
        for run in runs:
            merged.suites.extend(run.suites)
            merged.duration += run.duration
        try:
            write_junit_xml(merged, args.junit_xml)
        except OSError as exc:
            # exc.filename is the temporary file written first: name the one asked for.
            print(
                f"maestro-adapters parse: error: cannot write {args.junit_xml}:"
                f" {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 2
    if unreadable:
        return 2
    return 0 if overall.ok else 1


def describe_totals(source: str, totals: Totals, duration: float) -> str:
    """One summary line, as ``parse`` and ``run`` print it.

    >>> describe_totals("jest", Totals(total=3, passed=2, failed=1), 1.5)
    'jest: 3 tests (2 passed, 1 failed) in 1.50 s'
    >>> describe_totals("pytest", Totals(total=1, passed=1), 0.25)
    'pytest: 1 test (1 passed) in 0.25 s'
    """
    counts = ", ".join(
        f"{getattr(totals, name)} {name}"
        for name in ("passed", "failed", "error", "skipped", "xfailed", "xpassed", "flaky")
        if getattr(totals, name)
    )
    tests = "test" if totals.total == 1 else "tests"
    return f"{source}: {totals.total} {tests} ({counts or 'none'}) in {duration:.2f} s"


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``maestro-adapters`` and return its exit code (0 ok, 1 failed, 2 usage/input error).

    >>> main(["parse", "no-such-file.xml"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on a usage error, 0 for --help
        return int(exc.code or 0)
    handler: _Handler = args.handler
    return handler(args)
