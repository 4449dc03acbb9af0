"""Command-line interface of maestro-audit-logger (``maestro-audit``).

Sub-commands: ``verify``, ``tail [-f]``, ``query``, ``export``, ``stats``. Exit codes:
0 ok, 1 verification failed, 2 usage or input error (no traceback). Keys are read
from a file (``--key-file``) or an environment variable (``--key-env``, default
``MAESTRO_AUDIT_KEY``), never from the command line, where ``ps`` would show them.

>>> main(["verify", "/nonexistent/audit.jsonl"])
2
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
from collections.abc import Sequence
from itertools import islice
from pathlib import Path
from typing import TextIO

from maestro_audit_logger import __version__
from maestro_audit_logger.errors import AuditError
from maestro_audit_logger.exporters import FORMATS, EventFilter, TextOutput, export, read_events
from maestro_audit_logger.integrity import verify
from maestro_audit_logger.models import OUTCOMES, AuditEvent
from maestro_audit_logger.viewers import (
    TerminalWriter,
    follow,
    format_table,
    sanitize,
    stats,
    tail,
)

__all__ = ["build_parser", "main"]

KEY_ENV = "MAESTRO_AUDIT_KEY"


_PATH_HELP = "active log file (rotated files next to it are included) or its directory"


class _UsageError(Exception):
    """Bad input detected after parsing (reported with exit code 2)."""


def _add_filters(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("filters")
    group.add_argument("--since", help="ISO time, inclusive (UTC if no zone)")
    group.add_argument("--until", help="ISO time, exclusive")
    group.add_argument("--actor", help="actor id or glob")
    group.add_argument("--action", help="action or glob, e.g. 'user.*'")
    group.add_argument(
        "--outcome", action="append", choices=sorted(OUTCOMES), help="repeat for several"
    )
    group.add_argument("--resource", help="'type:id' or glob, e.g. 'invoice:*'")


def _add_key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key-file", help="file holding the key (trailing newline ignored)")
    parser.add_argument(
        "--key-env", help=f"environment variable holding the key (default: {KEY_ENV} if set)"
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``maestro-audit`` command."""
    parser = argparse.ArgumentParser(
        prog="maestro-audit",
        description="Verify, view and export maestro-audit-logger audit trails.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    check = commands.add_parser(
        "verify", help="check the hash chain; exit 1 at the first bad record"
    )
    check.add_argument("path", help=_PATH_HELP)
    _add_key(check)
    check.add_argument("--checkpoints", help="checkpoint file written by a Checkpoints sink")
    check.add_argument("--json", action="store_true", help="print the result as JSON")

    last = commands.add_parser("tail", help="show the last events; -f to follow")
    last.add_argument("path", help=_PATH_HELP)
    last.add_argument("-n", "--lines", type=int, default=10, help="number of events (default 10)")
    last.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    last.add_argument("--json", action="store_true", help="one JSON object per line")
    last.add_argument("--poll", type=float, default=0.5, help=argparse.SUPPRESS)
    _add_filters(last)

    query = commands.add_parser("query", help="select events with filters")
    query.add_argument("path", help=_PATH_HELP)
    query.add_argument(
        "--format", choices=("table", "json", "jsonl"), default="table", help="default: table"
    )
    query.add_argument("--limit", type=int, help="stop after this many events")
    _add_filters(query)

    out = commands.add_parser("export", help="export events (csv, json, jsonl, cef, syslog)")
    out.add_argument("path", help=_PATH_HELP)
    out.add_argument("--format", choices=FORMATS, required=True, help="output format")
    out.add_argument("-o", "--output", help="file to write (atomically); default stdout")
    _add_filters(out)

    summary = commands.add_parser("stats", help="counts by outcome, action and actor")
    summary.add_argument("path", help=_PATH_HELP)
    summary.add_argument("--top", type=int, default=10, help="actions and actors to list")
    summary.add_argument("--json", action="store_true", help="print the counts as JSON")
    _add_filters(summary)
    return parser


