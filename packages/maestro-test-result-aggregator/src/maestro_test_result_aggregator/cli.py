"""Command-line interface of maestro-test-result-aggregator (`maestro-results`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from maestro_test_result_aggregator import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `maestro-results` command."""
    parser = argparse.ArgumentParser(
        prog="maestro-results",
        description="One SQLite history of every test run, with flaky-test detection, trends and reports.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command and return its exit code (0 ok, 1 failed, 2 usage error).

    >>> main([])
    0
    """
    build_parser().parse_args(argv)
    return 0
