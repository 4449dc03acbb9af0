"""SQLite schema of the result store and its forward migrations.

The schema version lives in ``PRAGMA user_version``. Every migration moves the
database from version ``n - 1`` to ``n`` inside one write transaction, so a
crash in the middle leaves the previous version intact. Migrations only ever
move forward; a database written by a newer release is refused instead of
being silently misread.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass

from maestro_test_result_aggregator._normalize import normalize_message
from maestro_test_result_aggregator.errors import StoreError, StoreVersionError

_V1 = """
CREATE TABLE runs (
    id           INTEGER PRIMARY KEY,
    content_hash TEXT    NOT NULL UNIQUE,
    source       TEXT    NOT NULL,
    format       TEXT    NOT NULL,
    project      TEXT    NOT NULL,
    branch       TEXT    NOT NULL,
    commit_sha   TEXT    NOT NULL,
    build        TEXT    NOT NULL,
    ci_url       TEXT    NOT NULL,
    environment  TEXT    NOT NULL,
    started_at   TEXT    NOT NULL,
    ingested_at  TEXT    NOT NULL,
    framework    TEXT    NOT NULL,
    duration     REAL    NOT NULL,
    total        INTEGER NOT NULL,
    passed       INTEGER NOT NULL,
    failed       INTEGER NOT NULL,
    errors       INTEGER NOT NULL,
    skipped      INTEGER NOT NULL,
    xfailed      INTEGER NOT NULL,
    xpassed      INTEGER NOT NULL,
    flaky        INTEGER NOT NULL,
    properties   TEXT    NOT NULL
);
-- Every history query walks runs newest first inside one project/branch.
CREATE INDEX runs_by_scope_time ON runs (project, branch, started_at, id);
CREATE INDEX runs_by_time ON runs (started_at, id);
CREATE INDEX runs_by_commit ON runs (project, commit_sha);

-- One row per test identity; results point here so names are stored once.
CREATE TABLE tests (
    id      INTEGER PRIMARY KEY,
    project TEXT    NOT NULL,
    uid     TEXT    NOT NULL,
    suite   TEXT    NOT NULL,
    name      TEXT    NOT NULL,
    classname TEXT    NOT NULL,
    file      TEXT    NOT NULL,
    line      INTEGER,
    UNIQUE (project, uid)
);

-- Clustered by run: every query reads whole runs (diff, report, trend) or a
-- window of recent runs (flaky, failure age), so a run is one range scan.
-- There is deliberately no (test_id, run_id) index: each run would touch
-- a leaf page per test and multiply the bytes written by every ingest.
CREATE TABLE results (
    run_id   INTEGER NOT NULL REFERENCES runs (id),
    test_id  INTEGER NOT NULL REFERENCES tests (id),
    status   TEXT    NOT NULL,
    duration REAL    NOT NULL,
    attempts INTEGER NOT NULL,
    flaky    INTEGER NOT NULL,
    PRIMARY KEY (run_id, test_id)
) WITHOUT ROWID;

-- Text of non-passing results only, so the hot table stays narrow.
CREATE TABLE result_details (
    run_id    INTEGER NOT NULL,
    test_id   INTEGER NOT NULL,
    message   TEXT    NOT NULL,
    traceback TEXT    NOT NULL,
    stdout    TEXT    NOT NULL,
    stderr    TEXT    NOT NULL,
    PRIMARY KEY (run_id, test_id)
) WITHOUT ROWID;

CREATE TABLE attempts (
    run_id   INTEGER NOT NULL,
    test_id  INTEGER NOT NULL,
    number   INTEGER NOT NULL,
    status   TEXT    NOT NULL,
    duration REAL    NOT NULL,
    message  TEXT    NOT NULL,
    PRIMARY KEY (run_id, test_id, number)
) WITHOUT ROWID;

