"""Command-line interface of maestro-test-adapters (`maestro-adapters`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from maestro_test_adapters import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `maestro-adapters` command."""
    parser = argparse.ArgumentParser(
        prog="maestro-adapters",
        description="Run Pytest, Jest, Cucumber, Playwright and Selenium suites and read every common test-result format into one model.",
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
