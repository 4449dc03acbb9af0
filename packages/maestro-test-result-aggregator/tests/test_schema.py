"""Schema versions and forward migrations, from every earlier version."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aggregator_testing import make_run
from maestro_test_result_aggregator import ResultStore, StoreError, StoreVersionError, _schema


def _database_at(path: Path, version: int) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    _schema.migrate(conn, target=version)
    assert _schema.schema_version(conn) == version
    return conn


def _fill_v1(conn: sqlite3.Connection) -> None:
    """Rows as release 1 of the schema wrote them (no reasons yet)."""
    conn.execute(
        "INSERT INTO runs VALUES (1, 'hash', 'a.xml', 'junit', 'shop', 'main', 'abc', '7', '', "
        "'', '2026-11-01T08:00:00+00:00', '2026-11-01T09:00:00+00:00', 'pytest', 2.0, "
        "3, 1, 2, 0, 0, 0, 0, 0, '{}')"
    )
    conn.executemany(
        "INSERT INTO tests (id, project, uid, suite, name, classname, file, line) "
        "VALUES (?, 'shop', ?, 's', ?, 's', '', NULL)",
        [(1, "s::a", "a"), (2, "s::b", "b"), (3, "s::c", "c")],
    )
    conn.executemany(
        "INSERT INTO results VALUES (1, ?, ?, 1.0, 1, 0)",
        [(1, "passed"), (2, "failed"), (3, "failed")],
    )
    conn.executemany(
        "INSERT INTO result_details VALUES (1, ?, ?, '', '', '')",
        [(2, "Timeout after 100 ms"), (3, "Timeout after 250 ms")],
    )


@pytest.mark.parametrize("version", range(1, _schema.SCHEMA_VERSION))
def test_every_earlier_version_migrates_and_keeps_its_data(tmp_path: Path, version: int) -> None:
    path = tmp_path / "old.db"
    conn = _database_at(path, 1)
    _fill_v1(conn)
    _schema.migrate(conn, target=version)
    conn.close()

    with ResultStore(path) as store:
        assert store.schema_version == _schema.SCHEMA_VERSION
        run = store.run("7")
        assert (run.project, run.total, run.failed) == ("shop", 3, 2)
        # v2 back-fills the normalised reasons of stored failures.
        (group,) = store.failure_reasons()
        assert (group.reason, group.count) == ("Timeout after <n> ms", 2)
        # The migrated store takes new runs.
        store.ingest(make_run({"a": "passed"}, started=5), use_ci_environment=False)
        assert len(store.runs()) == 2


def test_migrations_are_numbered_one_step_at_a_time() -> None:
    assert [m.version for m in _schema.MIGRATIONS] == list(range(1, _schema.SCHEMA_VERSION + 1))


def _journal_mode(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        conn.close()


def test_a_store_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {_schema.SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreVersionError, match="upgrade the package"):
        ResultStore(path)
    assert _journal_mode(path) == "delete"  # refused before anything is written


def test_a_foreign_database_is_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE customers (id INTEGER)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="customers"):
        ResultStore(path)
    conn = sqlite3.connect(path)
    tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_master")]
    conn.close()
    assert tables == ["customers"]
    assert _journal_mode(path) == "delete"  # not switched to WAL behind the owner's back


def test_a_failed_migration_leaves_the_previous_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "v1.db"
    conn = _database_at(path, 1)
    _fill_v1(conn)

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("disk on fire")

    steps = (*_schema.MIGRATIONS[:1], _schema.Migration(2, "broken", broken))
    monkeypatch.setattr(_schema, "MIGRATIONS", steps)
    with pytest.raises(RuntimeError):
        _schema.migrate(conn)
    assert _schema.schema_version(conn) == 1
    assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'half_done'").fetchall() == []