CREATE TABLE attachments (
    run_id     INTEGER NOT NULL,
    test_id    INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    path       TEXT    NOT NULL,
    media_type TEXT    NOT NULL
);
CREATE INDEX attachments_by_result ON attachments (run_id, test_id);
"""

# Version 2 groups failure messages (a table of normalised reasons and a
# reference from each failing result, back-filled from the stored messages)
# and indexes the few unsteady results (failed, errored or retried), so flaky
# detection starts from them instead of reading every result of the window.
_V2 = """
CREATE INDEX results_unsteady ON results (run_id, test_id)
    WHERE status IN ('failed', 'error') OR flaky;
CREATE TABLE reasons (
    id         INTEGER PRIMARY KEY,
    normalized TEXT NOT NULL UNIQUE
);
ALTER TABLE result_details ADD COLUMN reason_id INTEGER REFERENCES reasons (id);
CREATE INDEX result_details_by_reason ON result_details (reason_id);
"""


def _apply_v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, _V1)


def _apply_v2(conn: sqlite3.Connection) -> None:
    _run_script(conn, _V2)
    messages = conn.execute("SELECT run_id, test_id, message FROM result_details").fetchall()
    reason_ids: dict[str, int] = {}
    updates: list[tuple[int, int, int]] = []
    for run_id, test_id, message in messages:
        normalized = normalize_message(message)
        reason_id = reason_ids.get(normalized)
        if reason_id is None:
            reason_id = conn.execute(
                "INSERT INTO reasons (normalized) VALUES (?) RETURNING id",
                (normalized,),
            ).fetchone()[0]
            reason_ids[normalized] = reason_id
        updates.append((reason_id, run_id, test_id))
    conn.executemany(
        "UPDATE result_details SET reason_id = ? WHERE run_id = ? AND test_id = ?",
        updates,
    )


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our transaction: run statement by statement
    # (statements end with ";" at the end of a line; comments never do).
    for statement in script.split(";\n"):
        if statement.strip():
            conn.execute(statement)


@dataclass(frozen=True)
class Migration:
    """One forward step of the schema: from ``version - 1`` to ``version``."""

    version: int
    description: str
    apply: Callable[[sqlite3.Connection], None]


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "runs, tests, results, details, attempts, attachments", _apply_v1),
    Migration(2, "normalised failure reasons (back-filled), unsteady-results index", _apply_v2),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def schema_version(conn: sqlite3.Connection) -> int:
    """Return the schema version recorded in the database (0 when empty)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def refuse_unknown(conn: sqlite3.Connection) -> None:
    """Refuse a database this release must not open, before anything is written to it.

    Raises:
        StoreVersionError: It was written by a newer release.
        StoreError: It is an SQLite database of something else.
    """
    version = schema_version(conn)
    if version > SCHEMA_VERSION:
        raise StoreVersionError(
            f"the store has schema version {version} but this release of "
            f"maestro-test-result-aggregator knows only up to {SCHEMA_VERSION}; "
            "upgrade the package to read it"
        )
    if version == 0:
        _refuse_foreign_database(conn)


def migrate(conn: sqlite3.Connection, target: int = SCHEMA_VERSION) -> int:
    """Bring the database up to ``target``; return the version it started at.

    Safe against several processes opening a new store at once: the version is
    read again after the write lock is taken, so only one of them migrates.

    Raises:
        StoreVersionError: The database was written by a newer release.
        StoreError: The database holds tables that are not a result store.
    """
    refuse_unknown(conn)
    start = schema_version(conn)
    if start >= target:
        return start
    conn.execute("BEGIN IMMEDIATE")
    try:
        current = schema_version(conn)
        if current == 0:
            _refuse_foreign_database(conn)
        for migration in MIGRATIONS:
            if current < migration.version <= target:
                migration.apply(conn)
                conn.execute(f"PRAGMA user_version = {migration.version:d}")
                current = migration.version
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return start


def _refuse_foreign_database(conn: sqlite3.Connection) -> None:
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    if tables:
        raise StoreError(
            "the database already holds tables that are not a result store "
            f"({', '.join(sorted(tables)[:5])}); point --db at a new file"
        )
