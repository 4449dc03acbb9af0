"""The ``maestro-results`` command line.

Exit codes: 0 success, 1 a gate tripped (``--fail-on-new-failures``),
2 usage or input error (bad arguments, unreadable file, unknown run, bad store).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from maestro_test_result_aggregator import __version__
from maestro_test_result_aggregator.errors import AggregatorError, RunNotFoundError
from maestro_test_result_aggregator.records import _Record
from maestro_test_result_aggregator.reports import FORMATS
from maestro_test_result_aggregator.store import DEFAULT_DB, ResultStore
from maestro_test_result_aggregator.tags import RunTags, running_in_ci

PROG = "maestro-results"
EXIT_OK, EXIT_GATE, EXIT_USAGE = 0, 1, 2

_RecordT = TypeVar("_RecordT", bound=_Record)


class _UsageError(Exception):
    """Bad input found after argument parsing (exit code 2)."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (``sys.argv[1:]`` by default); return the exit code.

    >>> main(["--version"]) == 0
    maestro-results ...
    True
    """
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: --help/--version exit 0, errors exit 2
        return int(exc.code or 0)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except BrokenPipeError:  # the reader left early, e.g. `maestro-results runs | head`
        # Point stdout at /dev/null so the flush at exit does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except (AggregatorError, _UsageError, OSError, sqlite3.Error) as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


# -- parser -----------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db",
        default=DEFAULT_DB,
        metavar="PATH",
        help=f"SQLite store (default: ./{DEFAULT_DB})",
    )
    scope = argparse.ArgumentParser(add_help=False)
    scope.add_argument("--project", help="only runs of this project")
    scope.add_argument("--branch", help="only runs of this branch")
    listing = argparse.ArgumentParser(add_help=False)
    listing.add_argument("--json", action="store_true", help="print JSON")
    gate = argparse.ArgumentParser(add_help=False)
    gate.add_argument(
        "--fail-on-new-failures",
        action="store_true",
        help="exit 1 when the latest build (or untagged run) has failures the one "
        "before it had not",
    )

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Keep every test run in one SQLite history; find flaky tests, "
        "trends and regressions; write reports.",
        epilog="Exit codes: 0 ok, 1 a gate tripped (--fail-on-new-failures), "
        "2 usage or input error.",
    )
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = sub.add_parser(
        "ingest",
        parents=[common, listing, gate],
        help="store result files, folders or globs",
        description="Store result files (every format maestro-test-adapters reads). "
        "Tags missing from the options are read from the CI environment.",
    )
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="file, folder or glob")
    ingest.add_argument("--project", default="", help="project or repository name")
    ingest.add_argument("--branch", default="", help="branch the run tested")
    ingest.add_argument("--commit", default="", help="commit SHA the run tested")
    ingest.add_argument("--build", default="", help="CI build or pipeline id")
    ingest.add_argument("--ci-url", default="", help="link to the CI job")
    ingest.add_argument("--env", default="", help="environment label, e.g. staging")
    ingest.add_argument(
        "--started-at", type=_timestamp, help="run start, ISO 8601 (default: from file)"
    )
    ingest.add_argument("--format", help="reader name (default: detect)")
    ingest.add_argument(
        "--no-ci-env", action="store_true", help="do not read tags from CI variables"
    )
    ingest.add_argument(
        "--workers",
        type=_positive,
        default=1,
        help="processes reading files in parallel (default 1: read in this process)",
    )
    ingest.set_defaults(handler=_cmd_ingest)

    report = sub.add_parser("report", parents=[common, scope, gate], help="write a report")
    report.add_argument("--format", choices=FORMATS, default="html")
    report.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")
    report.add_argument("--last", type=_positive, default=50, help="runs in trends")
    report.set_defaults(handler=_cmd_report)

    flaky = sub.add_parser("flaky", parents=[common, scope, listing], help="rank flaky tests")
    flaky.add_argument("--last", type=_positive, default=30, help="window of runs")
    flaky.add_argument("--limit", type=_positive, default=50)
    flaky.add_argument(
        "--infra-threshold",
        type=_fraction,
        default=0.5,
        help="leave out runs where more than this share failed (default 0.5)",
    )
    flaky.set_defaults(handler=_cmd_flaky)

    trend = sub.add_parser(
        "trend", parents=[common, scope, listing], help="pass rate and duration per run"
    )
    trend.add_argument("--last", type=_positive, default=30)
    trend.add_argument("--test", metavar="TEST_ID", help="one test's status and duration")
    trend.set_defaults(handler=_cmd_trend)

    diff = sub.add_parser("diff", parents=[common, listing, gate], help="compare two runs")
    diff.add_argument(
        "base", nargs="?", help="run id, build or latest~N (default: the build before head)"
    )
    diff.add_argument("head", nargs="?", default="latest", help="default: latest")
    diff.set_defaults(handler=_cmd_diff)

    runs = sub.add_parser("runs", parents=[common, scope, listing], help="list runs")
    runs.add_argument("--build")
    runs.add_argument("--limit", type=_positive, default=20)
    runs.add_argument(
        "--by",
        choices=("project", "branch", "build"),
        help="aggregate the last --limit runs per project, branch or build",
    )
    runs.set_defaults(handler=_cmd_runs)

    tests = sub.add_parser("tests", parents=[common, scope, listing], help="per-test statistics")
    tests.add_argument("--last", type=_positive, default=50, help="window of runs")
    tests.add_argument("--limit", type=_positive, default=50)
    tests.add_argument("--failing", action="store_true", help="only tests that failed")
    tests.set_defaults(handler=_cmd_tests)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number >= 1, got {value}")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0.0 < value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a share in (0, 1], got {value}")
    return value


def _timestamp(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time like 2026-11-27T10:00:00Z, got {text!r}"
        ) from None


# -- commands ---------------------------------------------------------------------


def _open(args: argparse.Namespace, *, create: bool = False) -> ResultStore:
    if not create and args.db != ":memory:" and not Path(args.db).exists():
        raise _UsageError(f"no result store at {args.db!r}; run `{PROG} ingest` first or pass --db")
    return ResultStore(args.db)


def _cmd_ingest(args: argparse.Namespace) -> int:
    tags = RunTags(
        project=args.project,
        branch=args.branch,
        commit=args.commit,
        build=args.build,
        ci_url=args.ci_url,
        environment=args.env,
        started_at=args.started_at,
    )
    progress = _Progress(sys.stderr) if _Progress.wanted(sys.stderr) else None
    created = args.db != ":memory:" and not Path(args.db).exists()
    with _open(args, create=True) as store:
        try:
            return _ingest(store, args, tags, progress)
        finally:
            if created and not store.runs(limit=1):
                # A first ingest that stored nothing leaves no empty store
                # behind, so the next command still says there is none.
                store.close()
                for suffix in ("", "-wal", "-shm", "-journal"):
                    Path(f"{args.db}{suffix}").unlink(missing_ok=True)


def _ingest(
    store: ResultStore, args: argparse.Namespace, tags: RunTags, progress: _Progress | None
) -> int:
    report = store.ingest(
        args.paths,
        tags=tags,
        format=args.format,
        use_ci_environment=not args.no_ci_env,
        on_progress=progress,
        workers=args.workers,
    )
    if progress is not None:
        progress.finish()
    for failure in report.failed:
        print(f"{PROG}: cannot ingest {failure.source}: {failure.reason}", file=sys.stderr)
    if args.json:
        _print_json(report.to_dict())
    else:
        print(
            f"ingested {report.new_runs} run(s), {report.new_results} result(s); "
            f"{report.duplicates} already stored, {len(report.failed)} failed"
            + (f", {len(report.skipped)} not result files" if report.skipped else "")
        )
    if not report.ingested and not report.failed and not report.skipped:
        raise _UsageError(f"no result files matched {' '.join(args.paths)!r}")
    if args.fail_on_new_failures and report.new_runs:
        newest = max(item.run_id for item in report.ingested if not item.duplicate)
        if _gate_new_failures(store, newest):
            return EXIT_GATE
    return EXIT_USAGE if report.failed else EXIT_OK


def _gate_new_failures(store: ResultStore, head: int) -> bool:
    try:
        diff = store.diff(head=head)
    except RunNotFoundError:
        return False
    if diff.new_failures:
        names = ", ".join(change.uid for change in diff.new_failures[:10])
        more = len(diff.new_failures) - 10
        print(
            f"{PROG}: {len(diff.new_failures)} new failure(s): {names}"
            + (f" and {more} more" if more > 0 else ""),
            file=sys.stderr,
        )
    return diff.has_new_failures


def _cmd_report(args: argparse.Namespace) -> int:
    with _open(args) as store:
        text = store.report(
            args.format,
            output=args.output,
            project=args.project,
            branch=args.branch,
            last=args.last,
        )
        if args.output is None:
            sys.stdout.write(text)
        else:
            print(f"wrote {args.output} ({len(text.encode('utf-8')):,} bytes)", file=sys.stderr)
        if args.fail_on_new_failures:
            head = store.run("latest", project=args.project, branch=args.branch)
            if _gate_new_failures(store, head.id):
                return EXIT_GATE
    return EXIT_OK


def _cmd_flaky(args: argparse.Namespace) -> int:
    with _open(args) as store:
        found = store.flaky(
            project=args.project,
            branch=args.branch,
            last=args.last,
            infra_threshold=args.infra_threshold,
            limit=args.limit,
        )
    return _print_records(
        found,
        args.json,
        ("flip rate", "retried", "same-commit", "runs", "test"),
        lambda f: (f"{f.flip_rate:.0%}", f.retried_runs, f.same_commit_flips, f.runs, f.uid),
        empty=f"no flaky tests in the last {args.last} runs",
    )


def _cmd_trend(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.test is not None:
            history = store.test_history(
                args.test, project=args.project, branch=args.branch, last=args.last
            )
            return _print_records(
                history,
                args.json,
                ("run", "status", "duration", "attempts"),
                lambda o: (o.run_id, o.status, f"{o.duration:.3f}s", o.attempts),
                empty="the test did not run in these runs",
            )
        points = store.trend(project=args.project, branch=args.branch, last=args.last)
    return _print_records(
        points,
        args.json,
        ("run", "started", "tests", "failed", "flaky", "pass rate", "duration", ""),
        lambda p: (
            p.label,
            p.started_at[:19],
            p.total,
            p.failed + p.errors,
            p.flaky,
            f"{p.pass_rate:.1%}",
            f"{p.duration:.1f}s",
            "infra?" if p.infrastructure_failure else "",
        ),
        empty="no runs",
    )


def _cmd_diff(args: argparse.Namespace) -> int:
    with _open(args) as store:
        diff = store.diff(args.base, args.head)
        labels = [store.run(run_id).label for run_id in (diff.base_run, diff.head_run)]
    if args.json:
        _print_json(diff.to_dict())
    else:
        print(" -> ".join(labels))
        for title, changes in (
            ("new failures", diff.new_failures),
            ("fixed", diff.fixed),
            ("still failing", diff.still_failing),
            ("new tests", diff.new_tests),
            ("removed tests", diff.removed_tests),
        ):
            print(f"{title}: {len(changes)}")
            for change in changes[:50]:
                before, after = change.base_status or "absent", change.head_status or "absent"
                print(f"  {change.uid} ({before} -> {after})")
            if len(changes) > 50:
                print(f"  ... and {len(changes) - 50} more (use --json)")
    if args.fail_on_new_failures and diff.has_new_failures:
        return EXIT_GATE
    return EXIT_OK


def _cmd_runs(args: argparse.Namespace) -> int:
    with _open(args) as store:
        if args.by is not None:
            groups = store.aggregate(
                args.by, project=args.project, branch=args.branch, last=args.limit
            )
            return _print_records(
                groups,
                args.json,
                ("group", "runs", "tests", "failed", "flaky", "pass rate", "median", "p95"),
                lambda g: (
                    g.key or "(none)",
                    g.runs,
                    g.total,
                    g.failed + g.errors,
                    g.flaky,
                    f"{g.pass_rate:.1%}",
                    f"{g.median_duration:.1f}s",
                    f"{g.p95_duration:.1f}s",
                ),
                empty="no runs",
            )
        runs = store.runs(
            project=args.project, branch=args.branch, build=args.build, limit=args.limit
        )
    return _print_records(
        runs,
        args.json,
        ("id", "started", "project", "branch", "build", "tests", "failed", "pass rate"),
        lambda r: (
            r.id,
            r.started_at[:19],
            r.project,
            r.branch,
            r.build,
            r.total,
            r.failed + r.errors,
            f"{r.pass_rate:.1%}",
        ),
        empty="no runs",
    )


def _cmd_tests(args: argparse.Namespace) -> int:
    with _open(args) as store:
        stats = store.tests(project=args.project, branch=args.branch, last=args.last)
    if args.failing:
        stats = [s for s in stats if s.failed + s.errors]
    return _print_records(
        stats[: args.limit],
        args.json,
        ("pass rate", "runs", "failed", "flaky", "median", "p95", "last", "test"),
        lambda s: (
            f"{s.pass_rate:.1%}",
            s.runs,
            s.failed + s.errors,
            s.flaky,
            f"{s.median_duration:.3f}s",
            f"{s.p95_duration:.3f}s",
            s.last_status,
            s.uid,
        ),
        empty="no tests",
    )


# -- output -----------------------------------------------------------------------


def _print_records(
    records: Sequence[_RecordT],
    as_json: bool,
    headers: Sequence[str],
    row: Callable[[_RecordT], Sequence[object]],
    *,
    empty: str,
) -> int:
    """Print the records of a listing command as JSON, or as a table of one ``row`` each."""
    if as_json:
        _print_json([record.to_dict() for record in records])
    else:
        _print_table(headers, [row(record) for record in records], empty=empty)
    return EXIT_OK


def _print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def _print_table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str) -> None:
    if not rows:
        print(empty)
        return
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(headers[i]), *(len(row[i]) for row in cells)) for i in range(len(headers))]
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in cells:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


class _Progress:
    """One self-overwriting status line on a terminal; silent in CI logs."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._shown = False

    @staticmethod
    def wanted(stream: TextIO) -> bool:
        return stream.isatty() and not running_in_ci()

    def __call__(self, done: int, total: int, results: int) -> None:
        self._stream.write(f"\ringesting {done}/{total} files, {results:,} results")
        self._stream.flush()
        self._shown = True

    def finish(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()
