"""pandas DataFrames (the analytics extra)."""

from __future__ import annotations

import sys

import pytest

from aggregator_testing import add
from maestro_test_result_aggregator import MissingExtraError, ResultStore


def test_runs_and_results_as_dataframes(store: ResultStore) -> None:
    pytest.importorskip("pandas")
    add(store, {"a": "passed", "b": "failed"}, build=1)
    add(store, {"a": "flaky", "b": "passed"}, build=2)
    add(store, {"a": "passed"}, build=3, branch="dev")
    runs = store.to_dataframe("runs", branch="main")
    assert list(runs["build"]) == ["1", "2"]
    assert list(runs["failed"]) == [1, 0]
    assert str(runs["started_at"].dt.tz) == "UTC"
    results = store.to_dataframe("results", last=2)
    assert len(results) == 3  # builds 2 and 3
    assert results.loc[results["name"] == "a", "flaky"].tolist() == [True, False]
    with pytest.raises(ValueError, match="kind must be"):
        store.to_dataframe("tests")  # type: ignore[arg-type]


def test_without_pandas_the_error_names_the_extra(
    store: ResultStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)  # makes `import pandas` fail
    with pytest.raises(MissingExtraError, match=r"maestro-test-result-aggregator\[analytics\]"):
        store.to_dataframe()