def _key(args: argparse.Namespace) -> bytes | str | None:
    if args.key_file:
        try:
            return Path(args.key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise _UsageError(f"cannot read key file {args.key_file}: {exc.strerror}") from None
    if args.key_env:
        value = os.environ.get(args.key_env)
        if not value:
            raise _UsageError(f"environment variable {args.key_env} is not set")
        return value
    return os.environ.get(KEY_ENV) or None


def _filter(args: argparse.Namespace) -> EventFilter:
    return EventFilter(
        since=args.since,
        until=args.until,
        actor=args.actor,
        action=args.action,
        outcomes=tuple(args.outcome or ()),
        resource=args.resource,
    )


def _json_line(event: AuditEvent) -> str:
    # ensure_ascii escapes every control and non-ASCII character: safe on any terminal.
    return json.dumps(event.to_dict(), ensure_ascii=True, separators=(",", ":"))


def _cmd_verify(args: argparse.Namespace, out: TextIO) -> int:
    result = verify(args.path, key=_key(args), checkpoints=args.checkpoints)
    if args.json:
        out.write(json.dumps(result.to_dict(), ensure_ascii=True) + "\n")
    elif result.ok:
        note = (
            "" if result.anchored else f" (starts at seq {result.first_seq}; older files removed)"
        )
        out.write(f"OK: {result.records} records verified, last seq {result.last_seq}{note}\n")
    else:
        problem = result.problem.value if result.problem else "?"
        out.write(f"FAILED at seq {result.bad_seq}: {problem}: {sanitize(result.message)}\n")
    return 0 if result.ok else 1


def _cmd_tail(args: argparse.Namespace, out: TextIO) -> int:
    if args.lines < 0:
        raise _UsageError("-n must be zero or more")
    where = _filter(args)
    events = tail(args.path, args.lines, where)
    if args.json:
        for event in events:
            out.write(_json_line(event) + "\n")
    elif events:
        out.write("\n".join(format_table(events)) + "\n")
    out.flush()
    if not args.follow:
        return 0
    stop = threading.Event()
    try:
        for event in follow(args.path, stop=stop, poll_interval=args.poll):
            if where(event):
                text = _json_line(event) if args.json else format_table([event])[1]
                out.write(text + "\n")
                out.flush()
    except KeyboardInterrupt:
        stop.set()
    return 0


def _cmd_query(args: argparse.Namespace, out: TextIO) -> int:
    if args.limit is not None and args.limit < 0:
        raise _UsageError("--limit must be zero or more")
    events = islice(read_events(args.path, _filter(args)), args.limit)
    if args.format == "table":
        out.write("\n".join(format_table(events)) + "\n")
    elif args.format == "jsonl":
        for event in events:
            out.write(_json_line(event) + "\n")
    else:
        out.write("[")
        for index, event in enumerate(events):
            out.write(("," if index else "") + "\n" + _json_line(event))
        out.write("\n]\n")
    return 0


def _cmd_export(args: argparse.Namespace, out: TextIO) -> int:
    events = read_events(args.path, _filter(args))
    if not args.output:
        # Exports carry event data verbatim; on a terminal, escape control characters.
        stream: TextOutput = TerminalWriter(out) if out.isatty() else out
        export(events, stream, args.format)
        return 0
    target = Path(args.output)
    if not target.parent.is_dir():
        raise _UsageError(f"output directory {target.parent} does not exist")
    if target.is_dir():
        raise _UsageError(f"output {target} is a directory; name the file to write")
    # Write beside the target and rename: a failed export never leaves a partial file.
    try:
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or ".")
    except OSError as exc:  # name the directory, not the temporary file
        raise _UsageError(f"cannot write to {target.parent}: {exc.strerror or exc}") from None
    try:
        newline = "" if args.format == "csv" else None
        with os.fdopen(fd, "w", encoding="utf-8", newline=newline) as handle:
            count = export(events, handle, args.format)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    print(f"exported {count} events to {sanitize(str(target))}", file=sys.stderr)
    return 0


def _cmd_stats(args: argparse.Namespace, out: TextIO) -> int:
    if args.top < 0:
        raise _UsageError("--top must be zero or more")
    result = stats(args.path, _filter(args))
    if args.json:
        out.write(json.dumps(result.to_dict(args.top), ensure_ascii=True, indent=2) + "\n")
    else:
        out.write("\n".join(result.lines(args.top)) + "\n")
    return 0


_COMMANDS = {
    "verify": _cmd_verify,
    "tail": _cmd_tail,
    "query": _cmd_query,
    "export": _cmd_export,
    "stats": _cmd_stats,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``maestro-audit`` and return its exit code (0 ok, 1 failed, 2 usage/input error).

    >>> main(["--version"])  # doctest: +ELLIPSIS
    maestro-audit ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0)
    out = sys.stdout
    try:
        return _COMMANDS[args.command](args, out)
    except (_UsageError, AuditError) as exc:
        print(f"maestro-audit: error: {sanitize(str(exc))}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. piped into `head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except FileNotFoundError as exc:
        print(f"maestro-audit: error: {sanitize(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        name = exc.filename if exc.filename is not None else ""
        print(
            f"maestro-audit: error: {sanitize(str(name))}: {exc.strerror or exc}", file=sys.stderr
        )
        return 2
