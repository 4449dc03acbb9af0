"""Reports: self-contained HTML, CI-summary Markdown, JSON, merged JUnit XML, CSV.

:func:`collect` gathers one :class:`ReportData` snapshot from a store; the
``render_*`` functions turn it into text and never touch the database, so a
report is consistent even while other processes ingest.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from collections.abc import Container, Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from html import escape
from typing import TYPE_CHECKING, Any

from maestro_test_adapters import to_junit_xml
from maestro_test_adapters.models import TestRun

from maestro_test_result_aggregator import _svg
from maestro_test_result_aggregator._ingest import iso_utc
from maestro_test_result_aggregator.errors import RunNotFoundError
from maestro_test_result_aggregator.records import (
    DurationRegression,
    FailureAge,
    FailureGroup,
    FlakyTest,
    GroupStats,
    RunDiff,
    RunSummary,
    TestOutcome,
    TrendPoint,
)
from maestro_test_result_aggregator.store import _suite_stats
from maestro_test_result_aggregator.tags import utc_now

if TYPE_CHECKING:
    from maestro_test_result_aggregator.store import ResultStore

#: GitHub refuses a job summary larger than 1 MiB.
GITHUB_SUMMARY_LIMIT = 1024 * 1024
FORMATS = ("html", "md", "json", "junit", "csv")
_MESSAGE_CHARS = 2000
_MAX_ROWS = 500


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, read from the store in one go.

    When the latest run has a build tag, "head" is its whole build: the counts,
    failures, failure groups, slowest tests, regressions and suites cover
    every run of that build (one per result file, shard or matrix leg), a
    re-run replacing the earlier attempt, as in :meth:`~.ResultStore.diff`.

    Attributes:
        generated_at: ISO 8601 UTC time of the snapshot.
        project: Project filter (``None`` = all projects).
        branch: Branch filter (``None`` = all branches).
        head: The latest run in scope, with the counts of its whole build
            and the summed duration of the build's runs.
        previous: The run ``diff`` compares with (``None`` for a first run).
        diff: Head compared with the build before it (``None`` for a first run).
        failures: Failing tests of the head build, with how long they have failed.
        failure_groups: The head build's failures grouped by normalised message.
        flaky: Flaky tests of the window, highest flip rate first.
        trend: Pass rate and duration of the window, oldest first.
        slowest: The head build's slowest tests.
        regressions: The head build's tests slower than their baseline.
        suites: Per-suite statistics of the head build (per run of it).

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> data = collect(store)
    >>> data.head.label, data.previous.label, [f.name for f in data.flaky]
    ('build 6', 'build 5', ['test_login'])
    """

    generated_at: str
    project: str | None
    branch: str | None
    head: RunSummary
    previous: RunSummary | None
    diff: RunDiff | None
    failures: tuple[FailureAge, ...]
    failure_groups: tuple[FailureGroup, ...]
    flaky: tuple[FlakyTest, ...]
    trend: tuple[TrendPoint, ...]
    slowest: tuple[TestOutcome, ...]
    regressions: tuple[DurationRegression, ...]
    suites: tuple[GroupStats, ...]

    def to_dict(self) -> dict[str, Any]:
        """Return the snapshot as JSON-ready data."""
        data = asdict(self)
        data["head"] = self.head.to_dict()
        data["previous"] = None if self.previous is None else self.previous.to_dict()
        data["regressions"] = [item.to_dict() for item in self.regressions]
        return data


