"""``factory``: the command line of the release pipeline.

Exit codes: 0 success, 1 a step ran and failed, 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys
import threading
import urllib.parse
from collections.abc import Sequence
from pathlib import Path

from maestro_factory._integrations import RetryPolicy
from maestro_factory.errors import FactoryError
from maestro_factory.index import Redactor
from maestro_factory.pipeline import (
    Context,
    build_docs,
    build_step,
    changed_step,
    check_step,
    index_for,
    publish_step,
    test_step,
    verify_install_step,
)
from maestro_factory.publishing import PublishOptions
from maestro_factory.workspace import find_root

__all__ = ["main"]

_SECRET_VARIABLES = ("NEXUS_PASSWORD", "NEXUS_TOKEN")
_URL_VARIABLES = ("NEXUS_URL", "NEXUS_INDEX_URL")


def _environment_secrets() -> list[str]:
    """Every secret the environment holds, so output can be masked even on unexpected paths."""
    secrets = [os.environ[name] for name in _SECRET_VARIABLES if os.environ.get(name)]
    for name in _URL_VARIABLES:
        password = urllib.parse.urlsplit(os.environ.get(name, "")).password
        if password:
            secrets += [password, urllib.parse.unquote(password)]
    return secrets


class _Console:
    def __init__(self) -> None:
        self.redact = Redactor(_environment_secrets())

    def say(self, line: str) -> None:
        print(self.redact(line), flush=True)

    def error(self, line: str) -> None:
        print(self.redact(f"factory: error: {line}"), file=sys.stderr, flush=True)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factory",
        description="Release pipeline of the Maestro package factory.",
        epilog="Exit codes: 0 ok, 1 a step failed, 2 usage or input error. "
        "Index settings: NEXUS_URL, NEXUS_INDEX_URL, NEXUS_USERNAME, NEXUS_PASSWORD or NEXUS_TOKEN.",
    )
    parser.add_argument(
        "--root", type=Path, help="the workspace root (default: found from the current folder)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    changed = commands.add_parser(
        "changed", help="packages changed since a git ref, plus their dependants"
    )
    changed.add_argument(
        "--since", required=True, metavar="REF", help="git ref to compare with (merge base)"
    )
    changed.add_argument(
        "--json", action="store_true", help="print a JSON document with a CI matrix"
    )

    def selection(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--package", action="append", metavar="NAME", help="only this package (repeatable)"
        )
        sub.add_argument(
            "--since", metavar="REF", help="only packages changed since REF, plus their dependants"
        )

    check = commands.add_parser(
        "check", help="version bumped, changelog entry, valid versions and ranges"
    )
    selection(check)

    build = commands.add_parser(
        "build", help="sdist + wheel, twine check --strict, smoke test from the wheel"
    )
    selection(build)
    build.add_argument(
        "--no-smoke-test", action="store_true", help="skip installing the wheels into fresh venvs"
    )

    def publishing(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--audit-log",
            type=Path,
            metavar="PATH",
            help="default: build/audit/release-audit.jsonl",
        )
        sub.add_argument(
            "--tag",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="tag each published release <distribution>-v<version> (default: on for a configured index, "
            "off for the embedded one)",
        )
        sub.add_argument(
            "--upload-attempts", type=_positive_int, default=5, metavar="N", help="default: 5"
        )
        sub.add_argument(
            "--retry-delay",
            type=_seconds,
            default=1.0,
            metavar="SECONDS",
            help="first backoff delay",
        )

    publish = commands.add_parser(
        "publish", help="upload what the index lacks, in dependency order, and verify"
    )
    selection(publish)
    publishing(publish)

    ship = commands.add_parser(
        "ship", help="check, test, build, publish, verify install, build docs"
    )
    selection(ship)
    publishing(ship)
    ship.add_argument(
        "--skip-tests", action="store_true", help="do not run the package test suites"
    )
    ship.add_argument(
        "--skip-docs", action="store_true", help="do not build the documentation site"
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value < math.inf:
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, got {text!r}")
    return value


def _publish_options(args: argparse.Namespace, embedded: bool) -> PublishOptions:
    tag = (not embedded) if args.tag is None else args.tag
    upload = RetryPolicy(attempts=args.upload_attempts, initial_delay=args.retry_delay)
    verify = RetryPolicy(attempts=8, initial_delay=args.retry_delay / 2)
    return PublishOptions(upload_retry=upload, verify_retry=verify, tag=tag)


def _run(args: argparse.Namespace, console: _Console) -> int:
    root = find_root(args.root or Path.cwd())
    context = Context.for_root(root, console.say)

    if args.command == "changed":
        change = changed_step(context, args.since)
        if args.json:
            print(json.dumps(change.as_json(args.since), indent=2))
        else:
            for package in change.packages:
                console.say(package.name)
        return 0

    packages = context.select(args.package, args.since)
    if not packages:
        console.say(f"nothing to do: no package changed since {args.since}")
        return 0
    if args.command == "check":
        return 0 if check_step(context, packages).ok else 1
    if args.command == "build":
        build_step(context, packages, smoke=not args.no_smoke_test)
        return 0

    audit_log = args.audit_log or context.build_dir / "audit" / "release-audit.jsonl"
    if args.command == "ship":
        if not check_step(context, packages).ok:
            return 1
        if not args.skip_tests:
            test_step(context, packages)
        build_step(context, packages)
    with index_for(context) as config:
        console.redact = Redactor(
            [
                *_environment_secrets(),
                *([config.credentials.password] if config.credentials else []),
            ]
        )
        options = _publish_options(args, config.embedded)
        publish_step(context, packages, config, audit_log=audit_log, options=options)
        if args.command == "ship":
            verify_install_step(context, packages, config)
    if args.command == "ship":
        if args.skip_docs:
            console.say("docs: skipped (--skip-docs)")
        else:
            build_docs(context)
        console.say(f"ship: done: {', '.join(f'{p.name} {p.version}' for p in packages)}")
    return 0


class _Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``, a stopped container or CI job), handled like Ctrl-C."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``factory`` command line and return its exit code.

    SIGTERM stops it like Ctrl-C does: the embedded index is shut down, an upload in
    flight is recorded in the audit log, and the exit code is 143 (130 for Ctrl-C).

    >>> main(["--root", "/nonexistent-folder", "check"])
    2
    """
    console = _Console()
    args = _parser().parse_args(argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        return _run(args, console)
    except FactoryError as error:
        console.error(str(error))
        return error.exit_code
    except _Terminated:
        console.error("terminated (SIGTERM)")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        console.error("interrupted")
        return 130
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
