"""The result store: one SQLite file holding every ingested run."""

from __future__ import annotations

import itertools
import json
import multiprocessing
import os
import re
import sqlite3
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, TypedDict

from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite

from maestro_test_result_aggregator import _ingest, _reading, _schema
from maestro_test_result_aggregator._stats import (
    median,
    median_absolute_deviation,
    pass_rate,
    percentile,
)
from maestro_test_result_aggregator.errors import (
    AggregatorError,
    IngestError,
    RunNotFoundError,
    StoreError,
)
from maestro_test_result_aggregator.records import (
    DurationRegression,
    FailureAge,
    FailureGroup,
    FlakyTest,
    GroupStats,
    IngestedRun,
    IngestFailure,
    IngestReport,
    RunDiff,
    RunSummary,
    TestChange,
    TestOutcome,
    TestStats,
    TrendPoint,
)
from maestro_test_result_aggregator.tags import RunTags, utc_now

#: A run reference: a run id, a build tag, ``"latest"``, ``"previous"`` or
#: ``"latest~N"`` (the N-th run before the latest one).
RunRef = int | str
#: What :meth:`ResultStore.ingest` accepts: paths, folders, globs, TestRun objects.
Source = str | os.PathLike[str] | TestRun
#: Called after each input with (inputs done, inputs in total, results stored).
ProgressCallback = Callable[[int, int, int], None]

DEFAULT_DB = "test-results.db"
_FAILING = ("failed", "error")
#: Which outcome of a test a build keeps when several of its runs have the test.
_SEVERITY = {"error": 3, "failed": 2, "passed": 1, "xpassed": 1}
_NOT_EXECUTED = ("skipped", "xfailed")
_RUN_COLUMNS = (
    "id, project, branch, commit_sha, build, ci_url, environment, started_at, "
    "framework, source, format, duration, total, passed, failed, errors, skipped, "
    "xfailed, xpassed, flaky"
)
_LATEST = re.compile(r"(?:latest|head)(?:~(\d+))?")
_IN_CHUNK = 500
_OUTCOMES_SQL = (
    "SELECT r.test_id, r.run_id, t.uid, t.suite, t.name, r.status, r.duration, r.attempts, "
    "r.flaky, COALESCE(d.message, '') FROM results AS r JOIN tests AS t ON t.id = r.test_id "
    "LEFT JOIN result_details AS d ON d.run_id = r.run_id AND d.test_id = r.test_id "
    "WHERE r.run_id = ?"
)
_BATCH = 20_000
_CACHE_LIMIT = 500_000