def collect(
    store: ResultStore,
    *,
    project: str | None = None,
    branch: str | None = None,
    last: int = 50,
    flaky_limit: int = 20,
) -> ReportData:
    """Read a :class:`ReportData` snapshot of the latest run and recent history.

    Raises:
        RunNotFoundError: No run in scope.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> [f.since_label for f in collect(store, last=3).failures]
    ['build 5']
    """
    head = store.run("latest", project=project, branch=branch)
    members = _runs_of_build(store, head)
    latest = list(store._build_results(head.id).values())
    current = {(o.run_id, o.uid) for o in latest}  # not replaced by a re-run
    try:
        diff: RunDiff | None = store.diff(head=head.id)
    except RunNotFoundError:
        diff = None
    previous = None if diff is None else store.run(diff.base_run)
    failures: dict[str, FailureAge] = {}
    groups: dict[str, FailureGroup] = {}
    regressions: list[DurationRegression] = []
    for run in members:
        for age in store.failure_ages(run.id):
            if (run.id, age.uid) in current and (
                age.uid not in failures or age.streak > failures[age.uid].streak
            ):
                failures[age.uid] = age
        for group in store.failure_reasons(run.id):
            tests = tuple(uid for uid in group.tests if (run.id, uid) in current)
            known = groups.get(group.reason)
            if known is not None:
                tests = known.tests + tests
            if tests:
                groups[group.reason] = replace(known or group, count=len(tests), tests=tests)
        regressions += (r for r in store.regressions(run.id) if (run.id, r.uid) in current)
    return ReportData(
        generated_at=iso_utc(utc_now()),
        project=project,
        branch=branch,
        head=_build_summary(head, members, latest),
        previous=previous,
        diff=diff,
        failures=tuple(sorted(failures.values(), key=lambda a: (-a.streak, a.uid))),
        failure_groups=tuple(sorted(groups.values(), key=lambda g: (-g.count, g.reason))),
        flaky=tuple(store.flaky(project=project, branch=branch, last=last, limit=flaky_limit)),
        trend=tuple(store.trend(project=project, branch=branch, last=last)),
        slowest=tuple(sorted(latest, key=lambda o: (-o.duration, o.uid))[:10]),
        regressions=tuple(
            sorted(regressions, key=lambda r: (-(r.duration - r.baseline_median), r.uid))
        ),
        suites=tuple(_suite_stats(latest)),
    )


def _runs_of_build(store: ResultStore, head: RunSummary) -> list[RunSummary]:
    """The runs of ``head``'s build (same project, branch, build tag), oldest first.

    Just ``[head]`` when it has no build tag.
    """
    if not head.build:
        return [head]
    runs = store.runs(project=head.project, branch=head.branch, build=head.build, limit=None)
    return runs[::-1]


def _build_summary(
    head: RunSummary, members: Sequence[RunSummary], latest: Sequence[TestOutcome]
) -> RunSummary:
    """``head`` with the counts of ``latest`` (its build's current results).

    The duration is the sum of the durations of the build's runs.
    """
    if len(members) < 2:
        return head
    counts = Counter(o.status for o in latest)
    return replace(
        head,
        started_at=min(run.started_at for run in members),
        duration=sum(run.duration for run in members),
        total=len(latest),
        passed=counts["passed"],
        failed=counts["failed"],
        errors=counts["error"],
        skipped=counts["skipped"],
        xfailed=counts["xfailed"],
        xpassed=counts["xpassed"],
        flaky=sum(o.flaky for o in latest),
    )


def render(
    store: ResultStore,
    format: str,
    *,
    project: str | None = None,
    branch: str | None = None,
    last: int = 50,
) -> str:
    """Render a report of ``store`` in ``format`` (one of :data:`FORMATS`).

    ``junit`` and ``csv`` export the results of the latest build (all its runs
    when the build was split into shards); the others summarise the history.

    Raises:
        ValueError: Unknown ``format``.
        RunNotFoundError: No run in scope.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> render(store, "csv").splitlines()[0][:30]
    'run_id,project,branch,commit,b'
    """
    if format not in FORMATS:
        raise ValueError(f"unknown report format {format!r}; choose one of {', '.join(FORMATS)}")
    if format in ("junit", "csv"):
        runs = _runs_of_build(store, store.run("latest", project=project, branch=branch))
        if format == "junit":
            return render_junit([store.load_run(run.id) for run in runs])
        outcomes = [o for run in runs for o in store.results(run.id)]
        return render_csv(outcomes, {run.id: run for run in runs})
    data = collect(store, project=project, branch=branch, last=last)
    if format == "html":
        return render_html(data)
    if format == "md":
        return render_markdown(data)
    return json.dumps(data.to_dict(), indent=2, ensure_ascii=False) + "\n"


