"""Command-line interface of maestro-audit-logger (`maestro-audit`)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from maestro_audit_logger import __version__


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the `maestro-audit` command."""
    parser = argparse.ArgumentParser(
        prog="maestro-audit",
        description="Tamper-evident, crash-safe audit trails with integrity verification, exporters, viewers and a CLI.",
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
