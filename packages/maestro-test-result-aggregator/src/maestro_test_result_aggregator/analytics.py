"""pandas DataFrames of the history (needs the ``analytics`` extra).

Install with ``pip install 'maestro-test-result-aggregator[analytics]'``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from maestro_test_result_aggregator.errors import MissingExtraError

if TYPE_CHECKING:
    from maestro_test_result_aggregator.store import ResultStore

_RUN_QUERY = (
    "SELECT id AS run_id, project, branch, commit_sha AS 'commit', build, ci_url, "
    "environment, started_at, framework, source, format, duration, total, passed, "
    "failed, errors, skipped, xfailed, xpassed, flaky FROM runs WHERE {where} "
    "ORDER BY started_at, id"
)
_RESULT_QUERY = (
    "SELECT r.run_id, runs.project, runs.branch, runs.commit_sha AS 'commit', runs.build, "
    "runs.started_at, t.uid AS test_id, t.suite, t.name, r.status, r.duration, r.attempts, "
    "r.flaky, COALESCE(d.message, '') AS message FROM runs JOIN results AS r "
    "ON r.run_id = runs.id JOIN tests AS t ON t.id = r.test_id LEFT JOIN result_details "
    "AS d ON d.run_id = r.run_id AND d.test_id = r.test_id WHERE {where} "
    "ORDER BY runs.started_at, runs.id, t.id"
)


def to_dataframe(
    store: ResultStore,
    kind: Literal["runs", "results"] = "runs",
    *,
    project: str | None = None,
    branch: str | None = None,
    last: int | None = None,
) -> Any:
    """Return runs (one row per run) or results (one row per test per run).

    ``started_at`` is parsed to timezone-aware timestamps and ``flaky`` to
    booleans.

    Args:
        store: The store to read.
        kind: ``"runs"`` or ``"results"``.
        project: Only runs of this project.
        branch: Only runs of this branch.
        last: Only the most recent ``last`` runs (all when ``None``).

    Raises:
        MissingExtraError: pandas is not installed.
        ValueError: Unknown ``kind``.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> frame = to_dataframe(demo_store(), "results", last=2)
    >>> frame.groupby("name")["duration"].max().to_dict()["test_search"]
    2.0
    """
    try:
        import pandas as pd
    except ImportError as exc:
        raise MissingExtraError(
            "to_dataframe() needs pandas: pip install 'maestro-test-result-aggregator[analytics]'"
        ) from exc
    if kind not in ("runs", "results"):
        raise ValueError(f"kind must be 'runs' or 'results', not {kind!r}")
    clauses = ["1"]
    params: list[Any] = []
    for column, value in (("project", project), ("branch", branch)):
        if value is not None:
            clauses.append(f"runs.{column} = ?")
            params.append(value)
    if last is not None:
        clauses.append(
            "runs.id IN (SELECT id FROM runs AS w WHERE "
            + " AND ".join(c.replace("runs.", "w.") for c in clauses)
            + f" ORDER BY w.started_at DESC, w.id DESC LIMIT {int(last)})"
        )
        params = params + params
    query = (_RUN_QUERY if kind == "runs" else _RESULT_QUERY).format(where=" AND ".join(clauses))
    if kind == "runs":
        query = query.replace("FROM runs WHERE", "FROM runs AS runs WHERE")
    frame = pd.read_sql_query(query, store.connection(), params=params)
    frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601")
    frame["flaky"] = frame["flaky"].astype(bool) if kind == "results" else frame["flaky"]
    return frame