# -- HTML -------------------------------------------------------------------------

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
color:#111827;background:#f9fafb}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.meta{color:#6b7280;margin:0 0 16px}
.cards{display:flex;gap:12px;flex-wrap:wrap}
.card{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 16px;
min-width:110px}
.card b{display:block;font-size:22px}.bad b{color:#dc2626}.good b{color:#16a34a}
.warn b{color:#d97706}
table{border-collapse:collapse;width:100%;background:#fff;font-size:13px}
th,td{border:1px solid #e5e7eb;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f3f4f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
pre{white-space:pre-wrap;word-break:break-word;margin:0;font-size:12px}
.chart{width:100%;height:auto;background:#fff;border:1px solid #e5e7eb;
border-radius:8px}
.status-failed,.status-error{color:#dc2626;font-weight:600}
.status-passed{color:#16a34a}
.note{color:#6b7280;font-style:italic}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _clip(text: str, limit: int = _MESSAGE_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _when(iso: str) -> str:
    """``2026-11-27T10:00:00.000000+00:00`` as ``2026-11-27 10:00 UTC``."""
    return f"{iso[:10]} {iso[11:16]} UTC" if iso.endswith("+00:00") else iso


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _secs(value: float) -> str:
    return f"{value:.3f}s" if value < 10 else f"{value:.1f}s"


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = []
    count = 0
    for count, row in enumerate(rows, start=1):
        if count > _MAX_ROWS:
            body.append(
                f'<tr><td colspan="{len(headers)}" class="note">more rows left out; '
                "use the JSON or CSV report for all of them</td></tr>"
            )
            break
        cells = "".join(
            f'<td class="num">{cell}</td>' if i in numeric else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    if count == 0:
        return '<p class="note">None.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(data: ReportData) -> str:
    """Render a single self-contained HTML page (inline CSS and SVG, no scripts).

    Every value that came from a result file is HTML-escaped, and a Content
    Security Policy forbids scripts and remote loads as a second line of defence.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> html = render_html(collect(store))
    >>> html.startswith("<!DOCTYPE html>"), "<script" in html, html.count("<svg")
    (True, False, 3)
    """
    head = data.head
    scope = " / ".join(part for part in (data.project, data.branch) if part) or "all"
    status_class = "bad" if head.failed + head.errors else "good"
    cards = [
        ("Tests", str(head.total), ""),
        ("Pass rate", _pct(head.pass_rate), status_class),
        ("Failed", str(head.failed), "bad" if head.failed else ""),
        ("Errors", str(head.errors), "bad" if head.errors else ""),
        ("Skipped", str(head.skipped), ""),
        ("Flaky (retried)", str(head.flaky), "warn" if head.flaky else ""),
        ("Duration", _secs(head.duration), ""),
    ]
    trend = data.trend
    labels = [point.label for point in trend]
    sections = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Test results: {_e(head.label)} ({_e(scope)})</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<h1>Test results — {_e(head.label)}</h1>",
        '<p class="meta">'
        + " · ".join(
            _e(part)
            for part in (
                f"project {head.project}" if head.project else "",
                f"branch {head.branch}" if head.branch else "",
                f"commit {head.commit[:12]}" if head.commit else "",
                f"environment {head.environment}" if head.environment else "",
                f"started {_when(head.started_at)}",
                f"generated {_when(data.generated_at)}",
            )
            if part
        )
        + (
            f' · <a href="{_e(head.ci_url)}">CI job</a>'
            if head.ci_url.startswith(("https://", "http://"))
            else ""
        )
        + "</p>",
        '<div class="cards">'
        + "".join(
            f'<div class="card {cls}"><b>{_e(value)}</b>{_e(name)}</div>'
            for name, value, cls in cards
        )
        + "</div>",
    ]
    if data.diff is not None and data.previous is not None:
        diff = data.diff
        sections.append(
            f"<h2>Since {_e(data.previous.label)}</h2>"
            + _table(
                ("Change", "Tests"),
                [
                    (_e(name), str(len(items)))
                    for name, items in (
                        ("New failures", diff.new_failures),
                        ("Fixed", diff.fixed),
                        ("Still failing", diff.still_failing),
                        ("New tests", diff.new_tests),
                        ("Removed tests", diff.removed_tests),
                    )
                ],
                {1},
            )
        )
    sections += [
        f"<h2>Failures ({len(data.failures)})</h2>",
        _table(
            ("Test", "Status", "Failing since", "Runs", "Message"),
            (
                (
                    f"{_e(f.name)}<br><small>{_e(f.suite)}</small>",
                    f'<span class="status-{_e(f.status)}">{_e(f.status)}</span>',
                    f"{_e(f.since_label)}<br><small>{_e(_when(f.since_time))}</small>",
                    str(f.streak),
                    f"<pre>{_e(_clip(f.message))}</pre>",
                )
                for f in data.failures
            ),
            {3},
        ),
        "<h2>Failure reasons</h2>",
        _table(
            ("Normalised message", "Failures", "Example"),
            (
                (
                    _e(g.reason),
                    str(g.count),
                    f"<pre>{_e(_clip(g.example, 500))}</pre>",
                )
                for g in data.failure_groups
            ),
            {1},
        ),
        f"<h2>Pass-rate trend (last {len(trend)} runs)</h2>",
        _svg.line_chart(
            [p.pass_rate for p in trend],
            labels,
            title="Pass rate per run",
            unit="%",
            maximum=1.0,
            flagged=[p.infrastructure_failure for p in trend],
            color="#16a34a",
        ),
        "<h2>Duration trend</h2>",
        _svg.line_chart([p.duration for p in trend], labels, title="Run duration", unit="s"),
        f"<h2>Flaky tests ({len(data.flaky)})</h2>",
        _svg.bar_chart(
            [f.flip_rate for f in data.flaky],
            [f.uid for f in data.flaky],
            title="Flip rate of flaky tests",
        ),
        _table(
            ("Test", "Flip rate", "Retried runs", "Same-commit flips", "Runs"),
            (
                (
                    f"{_e(f.name)}<br><small>{_e(f.suite)}</small>",
                    _pct(f.flip_rate),
                    str(f.retried_runs),
                    str(f.same_commit_flips),
                    str(f.runs),
                )
                for f in data.flaky
            ),
            {1, 2, 3, 4},
        ),
        "<h2>Slower than baseline</h2>",
        _table(
            ("Test", "Duration", "Baseline median", "Ratio"),
            (
                (
                    f"{_e(r.name)}<br><small>{_e(r.suite)}</small>",
                    _secs(r.duration),
                    _secs(r.baseline_median),
                    f"{r.ratio:.1f}×",
                )
                for r in data.regressions
            ),
            {1, 2, 3},
        ),
        "<h2>Slowest tests</h2>",
        _table(
            ("Test", "Status", "Duration"),
            (
                (
                    f"{_e(o.name)}<br><small>{_e(o.suite)}</small>",
                    _e(o.status),
                    _secs(o.duration),
                )
                for o in data.slowest
            ),
            {2},
        ),
        "<h2>Suites</h2>",
        _table(
            ("Suite", "Tests", "Failed", "Errors", "Skipped", "Pass rate", "Median", "p95"),
            (
                (
                    _e(s.key),
                    str(s.total),
                    str(s.failed),
                    str(s.errors),
                    str(s.skipped),
                    _pct(s.pass_rate),
                    _secs(s.median_duration),
                    _secs(s.p95_duration),
                )
                for s in data.suites
            ),
            {1, 2, 3, 4, 5, 6, 7},
        ),
        '<p class="note">Generated by maestro-test-result-aggregator.</p>',
        "</main></body></html>\n",
    ]
    return "\n".join(sections)


# -- Markdown ---------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>|#])")


def _md(value: object) -> str:
    text = " ".join(str(value).split())
    return _MD_SPECIAL.sub(r"\\\1", text)


def render_markdown(data: ReportData, *, max_bytes: int = GITHUB_SUMMARY_LIMIT) -> str:
    """Render Markdown for a CI job summary, cut to ``max_bytes`` (UTF-8) with a note.

    Args:
        data: The snapshot.
        max_bytes: Size limit; GitHub's job summary limit by default.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> text = render_markdown(collect(store), max_bytes=200)
    >>> len(text.encode()) <= 200, "Truncated" in text
    (True, True)
    """
    head = data.head
    icon = "❌" if head.failed + head.errors else "✅"
    lines = [
        f"## {icon} Test results — {_md(head.label)}",
        "",
        "| Tests | Passed | Failed | Errors | Skipped | Flaky | Pass rate | Duration |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {head.total} | {head.passed} | {head.failed} | {head.errors} | "
        f"{head.skipped} | {head.flaky} | {_pct(head.pass_rate)} | "
        f"{_secs(head.duration)} |",
        "",
    ]
    if data.diff is not None and data.previous is not None:
        diff = data.diff
        lines += [
            f"Since {_md(data.previous.label)}: **{len(diff.new_failures)} new failures**, "
            f"{len(diff.fixed)} fixed, {len(diff.still_failing)} still failing, "
            f"{len(diff.new_tests)} new tests, {len(diff.removed_tests)} removed.",
            "",
        ]
    lines += _md_section(
        "Failures",
        ("Test", "Status", "Failing since", "Message"),
        [
            (
                _md(f.uid),
                f.status,
                f"{_md(f.since_label)} ({f.streak} runs)",
                _md(_clip(f.message, 300)),
            )
            for f in data.failures
        ],
    )
    lines += _md_section(
        "Flaky tests",
        ("Test", "Flip rate", "Retried runs", "Same-commit flips"),
        [
            (_md(f.uid), _pct(f.flip_rate), str(f.retried_runs), str(f.same_commit_flips))
            for f in data.flaky
        ],
        numeric={1, 2, 3},
    )
    lines += _md_section(
        "Slower than baseline",
        ("Test", "Duration", "Baseline"),
        [(_md(r.uid), _secs(r.duration), _secs(r.baseline_median)) for r in data.regressions],
        numeric={1, 2},
    )
    return _fit(lines, max_bytes)


def _md_table(
    headers: Sequence[str], rows: Iterable[Sequence[str]], numeric: Container[int] = ()
) -> list[str]:
    """A Markdown table: the header, the alignment row (numbers right), the rows."""
    align = ("---:" if i in numeric else "---" for i in range(len(headers)))
    return [
        f"| {' | '.join(headers)} |",
        f"|{'|'.join(align)}|",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]


def _md_section(
    title: str, headers: Sequence[str], rows: list[Sequence[str]], numeric: Container[int] = ()
) -> list[str]:
    """A ``###`` section holding a table of ``rows``; nothing when there are none."""
    if not rows:
        return []
    return [f"### {title}", "", *_md_table(headers, rows, numeric), ""]


def _fit(lines: list[str], max_bytes: int) -> str:
    text = "\n".join(lines) + "\n"
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    kept: list[str] = []
    size = 0
    for index, line in enumerate(lines):
        note = (
            f"\n> **Truncated:** {len(lines) - index} of {len(lines)} lines left out "
            f"to stay under {max_bytes:,} bytes; see the HTML or JSON report.\n"
        )
        cost = len(line.encode("utf-8")) + 1
        if size + cost + len(note.encode("utf-8")) > max_bytes:
            return "\n".join(kept) + "\n" + note
        kept.append(line)
        size += cost
    return "\n".join(kept) + "\n"  # pragma: no cover - the whole text fitted


# -- JUnit XML --------------------------------------------------------------------


def render_junit(runs: Sequence[TestRun]) -> str:
    """Merge runs (the shards of one build) into one JUnit XML document.

    Written by maestro-test-adapters' exporter: retries as Surefire
    ``flakyFailure``/``rerunFailure``, characters XML cannot carry replaced.

    >>> from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite
    >>> run = TestRun("pytest", suites=[TestSuite("s", [
    ...     TestResult("s::a", "a", Status.FAILED, 1.5, classname="s", message="<boom>")])])
    >>> print(render_junit([run, run]).splitlines()[1])
    <testsuites tests="2" failures="2" errors="0" skipped="0" time="3.000000">
    """
    merged = TestRun(
        runs[0].framework if runs else "junit",
        started_at=min((r.started_at for r in runs if r.started_at), default=None),
        duration=sum(run.duration for run in runs),
        suites=[suite for run in runs for suite in run.suites],
    )
    return to_junit_xml(merged)


# -- CSV --------------------------------------------------------------------------

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def csv_cell(value: object) -> object:
    """Make a cell safe to open in a spreadsheet (no formula injection).

    Text starting with ``=``, ``+``, ``-``, ``@``, tab or newline is prefixed
    with ``'`` so spreadsheets show it as text; numbers are left alone.

    >>> csv_cell('=HYPERLINK("http://x")'), csv_cell(-1.5), csv_cell("ok")
    ('\\'=HYPERLINK("http://x")', -1.5, 'ok')
    """
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def render_csv(outcomes: Iterable[TestOutcome], runs: dict[int, RunSummary]) -> str:
    """Render test results as CSV (one row per test per run), formula-safe.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> runs = {run.id: run for run in store.runs()}
    >>> rows = render_csv(store.results("6"), runs).splitlines()
    >>> len(rows), rows[3].split(",")[8]
    (5, 'failed')
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(
        (
            "run_id", "project", "branch", "commit", "build", "suite", "test_id",
            "name", "status", "duration", "attempts", "flaky", "message",
        )
    )  # fmt: skip
    for o in outcomes:
        run = runs[o.run_id]
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    o.run_id,
                    run.project,
                    run.branch,
                    run.commit,
                    run.build,
                    o.suite,
                    o.uid,
                    o.name,
                    o.status,
                    o.duration,
                    o.attempts,
                    int(o.flaky),
                    _clip(o.message),
                )
            ]  # fmt: skip
        )
    return buffer.getvalue()