class ResultStore:
    """A history of test runs in one SQLite file, with the queries on top.

    The file is created (and its schema migrated) on first use. It is opened
    in WAL mode with a busy timeout, so several processes may ingest into one
    store at once; each run is written in one transaction.

    Args:
        path: The SQLite file; ``":memory:"`` for a throw-away store.
        busy_timeout: Seconds to wait for another writer before giving up.

    Raises:
        StoreError: The file is not SQLite, or holds other tables.
        StoreVersionError: The store was written by a newer release.

    >>> from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite
    >>> run = TestRun("pytest", suites=[TestSuite("math", [
    ...     TestResult("math::add", "add", Status.PASSED, 0.1),
    ...     TestResult("math::div", "div", Status.FAILED, 0.2, message="ZeroDivisionError"),
    ... ])])
    >>> with ResultStore(":memory:") as store:
    ...     report = store.ingest(run, tags=RunTags(project="calc", build="1"))
    ...     latest = store.runs()[0]
    >>> report.new_results, latest.failed, latest.label
    (2, 1, 'build 1')
    """

    def __init__(
        self, path: str | os.PathLike[str] = DEFAULT_DB, *, busy_timeout: float = 60.0
    ) -> None:
        self._path = os.fspath(path)
        try:
            self._conn = sqlite3.connect(self._path, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the store {self._path!r}: {exc}") from exc
        self._test_ids: dict[str, dict[str, int]] = {}
        self._reason_ids: dict[str, int] = {}
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            # Refuse another program's database (or a newer store) before the
            # journal mode below is written into its header.
            _schema.refuse_unknown(self._conn)
            if self._path != ":memory:":
                self._conn.execute("PRAGMA journal_mode = WAL")
            self._conn.execute("PRAGMA synchronous = NORMAL")
            self._conn.execute("PRAGMA cache_size = -65536")
            self._conn.execute("PRAGMA temp_store = MEMORY")
            _schema.migrate(self._conn)
        except sqlite3.DatabaseError as exc:
            self._conn.close()
            raise StoreError(f"{self._path!r} is not a usable result store: {exc}") from exc
        except AggregatorError:
            self._conn.close()
            raise

    # -- lifecycle --------------------------------------------------------------

    @property
    def path(self) -> str:
        """The SQLite file this store reads and writes."""
        return self._path

    @property
    def schema_version(self) -> int:
        """Schema version of the open store."""
        return _schema.schema_version(self._conn)

    def close(self) -> None:
        """Close the database connection (idempotent)."""
        self._conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # -- ingest -----------------------------------------------------------------

    def ingest(
        self,
        sources: Source | Iterable[Source],
        *,
        tags: RunTags | None = None,
        format: str | None = None,
        use_ci_environment: bool = True,
        on_progress: ProgressCallback | None = None,
        workers: int = 1,
    ) -> IngestReport:
        """Store result files, folders, glob matches or :class:`TestRun` objects.

        Each input becomes one run, written in one transaction: an input that
        cannot be read is reported in :attr:`IngestReport.failed` and the others
        are stored. An input whose content is already stored adds nothing. A
        file found in a folder or by a pattern that is in no known result
        format (a stray ``package.json``) is listed in
        :attr:`IngestReport.skipped`; named explicitly, it is a failure.

        Args:
            sources: One input or several. Folders are searched recursively for
                ``.xml``, ``.trx``, ``.json``, ``.ndjson`` and ``.jsonl`` files.
            tags: Project, branch, commit, build, CI URL, environment, time.
            format: Reader name for every file (auto-detected when ``None``).
            use_ci_environment: Fill tags missing from ``tags`` from the CI
                variables (:meth:`RunTags.from_environment`).
            on_progress: Called after each input.
            workers: Processes that read files in parallel while this one
                writes (1: read here). Files above 32 MiB are always streamed
                here, with bounded memory.

        Returns:
            What was stored, skipped as duplicate, or failed.
        """
        items: list[Source] = (
            [sources] if isinstance(sources, TestRun | str | os.PathLike) else list(sources)
        )
        env_tags = RunTags.from_environment() if use_ci_environment else None
        runs = [item for item in items if isinstance(item, TestRun)]
        paths = list(_ingest.expand_sources(i for i in items if not isinstance(i, TestRun)))
        total = len(runs) + len(paths)
        done: list[IngestedRun] = []
        failed: list[IngestFailure] = []
        skipped: list[str] = []
        stored = 0
        outcomes = itertools.chain(
            (_attempt(partial(self._ingest_object, run, tags, env_tags)) for run in runs),
            self._ingest_files(paths, tags, env_tags, format, workers),
        )
        named = [True] * len(runs) + [was_named for _, was_named in paths]
        for index, (was_named, outcome) in enumerate(zip(named, outcomes, strict=True), start=1):
            if isinstance(outcome, IngestedRun):
                done.append(outcome)
                stored += 0 if outcome.duplicate else outcome.results
            elif isinstance(outcome, _reading.NotAResultFile) and not was_named:
                skipped.append(outcome.source)  # a stray file found in a folder
            else:
                failed.append(IngestFailure(outcome.source, outcome.reason))
            if on_progress is not None:
                on_progress(index, total, stored)
        return IngestReport(tuple(done), tuple(failed), tuple(skipped))

    def _ingest_object(
        self, run: TestRun, tags: RunTags | None, env_tags: RunTags | None
    ) -> IngestedRun:
        content_hash = _ingest.hash_run(run)
        pairs = ((suite, result) for suite in run.suites for result in suite.tests)
        meta = _RunMeta(run.framework, run.started_at, run.duration, run.environment)
        builder = _ingest.RowBuilder()
        exhausted = _fill(builder, pairs, "<TestRun>", _BATCH)
        return self._store_run(
            builder, exhausted, pairs, meta, tags, env_tags, content_hash, "<TestRun>", "object"
        )

    def _ingest_files(
        self,
        paths: Sequence[tuple[Path, bool]],
        tags: RunTags | None,
        env_tags: RunTags | None,
        format: str | None,
        workers: int,
    ) -> Iterator[IngestedRun | IngestError]:
        """Ingest files in order; with workers, other processes read them meanwhile."""
        checks = (self._check(path) for path, _ in paths)
        if workers <= 1 or len(paths) < 2:
            for (path, _), check in zip(paths, checks, strict=True):
                if isinstance(check, str):
                    reader = partial(_read, path, format, _BATCH)
                    yield _attempt(partial(self._store_file, path, check, reader, tags, env_tags))
                else:
                    yield check
            return
        # Hash and look up every file first, so workers never read a duplicate;
        # files too big to ship between processes are streamed here instead.
        checked = list(checks)
        shipped = [
            isinstance(check, str) and _fits_a_worker(path)
            for (path, _), check in zip(paths, checked, strict=True)
        ]
        jobs = [(path, format) for (path, _), ship in zip(paths, shipped, strict=True) if ship]
        # fork starts workers fast and needs no `if __name__ == "__main__"` guard
        # in the caller's script; workers only parse and never touch the store.
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        context = multiprocessing.get_context(method)
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            parsed_files = pool.map(_read_elsewhere, jobs, chunksize=4)
            for (path, _), check, ship in zip(paths, checked, shipped, strict=True):
                if not isinstance(check, str):
                    yield check
                    continue
                try:
                    read: _Parsed | IngestError | Callable[[], _Parsed] = (
                        next(parsed_files) if ship else partial(_read, path, format, _BATCH)
                    )
                except BrokenProcessPool as exc:
                    raise AggregatorError(
                        f"a worker process died while reading {path} ({exc}); "
                        "retry with workers=1 to read in this process"
                    ) from exc
                if isinstance(read, IngestError):
                    yield read
                else:
                    yield _attempt(partial(self._store_file, path, check, read, tags, env_tags))

    def _check(self, path: Path) -> str | IngestedRun | IngestError:
        """The file's content hash, or the stored run with that content, or why not."""
        source = str(path)
        try:
            content_hash = _ingest.hash_file(path)
        except OSError as exc:
            return IngestError(source, _reading.describe(exc, source))
        existing = self._conn.execute(
            "SELECT id, total FROM runs WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        if existing is not None:
            return IngestedRun(source, existing[0], existing[1], duplicate=True)
        return content_hash

    def _store_file(
        self,
        path: Path,
        content_hash: str,
        read: _Parsed | Callable[[], _Parsed],
        tags: RunTags | None,
        env_tags: RunTags | None,
    ) -> IngestedRun:
        parsed = read if isinstance(read, _Parsed) else read()
        return self._store_run(
            parsed.builder,
            parsed.exhausted,
            parsed.rest,
            parsed.meta,
            tags,
            env_tags,
            content_hash,
            str(path),
            parsed.format,
        )

    def _store_run(
        self,
        builder: _ingest.RowBuilder,
        exhausted: bool,
        pairs: Iterator[tuple[TestSuite, TestResult]],
        meta: _RunMeta,
        tags: RunTags | None,
        env_tags: RunTags | None,
        content_hash: str,
        source: str,
        format_name: str,
    ) -> IngestedRun:
        merged, started_at = _ingest.resolve_tags(meta.started_at, tags, env_tags)
        # The first batch was read before the write lock is taken, so parsing a
        # normal-sized file never blocks other writers; a huge file keeps
        # streaming inside the transaction with memory bounded by one batch.
        with self._write() as conn:
            row = conn.execute(
                "INSERT INTO runs (content_hash, source, format, project, branch, "
                "commit_sha, build, ci_url, environment, started_at, ingested_at, "
                "framework, duration, total, passed, failed, errors, skipped, "
                "xfailed, xpassed, flaky, properties) VALUES (?, ?, ?, ?, ?, ?, ?, "
                "?, ?, ?, ?, ?, ?, 0, 0, 0, 0, 0, 0, 0, 0, ?) "
                "ON CONFLICT (content_hash) DO NOTHING RETURNING id",
                (
                    content_hash,
                    source,
                    format_name,
                    merged.project,
                    merged.branch,
                    merged.commit,
                    merged.build,
                    merged.ci_url,
                    merged.environment,
                    started_at,
                    _ingest.iso_utc(utc_now()),
                    meta.framework,
                    meta.duration,
                    json.dumps(meta.environment, sort_keys=True),
                ),
            ).fetchall()
            if not row:  # another process stored the same content meanwhile
                existing = conn.execute(
                    "SELECT id, total FROM runs WHERE content_hash = ?", (content_hash,)
                ).fetchone()
                return IngestedRun(source, existing[0], existing[1], duplicate=True)
            run_id: int = row[0][0]
            project = merged.project
            self._write_batch(run_id, project, builder.take(), first=True)
            while not exhausted:
                exhausted = _fill(builder, pairs, source, _BATCH)
                self._write_batch(run_id, project, builder.take(), first=False)
            counts = builder.counts
            conn.execute(
                "UPDATE runs SET total = ?, passed = ?, failed = ?, errors = ?, "
                "skipped = ?, xfailed = ?, xpassed = ?, flaky = ? WHERE id = ?",
                (
                    builder.total,
                    counts["passed"],
                    counts["failed"],
                    counts["error"],
                    counts["skipped"],
                    counts["xfailed"],
                    counts["xpassed"],
                    counts["flaky"],
                    run_id,
                ),
            )
        return IngestedRun(source, run_id, builder.total, duplicate=False)

    def _write_batch(self, run_id: int, project: str, batch: _ingest.Batch, *, first: bool) -> None:
        conn = self._conn
        test_ids = self._intern_tests(project, batch.tests)
        stored = set() if first else self._stored_ids(run_id, test_ids)
        if stored or len(set(test_ids)) != len(test_ids):
            self._rename_repeats(run_id, project, batch, test_ids, stored)
        conn.executemany(
            "INSERT INTO results (run_id, test_id, status, duration, attempts, "
            "flaky) VALUES (?, ?, ?, ?, ?, ?)",
            [
                (run_id, test_id, *result)
                for test_id, result in zip(test_ids, batch.results, strict=True)
            ],
        )
        if batch.details:
            reason_ids = self._intern_reasons(d[5] for d in batch.details)
            conn.executemany(
                "INSERT INTO result_details (run_id, test_id, message, traceback, "
                "stdout, stderr, reason_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (run_id, test_ids[d[0]], d[1], d[2], d[3], d[4], reason_ids[d[5]])
                    for d in batch.details
                ],
            )
        if batch.attempts:
            conn.executemany(
                "INSERT INTO attempts (run_id, test_id, number, status, duration, "
                "message) VALUES (?, ?, ?, ?, ?, ?)",
                [(run_id, test_ids[a[0]], *a[1:]) for a in batch.attempts],
            )
        if batch.attachments:
            conn.executemany(
                "INSERT INTO attachments (run_id, test_id, name, path, media_type) "
                "VALUES (?, ?, ?, ?, ?)",
                [(run_id, test_ids[a[0]], *a[1:]) for a in batch.attachments],
            )

    def _stored_ids(self, run_id: int, test_ids: Sequence[int]) -> set[int]:
        """Which of ``test_ids`` already have a result in run ``run_id``."""
        found: set[int] = set()
        for start in range(0, len(test_ids), _IN_CHUNK):
            chunk = test_ids[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self._conn.execute(
                    f"SELECT test_id FROM results WHERE run_id = ? AND test_id IN ({marks})",
                    [run_id, *chunk],
                )
            )
        return found

    def _rename_repeats(
        self,
        run_id: int,
        project: str,
        batch: _ingest.Batch,
        test_ids: list[int],
        stored: set[int],
    ) -> None:
        """Give a test id met again in the same run a ``[n]`` suffix: nothing is lost.

        Rare (the same test id twice in one result file), so it may be slow.
        """
        taken = set(stored)
        for index, test_id in enumerate(test_ids):
            if test_id in taken:
                uid, suite, name, classname, file, line = batch.tests[index]
                for number in itertools.count(2):
                    meta = (f"{uid} [{number}]", suite, name, classname, file, line)
                    (candidate,) = self._intern_tests(project, [meta])
                    if candidate not in taken and not self._stored_ids(run_id, [candidate]):
                        test_ids[index] = candidate
                        break
            taken.add(test_ids[index])

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:  # locked past the busy timeout
            raise StoreError(f"cannot write to the store {self._path!r}: {exc}") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            # Ids handed out inside the rolled-back transaction no longer exist.
            self._test_ids.clear()
            self._reason_ids.clear()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(f"cannot write to the store {self._path!r}: {exc}") from exc
            raise

    def _intern_tests(
        self, project: str, metas: Sequence[tuple[str, str, str, str, str, int | None]]
    ) -> list[int]:
        if sum(len(ids) for ids in self._test_ids.values()) > _CACHE_LIMIT:
            self._test_ids.clear()
        known = self._test_ids.setdefault(project, {})
        try:  # the common case: every test of this run was seen before
            return [known[meta[0]] for meta in metas]
        except KeyError:
            pass
        missing = [meta for meta in metas if meta[0] not in known]
        self._conn.executemany(
            "INSERT OR IGNORE INTO tests (project, uid, suite, name, classname, "
            "file, line) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(project, *meta) for meta in missing],
        )
        uids = [meta[0] for meta in missing]
        for start in range(0, len(uids), _IN_CHUNK):
            chunk = uids[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            known.update(
                self._conn.execute(
                    f"SELECT uid, id FROM tests WHERE project = ? AND uid IN ({marks})",
                    [project, *chunk],
                )
            )
        return [known[meta[0]] for meta in metas]

    def _intern_reasons(self, reasons: Iterable[str]) -> dict[str, int]:
        cache = self._reason_ids
        for reason in set(reasons):
            if reason not in cache:
                self._conn.execute(
                    "INSERT OR IGNORE INTO reasons (normalized) VALUES (?)", (reason,)
                )
                cache[reason] = self._conn.execute(
                    "SELECT id FROM reasons WHERE normalized = ?", (reason,)
                ).fetchone()[0]
        return cache

    # -- runs -------------------------------------------------------------------

    def runs(
        self,
        *,
        project: str | None = None,
        branch: str | None = None,
        build: str | None = None,
        limit: int | None = 50,
    ) -> list[RunSummary]:
        """List runs, newest first.

        Args:
            project: Only runs of this project.
            branch: Only runs of this branch.
            build: Only runs with this build tag (e.g. the shards of one build).
            limit: At most this many runs (``None`` for all).

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [run.label for run in store.runs(limit=2)]
        ['build 6', 'build 5']
        """
        where, params = _scope(project, branch)
        if build is not None:
            where += " AND build = ?"
            params.append(build)
        sql = f"SELECT {_RUN_COLUMNS} FROM runs WHERE {where} ORDER BY started_at DESC, id DESC"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [_run_summary(row) for row in self._conn.execute(sql, params)]

    def run(
        self, ref: RunRef = "latest", *, project: str | None = None, branch: str | None = None
    ) -> RunSummary:
        """Return one run.

        Args:
            ref: Run id, build tag, ``"latest"``, ``"previous"`` or ``"latest~N"``.
            project: Resolve ``latest`` and build tags inside this project.
            branch: Resolve ``latest`` and build tags inside this branch.

        Raises:
            RunNotFoundError: Nothing matches ``ref``.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> store.run("previous").label, store.run("2").commit
        ('build 5', 'c2')
        """
        run_id = self._resolve(ref, project, branch)
        row = self._conn.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        return _run_summary(row)

    def _resolve(self, ref: RunRef, project: str | None, branch: str | None) -> int:
        where, params = _scope(project, branch)
        text = str(ref).strip().lower()
        if text == "previous":
            text = "latest~1"
        latest = _LATEST.fullmatch(text)
        row: tuple[Any, ...] | None
        if isinstance(ref, int) and not isinstance(ref, bool):
            row = self._conn.execute("SELECT id FROM runs WHERE id = ?", (ref,)).fetchone()
        elif latest is not None:
            offset = int(latest.group(1) or 0)
            row = self._conn.execute(
                f"SELECT id FROM runs WHERE {where} ORDER BY started_at DESC, id DESC "
                "LIMIT 1 OFFSET ?",
                [*params, offset],
            ).fetchone()
        else:
            row = self._conn.execute(
                f"SELECT id FROM runs WHERE {where} AND build = ? "
                "ORDER BY started_at DESC, id DESC LIMIT 1",
                [*params, str(ref).strip()],
            ).fetchone()
            if row is None and text.lstrip("#").isdigit():
                row = self._conn.execute(
                    "SELECT id FROM runs WHERE id = ?", (int(text.lstrip("#")),)
                ).fetchone()
        if row is None:
            scope = "".join(
                f" {name} {value!r}"
                for name, value in (("in project", project), ("on branch", branch))
                if value is not None
            )
            raise RunNotFoundError(
                f"no run matches {ref!r}{scope}; use a run id, a build tag, "
                "'latest', 'previous' or 'latest~N' (see `maestro-results runs`)"
            )
        return int(row[0])

    def _previous(self, run_id: int) -> int | None:
        """The run before ``run_id`` on its project and branch, outside its build."""
        row = self._conn.execute(
            "SELECT prev.id FROM runs AS cur JOIN runs AS prev "
            "ON prev.project = cur.project AND prev.branch = cur.branch "
            "AND (prev.started_at < cur.started_at "
            "OR (prev.started_at = cur.started_at AND prev.id < cur.id)) "
            "AND (cur.build = '' OR prev.build != cur.build) "
            "WHERE cur.id = ? ORDER BY prev.started_at DESC, prev.id DESC LIMIT 1",
            (run_id,),
        ).fetchone()
        return None if row is None else int(row[0])

    def _build_results(self, run_id: int) -> dict[tuple[int, str], TestOutcome]:
        """The outcome of each test in each environment of ``run_id``'s build.

        The runs of a build share its project, branch and build tag (one per
        result file, shard or matrix leg); without a build tag the run stands
        alone. Within one environment the latest run that ran a test wins, so
        a re-run of a CI job replaces its earlier attempt.

        Returns:
            Outcomes keyed by ``(test id, environment)``, oldest run first.
        """
        project, branch, build, environment = self._conn.execute(
            "SELECT project, branch, build, environment FROM runs WHERE id = ?", (run_id,)
        ).fetchone()
        members: list[tuple[int, str]] = [(run_id, environment)]
        if build:
            members = self._conn.execute(
                "SELECT id, environment FROM runs WHERE project = ? AND branch = ? "
                "AND build = ? ORDER BY started_at, id",
                (project, branch, build),
            ).fetchall()
        merged: dict[tuple[int, str], TestOutcome] = {}
        for member, member_environment in members:
            for test_id, outcome in self._outcomes(member).items():
                merged[(test_id, member_environment)] = outcome
        return merged

    def _build_outcomes(self, run_id: int) -> dict[int, TestOutcome]:
        """One outcome per test of ``run_id``'s build, keyed by test id.

        A test that ran in several environments keeps its worst outcome
        (error, failed, passed, then the rest): a failing matrix leg fails it.
        """
        worst: dict[int, TestOutcome] = {}
        for (test_id, _), outcome in self._build_results(run_id).items():
            kept = worst.get(test_id)
            if kept is None or _SEVERITY.get(outcome.status, 0) > _SEVERITY.get(kept.status, 0):
                worst[test_id] = outcome
        return dict(sorted(worst.items()))

    def results(self, ref: RunRef = "latest", *, status: str | None = None) -> list[TestOutcome]:
        """Return the test results of one run, in stored order.

        Args:
            ref: The run (see :meth:`run`).
            status: Only results with this final status (``failed``, ...).

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [o.name for o in store.results("6", status="failed")]
        ['test_refund']
        """
        outcomes = self._outcomes(self._resolve(ref, None, None)).values()
        return [o for o in outcomes if status is None or o.status == status]

    def _outcomes(self, run_id: int, *, failing_only: bool = False) -> dict[int, TestOutcome]:
        """The results of one run keyed by test id, in stored order."""
        sql = _OUTCOMES_SQL + (" AND r.status IN ('failed', 'error')" if failing_only else "")
        rows = self._conn.execute(sql + " ORDER BY t.id", (run_id,))
        return {row[0]: _outcome(row) for row in rows}

    def load_run(self, ref: RunRef = "latest") -> TestRun:
        """Rebuild a stored run as a :class:`TestRun` (messages clipped to 64 KiB).

        >>> from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite
        >>> run = TestRun("jest", suites=[TestSuite("s", [TestResult("s::a", "a", Status.PASSED)])])
        >>> with ResultStore(":memory:") as store:
        ...     _ = store.ingest(run, use_ci_environment=False)
        ...     store.load_run().suites[0].tests[0].test_id
        's::a'
        """
        summary = self.run(ref)
        attempts: dict[int, list[Attempt]] = defaultdict(list)
        for test_id, status, duration, message in self._conn.execute(
            "SELECT test_id, status, duration, message FROM attempts WHERE run_id = ? "
            "ORDER BY test_id, number",
            (summary.id,),
        ):
            attempts[test_id].append(Attempt(Status(status), duration, message or None))
        suites: dict[str, TestSuite] = {}
        for row in self._conn.execute(
            "SELECT t.id, t.uid, t.suite, t.name, t.classname, t.file, t.line, r.status, "
            "r.duration, d.message, d.traceback, d.stdout, d.stderr FROM results AS r "
            "JOIN tests AS t ON t.id = r.test_id LEFT JOIN result_details AS d "
            "ON d.run_id = r.run_id AND d.test_id = r.test_id WHERE r.run_id = ? "
            "ORDER BY t.id",
            (summary.id,),
        ):
            suite = suites.setdefault(row[2], TestSuite(row[2]))
            suite.tests.append(
                TestResult(
                    test_id=row[1],
                    name=row[3],
                    status=Status(row[7]),
                    duration=row[8],
                    classname=row[4] or None,
                    file=row[5] or None,
                    line=row[6],
                    message=row[9] or None,
                    traceback=row[10] or None,
                    stdout=row[11] or None,
                    stderr=row[12] or None,
                    attempts=tuple(attempts.get(row[0], ())),
                )
            )
        return TestRun(
            summary.framework,
            started_at=datetime.fromisoformat(summary.started_at),
            duration=summary.duration,
            suites=list(suites.values()),
        )

    # -- aggregation ------------------------------------------------------------

    def tests(
        self,
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int = 50,
        limit: int | None = None,
    ) -> list[TestStats]:
        """Per-test statistics over the last ``last`` runs, least reliable first.

        Args:
            project: Only runs of this project.
            branch: Only runs of this branch.
            last: Size of the window of most recent runs.
            limit: At most this many tests.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> worst = store.tests(last=10)[0]
        >>> worst.name, round(worst.pass_rate, 2), worst.last_status
        ('test_refund', 0.67, 'failed')
        """
        window_sql, params = self._window_sql(project, branch, last)
        # Read in storage order (no sort of the whole window), group in Python.
        groups: dict[int, list[tuple[str, float, int]]] = defaultdict(list)
        last_seen: dict[int, tuple[int, str]] = {}
        for test_id, seq, status, duration, flaky in self._conn.execute(
            f"WITH win AS ({window_sql}) SELECT r.test_id, win.seq, r.status, r.duration, "
            "r.flaky FROM win JOIN results AS r ON r.run_id = win.id",
            params,
        ):
            groups[test_id].append((status, duration, flaky))
            if seq >= last_seen.get(test_id, (0, ""))[0]:
                last_seen[test_id] = (seq, status)
        names = self._test_names(groups)
        stats: list[TestStats] = []
        for test_id, group in groups.items():
            uid, suite, name = names[test_id]
            stats.append(
                TestStats(
                    uid=uid,
                    suite=suite,
                    name=name,
                    runs=len(group),
                    **_tally(group),
                    last_status=last_seen[test_id][1],
                )
            )
        stats.sort(key=lambda s: (s.pass_rate, -s.flaky, s.uid))
        return stats if limit is None else stats[:limit]

    def _test_names(self, test_ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
        ids = list(test_ids)
        names: dict[int, tuple[str, str, str]] = {}
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start : start + _IN_CHUNK]
            marks = ", ".join("?" * len(chunk))
            for test_id, uid, suite, name in self._conn.execute(
                f"SELECT id, uid, suite, name FROM tests WHERE id IN ({marks})", chunk
            ):
                names[test_id] = (uid, suite, name)
        return names

    def aggregate(
        self,
        by: Literal["project", "branch", "build"] = "branch",
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int | None = None,
    ) -> list[GroupStats]:
        """Totals, pass rate and run-duration median/p95 per project, branch or build.

        Args:
            by: The tag to group runs by.
            project: Only runs of this project.
            branch: Only runs of this branch.
            last: Only the most recent ``last`` runs (all when ``None``).

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(g.key, g.runs, g.failed) for g in store.aggregate("branch")]
        [('main', 6, 2)]
        """
        if by not in ("project", "branch", "build"):
            raise ValueError(f"by must be 'project', 'branch' or 'build', not {by!r}")
        groups: dict[str, list[RunSummary]] = defaultdict(list)
        for run in self.runs(project=project, branch=branch, limit=last):
            groups[getattr(run, by)].append(run)
        return [_group_stats(key, runs) for key, runs in groups.items()]

    def suites(self, ref: RunRef = "latest") -> list[GroupStats]:
        """Per-suite counts, pass rate and test-duration median/p95 of one run.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(s.key, s.total, s.failed) for s in store.suites("6")]
        [('shop', 4, 1)]
        """
        return _suite_stats(self.results(ref))

    def slowest(self, ref: RunRef = "latest", *, limit: int = 10) -> list[TestOutcome]:
        """The ``limit`` slowest tests of one run, slowest first.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(o.name, o.duration) for o in store.slowest("6", limit=1)]
        [('test_search', 2.0)]
        """
        results = self.results(ref)
        results.sort(key=lambda r: (-r.duration, r.uid))
        return results[:limit]

    def failure_reasons(self, ref: RunRef = "latest") -> list[FailureGroup]:
        """Failures and errors of one run grouped by normalised message, largest first.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(g.reason, g.count) for g in store.failure_reasons()]
        [('AssertionError: <n> != <n>', 1)]
        """
        run_id = self._resolve(ref, None, None)
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for reason, uid, message in self._conn.execute(
            "SELECT rs.normalized, t.uid, d.message FROM results AS r "
            "JOIN result_details AS d ON d.run_id = r.run_id AND d.test_id = r.test_id "
            "JOIN reasons AS rs ON rs.id = d.reason_id JOIN tests AS t ON t.id = r.test_id "
            "WHERE r.run_id = ? AND r.status IN ('failed', 'error') ORDER BY t.id",
            (run_id,),
        ):
            groups[reason].append((uid, message))
        result = [
            FailureGroup(reason, len(items), tuple(uid for uid, _ in items), items[0][1])
            for reason, items in groups.items()
        ]
        result.sort(key=lambda g: (-g.count, g.reason))
        return result

    # -- analysis ---------------------------------------------------------------

    def trend(
        self,
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int = 50,
        infra_threshold: float = 0.5,
    ) -> list[TrendPoint]:
        """Pass rate and duration of the last ``last`` runs, oldest first.

        Args:
            project: Only runs of this project.
            branch: Only runs of this branch.
            last: Number of most recent runs.
            infra_threshold: Runs where more than this share of executed tests
                failed are flagged ``infrastructure_failure``.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(p.label, p.pass_rate) for p in store.trend(last=3)]
        [('build 4', 1.0), ('build 5', 0.75), ('build 6', 0.75)]
        """
        runs = self.runs(project=project, branch=branch, limit=last)
        return [
            TrendPoint(
                run_id=run.id,
                label=run.label,
                started_at=run.started_at,
                total=run.total,
                failed=run.failed,
                errors=run.errors,
                skipped=run.skipped,
                flaky=run.flaky,
                pass_rate=run.pass_rate,
                duration=run.duration,
                infrastructure_failure=1 - run.pass_rate > infra_threshold,
            )
            for run in reversed(runs)
        ]

    def test_history(
        self,
        uid: str,
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int = 50,
    ) -> list[TestOutcome]:
        """Status and duration of one test in each of the last ``last`` runs, oldest first.

        Runs in which the test did not run are left out.

        Args:
            uid: The test id, as in :attr:`TestOutcome.uid`.
            project: Only runs of this project.
            branch: Only runs of this branch.
            last: Size of the window of most recent runs.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(o.run_id, o.duration) for o in store.test_history("shop::test_search", last=3)]
        [(4, 0.5), (5, 0.5), (6, 2.0)]
        """
        window_sql, params = self._window_sql(project, branch, last)
        # Find the test once, then one primary-key lookup (run_id, test_id) per run.
        rows = self._conn.execute(
            f"WITH win AS ({window_sql}) SELECT r.test_id, r.run_id, t.uid, t.suite, t.name, "
            "r.status, r.duration, r.attempts, r.flaky, COALESCE(d.message, '') "
            "FROM tests AS t CROSS JOIN win CROSS JOIN results AS r "
            "LEFT JOIN result_details AS d ON d.run_id = r.run_id AND d.test_id = r.test_id "
            "WHERE t.uid = ? AND (? IS NULL OR t.project = ?) "
            "AND r.run_id = win.id AND r.test_id = t.id ORDER BY win.seq",
            [*params, uid, project, project],
        )
        return [_outcome(row) for row in rows]

    def flaky(
        self,
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int = 30,
        infra_threshold: float = 0.5,
        limit: int | None = None,
    ) -> list[FlakyTest]:
        """Flaky tests of the last ``last`` runs, highest flip rate first.

        A test is flaky when, inside the window, it failed and then passed on
        retry within one run, or both passed and failed on the same commit.
        Runs where more than ``infra_threshold`` of the executed tests failed
        are treated as infrastructure failures and left out. The flip rate is
        the share of consecutive executions (each attempt inside a run, then
        run after run) whose outcome differed.

        Args:
            project: Only runs of this project.
            branch: Only runs of this branch.
            last: Size of the window of most recent runs.
            infra_threshold: Failing share above which a run is left out.
            limit: At most this many tests.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(f.name, f.retried_runs, round(f.flip_rate, 2)) for f in store.flaky()]
        [('test_login', 2, 0.57)]
        """
        window_sql, params = self._window_sql(project, branch, last, infra_threshold)
        sql = f"""
            WITH win AS MATERIALIZED ({window_sql}),
            -- Only tests that failed or were retried in the window can be
            -- flaky: the partial index finds them without reading every
            -- result, then their history is fetched by primary key.
            candidates AS MATERIALIZED (
                SELECT DISTINCT r.test_id
                FROM win JOIN results AS r INDEXED BY results_unsteady ON r.run_id = win.id
                WHERE (r.status IN ('failed', 'error') OR r.flaky)
            ),
            obs AS MATERIALIZED (
                SELECT r.test_id, win.seq, win.id AS run_id, win.commit_sha,
                       r.flaky, r.attempts, (r.status = 'passed') AS ok
                FROM candidates AS c CROSS JOIN win CROSS JOIN results AS r
                WHERE r.run_id = win.id AND r.test_id = c.test_id
                  AND r.status IN ('passed', 'failed', 'error')
            ),
            seqd AS (
                SELECT *, LAG(ok) OVER (PARTITION BY test_id ORDER BY seq) AS prev_ok
                FROM obs
            ),
            per_test AS (
                SELECT test_id, COUNT(*) AS runs, SUM(1 - ok) AS failures,
                       SUM(flaky) AS retried, SUM(attempts) AS executions,
                       SUM(flaky) + SUM(prev_ok IS NOT NULL
                           AND prev_ok != CASE WHEN flaky THEN 0 ELSE ok END) AS flips,
                       MAX(CASE WHEN flaky THEN seq END) AS last_retry_seq
                FROM seqd GROUP BY test_id
            ),
            commits AS (
                SELECT test_id, commit_sha, MAX(seq) AS seq FROM obs
                WHERE commit_sha != ''
                GROUP BY test_id, commit_sha HAVING MIN(ok) = 0 AND MAX(ok) = 1
            ),
            per_commit AS (
                SELECT test_id, COUNT(*) AS conflicts, MAX(seq) AS last_seq
                FROM commits GROUP BY test_id
            )
            SELECT t.uid, t.suite, t.name, p.runs, p.failures, p.retried,
                   p.executions, p.flips, COALESCE(c.conflicts, 0),
                   MAX(COALESCE(p.last_retry_seq, 0), COALESCE(c.last_seq, 0))
            FROM per_test AS p JOIN tests AS t ON t.id = p.test_id
            LEFT JOIN per_commit AS c ON c.test_id = p.test_id
            WHERE p.retried > 0 OR c.conflicts > 0
        """
        seq_to_run = {
            seq: run_id
            for run_id, seq in self._conn.execute(f"SELECT id, seq FROM ({window_sql})", params)
        }
        found = [
            FlakyTest(
                uid=uid,
                suite=suite,
                name=name,
                flip_rate=flips / (executions - 1) if executions > 1 else 0.0,
                retried_runs=retried,
                same_commit_flips=conflicts,
                runs=runs,
                failures=failures,
                last_flaky_run=seq_to_run.get(last_seq, 0),
            )
            for (
                uid,
                suite,
                name,
                runs,
                failures,
                retried,
                executions,
                flips,
                conflicts,
                last_seq,
            ) in self._conn.execute(sql, params)
        ]
        found.sort(key=lambda f: (-f.flip_rate, -f.retried_runs, f.uid))
        return found if limit is None else found[:limit]

    def _window_sql(
        self,
        project: str | None,
        branch: str | None,
        last: int,
        infra_threshold: float | None = None,
    ) -> tuple[str, list[Any]]:
        """SQL selecting (id, commit_sha, seq) of the window, seq 1 = oldest."""
        where, params = _scope(project, branch)
        sql = (
            "SELECT id, commit_sha, ROW_NUMBER() OVER (ORDER BY started_at, id) AS seq "
            f"FROM (SELECT id, commit_sha, started_at, total, failed, errors, skipped, "
            f"xfailed FROM runs WHERE {where} ORDER BY started_at DESC, id DESC "
            f"LIMIT {int(last)})"
        )
        if infra_threshold is not None:
            sql += " WHERE (failed + errors) <= ? * MAX(total - skipped - xfailed, 1)"
            params.append(infra_threshold)
        return sql, params

    def regressions(
        self,
        ref: RunRef = "latest",
        *,
        baseline_runs: int = 10,
        threshold: float = 0.2,
        min_delta: float = 0.05,
        noise_factor: float = 3.0,
        min_samples: int = 3,
        baseline_branch: str | None = None,
    ) -> list[DurationRegression]:
        """Tests of one run slower than their baseline by more than the noise.

        The baseline is the passing durations of each test in the
        ``baseline_runs`` runs before ``ref`` on the same project and on
        ``baseline_branch`` (by default the branch of ``ref``; name ``main`` to
        judge a pull request against the main line).
        A test regressed when its duration exceeds the baseline median by more
        than ``threshold`` (relative), more than ``min_delta`` seconds, and
        more than ``noise_factor`` times the baseline's median absolute
        deviation, with at least ``min_samples`` baseline samples.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(r.name, r.ratio) for r in store.regressions()]
        [('test_search', 4.0)]
        """
        head = self.run(ref)
        rows = self._conn.execute(
            "WITH base AS (SELECT id FROM runs WHERE project = ? AND branch = ? "
            "AND (started_at < ? OR (started_at = ? AND id < ?)) "
            "ORDER BY started_at DESC, id DESC LIMIT ?) "
            "SELECT r.test_id, r.duration FROM base JOIN results AS r "
            "ON r.run_id = base.id WHERE r.status = 'passed'",
            (
                head.project,
                head.branch if baseline_branch is None else baseline_branch,
                head.started_at,
                head.started_at,
                head.id,
                baseline_runs,
            ),
        )
        baseline: dict[int, list[float]] = defaultdict(list)
        for test_id, duration in rows:
            baseline[test_id].append(duration)
        found = []
        for test_id, uid, suite, name, duration in self._conn.execute(
            "SELECT r.test_id, t.uid, t.suite, t.name, r.duration FROM results AS r "
            "JOIN tests AS t ON t.id = r.test_id WHERE r.run_id = ? AND r.status = 'passed'",
            (head.id,),
        ):
            samples = baseline.get(test_id, [])
            if len(samples) < min_samples:
                continue
            center = median(samples)
            spread = median_absolute_deviation(samples)
            excess = duration - center
            if (
                excess > threshold * center
                and excess > min_delta
                and excess > noise_factor * spread
            ):
                found.append(
                    DurationRegression(uid, suite, name, duration, center, spread, len(samples))
                )
        found.sort(key=lambda r: (-(r.duration - r.baseline_median), r.uid))
        return found

    def diff(self, base: RunRef | None = None, head: RunRef = "latest") -> RunDiff:
        """Compare two runs: new failures, fixed, still failing, new and removed tests.

        A run with a build tag stands for its whole build: the runs with the
        same project, branch and build (one per result file, shard or matrix
        leg) are compared together. A re-run in the same environment replaces
        the earlier attempt's results; a test failing in any environment
        fails the build.

        Args:
            base: The earlier run; by default the run before ``head``'s build
                on the same project and branch.
            head: The later run.

        Raises:
            RunNotFoundError: A reference matches nothing, or ``head`` has no
                earlier run to compare with.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> diff = store.diff("4", "6")
        >>> [c.name for c in diff.new_failures], diff.has_new_failures
        (['test_refund'], True)
        """
        head_id = self._resolve(head, None, None)
        if base is None:
            base_id = self._previous(head_id)
            if base_id is None:
                raise RunNotFoundError(
                    f"run #{head_id} has no earlier run on its project and branch "
                    "(outside its own build); name the base run explicitly"
                )
        else:
            base_id = self._resolve(base, None, None)
        base_rows = self._build_outcomes(base_id)
        head_rows = self._build_outcomes(head_id)
        new_failures: list[TestChange] = []
        fixed: list[TestChange] = []
        still: list[TestChange] = []
        added: list[TestChange] = []
        removed: list[TestChange] = []
        for test_id, now in head_rows.items():
            before = base_rows.get(test_id)
            before_status = None if before is None else before.status
            change = TestChange(
                now.uid, now.suite, now.name, before_status, now.status, now.message
            )
            if before is None:
                added.append(change)
            if now.status in _FAILING:
                (still if before_status in _FAILING else new_failures).append(change)
            elif before_status in _FAILING:
                fixed.append(change)
        for test_id, gone in base_rows.items():
            if test_id not in head_rows:
                removed.append(
                    TestChange(gone.uid, gone.suite, gone.name, gone.status, None, gone.message)
                )
        return RunDiff(
            base_id,
            head_id,
            tuple(new_failures),
            tuple(fixed),
            tuple(still),
            tuple(added),
            tuple(removed),
        )

    def failure_ages(self, ref: RunRef = "latest") -> list[FailureAge]:
        """For each failing test of a run, since when it has been failing.

        The streak walks back through earlier runs of the same project and
        branch; runs where the test was skipped or absent do not break it.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> [(a.name, a.since_label, a.streak) for a in store.failure_ages()]
        [('test_refund', 'build 5', 2)]
        """
        head = self.run(ref)
        failing = self._outcomes(head.id, failing_only=True)
        if not failing:
            return []
        history = self._conn.execute(
            "SELECT r.test_id, runs.id, runs.build, runs.started_at, r.status "
            "FROM runs JOIN results AS r ON r.run_id = runs.id "
            "WHERE runs.project = ? AND runs.branch = ? AND (runs.started_at < ? "
            "OR (runs.started_at = ? AND runs.id <= ?)) "
            "AND r.test_id IN (SELECT test_id FROM results WHERE run_id = ? "
            "AND status IN ('failed', 'error')) "
            "AND r.status IN ('passed', 'failed', 'error', 'xpassed') "
            "ORDER BY r.test_id, runs.started_at DESC, runs.id DESC",
            (head.project, head.branch, head.started_at, head.started_at, head.id, head.id),
        )
        ages = []
        streaks: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        broken: set[int] = set()
        for test_id, run_id, build, started_at, status in history:
            if test_id in broken:
                continue
            if status in _FAILING:
                streaks[test_id].append((run_id, build, started_at))
            else:
                broken.add(test_id)
        for test_id, now in failing.items():
            streak = streaks.get(test_id) or [(head.id, head.build, head.started_at)]
            first_id, first_build, first_time = streak[-1]
            ages.append(
                FailureAge(
                    uid=now.uid,
                    suite=now.suite,
                    name=now.name,
                    status=now.status,
                    since_run=first_id,
                    since_label=f"build {first_build}" if first_build else f"run #{first_id}",
                    since_time=first_time,
                    streak=len(streak),
                    message=now.message,
                )
            )
        ages.sort(key=lambda a: (-a.streak, a.uid))
        return ages

    # -- reports ----------------------------------------------------------------

    def report(
        self,
        format: Literal["html", "md", "json", "junit", "csv"] = "html",
        *,
        output: str | os.PathLike[str] | None = None,
        project: str | None = None,
        branch: str | None = None,
        last: int = 50,
    ) -> str:
        """Render a report of the latest run and the recent history.

        Args:
            format: ``html`` (self-contained page with SVG charts), ``md``
                (fits a CI job summary), ``json``, ``junit`` (the runs of the
                latest build merged into one JUnit XML) or ``csv``.
            output: Also write the report to this file (UTF-8).
            project: Report on this project only.
            branch: Report on this branch only.
            last: Number of recent runs in the trends and flaky ranking.

        Returns:
            The report text.

        Raises:
            RunNotFoundError: The store (or the scope) holds no run.

        >>> from maestro_test_result_aggregator._examples import demo_store
        >>> store = demo_store()  # builds 1-6, see its docstring
        >>> print(store.report("md").splitlines()[0])
        ## ❌ Test results — build 6
        """
        from maestro_test_result_aggregator import reports

        text = reports.render(self, format, project=project, branch=branch, last=last)
        if output is not None:
            Path(output).write_text(text, encoding="utf-8")
        return text

    def to_dataframe(
        self,
        kind: Literal["runs", "results"] = "runs",
        *,
        project: str | None = None,
        branch: str | None = None,
        last: int | None = None,
    ) -> Any:
        """A pandas DataFrame of runs or of test results (``analytics`` extra).

        See :func:`maestro_test_result_aggregator.analytics.to_dataframe`.

        Raises:
            MissingExtraError: pandas is not installed.
        """
        from maestro_test_result_aggregator.analytics import to_dataframe

        return to_dataframe(self, kind, project=project, branch=branch, last=last)

    def connection(self) -> sqlite3.Connection:
        """The underlying SQLite connection, for ad-hoc read queries."""
        return self._conn


@dataclass(frozen=True)
class _RunMeta:
    framework: str
    started_at: datetime | None
    duration: float
    environment: dict[str, str]


def _attempt(step: Callable[[], IngestedRun]) -> IngestedRun | IngestError:
    try:
        return step()
    except IngestError as exc:
        return exc


@dataclass
class _Parsed:
    """A file read up to its first batch (all of it, in a worker process)."""

    format: str
    meta: _RunMeta
    builder: _ingest.RowBuilder
    exhausted: bool
    rest: Iterator[tuple[TestSuite, TestResult]]


def _read(path: Path, format: str | None, limit: int) -> _Parsed:
    opened = _reading.open_results(path, format)
    meta = _RunMeta(opened.framework, opened.started_at, opened.duration, opened.environment)
    builder = _ingest.RowBuilder()
    exhausted = _fill(builder, opened.pairs, str(path), limit)
    return _Parsed(opened.format, meta, builder, exhausted, opened.pairs)


def _fits_a_worker(path: Path) -> bool:
    try:
        return path.stat().st_size <= _reading.STREAM_THRESHOLD
    except OSError:
        return True  # the worker reports the error


def _read_elsewhere(job: tuple[Path, str | None]) -> _Parsed | IngestError:
    """Worker process: read a whole (not too big) file into rows."""
    path, format = job
    try:
        parsed = _read(path, format, sys.maxsize)
    except IngestError as exc:
        return exc
    parsed.rest = iter(())  # generators do not cross process boundaries
    return parsed


def _fill(
    builder: _ingest.RowBuilder,
    pairs: Iterator[tuple[TestSuite, TestResult]],
    source: str,
    limit: int,
) -> bool:
    """Add up to ``limit`` pairs to ``builder``; return whether input ended."""
    try:
        return builder.fill(pairs, limit)
    except _reading.READ_ERRORS as exc:
        raise IngestError(source, _reading.describe(exc, source)) from exc


def _scope(project: str | None, branch: str | None) -> tuple[str, list[Any]]:
    clauses = ["1"]
    params: list[Any] = []
    if project is not None:
        clauses.append("project = ?")
        params.append(project)
    if branch is not None:
        clauses.append("branch = ?")
        params.append(branch)
    return " AND ".join(clauses), params


def _run_summary(row: Sequence[Any]) -> RunSummary:
    return RunSummary(*row)


def _outcome(row: Sequence[Any]) -> TestOutcome:
    """A TestOutcome from a row of the columns of ``_OUTCOMES_SQL``."""
    return TestOutcome(row[1], row[2], row[3], row[4], row[5], row[6], row[7], bool(row[8]), row[9])


class _Tally(TypedDict):
    """The fields :class:`TestStats` and :class:`GroupStats` share, by those names."""

    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    pass_rate: float
    median_duration: float
    p95_duration: float


def _tally(items: Iterable[tuple[str, float, int]]) -> _Tally:
    """Counts, pass rate and duration percentiles of (status, duration, flaky) items."""
    counts: dict[str, int] = defaultdict(int)
    durations: list[float] = []
    flaky_total = 0
    for status, duration, flaky in items:
        counts[status] += 1
        flaky_total += flaky
        if status not in _NOT_EXECUTED:
            durations.append(duration)
    durations.sort()
    return _Tally(
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["error"],
        skipped=counts["skipped"],
        flaky=flaky_total,
        pass_rate=pass_rate(len(durations), counts["failed"] + counts["error"]),
        median_duration=percentile(durations, 0.5),
        p95_duration=percentile(durations, 0.95),
    )


def _suite_stats(outcomes: Iterable[TestOutcome]) -> list[GroupStats]:
    """Per-suite counts, pass rate and test-duration median/p95 of some results."""
    per_suite: dict[str, list[tuple[str, float, int]]] = defaultdict(list)
    for outcome in outcomes:
        per_suite[outcome.suite].append((outcome.status, outcome.duration, int(outcome.flaky)))
    return [
        GroupStats(key=suite, runs=1, total=len(items), **_tally(items))
        for suite, items in per_suite.items()
    ]


def _group_stats(key: str, runs: list[RunSummary]) -> GroupStats:
    durations = sorted(run.duration for run in runs)
    executed = sum(run.executed for run in runs)
    failing = sum(run.failed + run.errors for run in runs)
    return GroupStats(
        key=key,
        runs=len(runs),
        total=sum(run.total for run in runs),
        passed=sum(run.passed for run in runs),
        failed=sum(run.failed for run in runs),
        errors=sum(run.errors for run in runs),
        skipped=sum(run.skipped for run in runs),
        flaky=sum(run.flaky for run in runs),
        pass_rate=pass_rate(executed, failing),
        median_duration=percentile(durations, 0.5),
        p95_duration=percentile(durations, 0.95),
    )
