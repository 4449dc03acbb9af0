"""Reports: escaping, self-containment, size limits, round trips, formula safety."""

from __future__ import annotations

import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from maestro_test_adapters.readers import read_results

from aggregator_testing import add, make_run
from maestro_test_result_aggregator import ResultStore, RunNotFoundError, RunTags, reports

HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def hostile_store(store: ResultStore) -> ResultStore:
    for build in range(1, 4):
        add(
            store,
            {HOSTILE: "failed", "ok": "passed", "=1+2": "flaky" if build == 2 else "passed"},
            build=build,
            messages={HOSTILE: '<img src=x onerror="alert(2)"> & "quotes"'},
        )
    return store


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.urls += [v or "" for k, v in attrs if k in ("src", "href", "xlink:href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_escapes_every_value_and_is_self_contained(
    hostile_store: ResultStore, tmp_path: Path
) -> None:
    out = tmp_path / "report.html"
    html = hostile_store.report("html", output=out)
    assert out.read_text(encoding="utf-8") == html
    parsed = _Collector()
    parsed.feed(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert HOSTILE in "".join(parsed.text)  # shown as text
    assert parsed.urls == []  # no external scripts, styles, fonts or images
    assert "<link" not in html and "@import" not in html and "url(" not in html
    assert html.count("<svg") == 3  # pass-rate trend, duration trend, flaky ranking
    assert "default-src 'none'" in html


def test_markdown_fits_the_github_limit_with_a_note(store: ResultStore) -> None:
    add(store, {f"test_{i}_{'x' * 200}": "failed" for i in range(6000)}, build=1)
    data = reports.collect(store)
    full = reports.render_markdown(data, max_bytes=10**9)
    assert len(full.encode()) > reports.GITHUB_SUMMARY_LIMIT
    cut = reports.render_markdown(data)
    assert len(cut.encode()) <= reports.GITHUB_SUMMARY_LIMIT
    assert "**Truncated:**" in cut
    assert cut.startswith(full[:200])


def test_markdown_escapes_table_breaking_text(hostile_store: ResultStore) -> None:
    md = hostile_store.report("md")
    assert HOSTILE not in md
    assert r"\<script\>" in md
    assert all(line.count("|") - line.count(r"\|") in (0, 5, 9) for line in md.splitlines())


def test_json_report_is_valid_json(hostile_store: ResultStore) -> None:
    data = json.loads(hostile_store.report("json"))
    assert data["head"]["build"] == "3"
    assert [f["name"] for f in data["failures"]] == [HOSTILE]
    assert data["failures"][0]["streak"] == 3
    assert [f["name"] for f in data["flaky"]] == ["=1+2"]


def test_junit_merges_the_shards_of_the_latest_build_and_reads_back(
    store: ResultStore, tmp_path: Path
) -> None:
    add(store, {"a": "passed", "b": "failed"}, build=1)
    add(store, {"a": "passed", "b": "flaky", "c": "skipped"}, build=2)
    # A second shard of build 2.
    shard = make_run({"d": "error"}, started=3)
    store.ingest(shard, tags=RunTags(project="shop", branch="main", build="2"))
    out = tmp_path / "merged.xml"
    store.report("junit", output=out)
    run = read_results(out)  # the adapters' reader accepts what we write
    totals = run.totals
    assert (totals.total, totals.passed, totals.error, totals.skipped, totals.flaky) == (
        4,
        2,
        1,
        1,
        1,
    )


def test_summary_reports_cover_every_run_of_the_latest_build(store: ResultStore) -> None:
    """A build that wrote several result files is reported whole, not by its last file."""
    add(store, {"a": "passed", "b": "failed"}, build=1)
    shard = make_run({"c": "passed", "d": "error", "e": "skipped"}, started=1)
    tags = RunTags(project="shop", branch="main", build="1")
    store.ingest(shard, tags=tags, use_ci_environment=False)
    data = json.loads(store.report("json"))
    head = data["head"]
    assert (head["build"], head["total"], head["passed"], head["failed"], head["errors"]) == (
        "1",
        5,
        2,
        1,
        1,
    )
    assert head["skipped"] == 1 and head["pass_rate"] == 0.5
    assert sorted(f["name"] for f in data["failures"]) == ["b", "d"]
    assert sum(g["count"] for g in data["failure_groups"]) == 2
    assert sorted(o["name"] for o in data["slowest"]) == ["a", "b", "c", "d", "e"]
    assert sum(s["total"] for s in data["suites"]) == 5
    assert "| 5 | 2 | 1 | 1 | 1 | 0 | 50.0% |" in store.report("md")


def test_csv_is_safe_against_formula_injection(hostile_store: ResultStore) -> None:
    text = hostile_store.report("csv")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 3
    names = {row["name"] for row in rows}
    assert "'=1+2" in names and "=1+2" not in names
    assert all(not re.match(r"[=+\-@\t\r]", value) for row in rows for value in row.values())


def test_unknown_format_and_empty_store(store: ResultStore) -> None:
    with pytest.raises(RunNotFoundError):
        store.report("html")
    add(store, {"a": "passed"}, build=1)
    with pytest.raises(ValueError, match="choose one of html, md, json, junit, csv"):
        store.report("pdf")  # type: ignore[arg-type]
