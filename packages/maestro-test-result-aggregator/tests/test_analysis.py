"""Flaky, regression, diff, failure-age and aggregation logic on hand-built histories."""

from __future__ import annotations

import pytest

from aggregator_testing import add, make_run
from maestro_test_result_aggregator import ResultStore, RunNotFoundError, RunTags, reports


@pytest.fixture
def flaky_history(store: ResultStore) -> ResultStore:
    """Seven builds; build 7 is an infrastructure failure on build 6's commit.

    ``b`` failed then passed on retry in builds 2 and 4; ``c`` passed and
    failed on commit X (builds 1, 2) and on commit Y (builds 3, 4); ``d`` broke
    for good in build 3; ``e`` alternates, but never twice on one commit.
    """
    builds = [
        ("X", {"a": "passed", "b": "passed", "c": "passed", "d": "passed", "e": "passed"}),
        ("X", {"a": "passed", "b": "flaky", "c": "failed", "d": "passed", "e": "passed"}),
        ("Y", {"a": "passed", "b": "passed", "c": "failed", "d": "failed", "e": "failed"}),
        ("Y", {"a": "passed", "b": "flaky", "c": "passed", "d": "failed", "e": "failed"}),
        ("Z", {"a": "passed", "b": "passed", "c": "passed", "d": "failed", "e": "passed"}),
        ("W", {"a": "passed", "b": "passed", "c": "passed", "d": "failed", "e": "passed"}),
        ("W", {"a": "failed", "b": "failed", "c": "failed", "d": "failed", "e": "failed"}),
    ]
    for number, (commit, outcomes) in enumerate(builds, start=1):
        steady = "failed" if number == 7 else "passed"  # three always-green tests
        add(store, {**outcomes, **dict.fromkeys("fgh", steady)}, build=number, commit=commit)
    return store


def test_flaky_tests_are_ranked_by_flip_rate(flaky_history: ResultStore) -> None:
    found = flaky_history.flaky(last=30)
    assert [f.name for f in found] == ["b", "c"]
    b, c = found
    # b executions: P | F P | P | F P | P | P -> 4 flips over 7 transitions.
    assert b.flip_rate == pytest.approx(4 / 7)
    assert (b.retried_runs, b.same_commit_flips, b.runs, b.failures) == (2, 0, 6, 0)
    # c: P F F P P P -> 2 flips over 5 transitions; commits X and Y disagree.
    assert c.flip_rate == pytest.approx(2 / 5)
    assert (c.retried_runs, c.same_commit_flips, c.failures) == (0, 2, 2)
    assert flaky_history.run(b.last_flaky_run).build == "4"


def test_infrastructure_failures_are_left_out(flaky_history: ResultStore) -> None:
    # Counting build 7 makes "a" pass and fail on commit W: flaky only then.
    names = [f.name for f in flaky_history.flaky(last=30, infra_threshold=1.0)]
    assert "a" in names
    assert "a" not in [f.name for f in flaky_history.flaky(last=30)]
    trend = flaky_history.trend(last=30)
    assert [p.infrastructure_failure for p in trend] == [False] * 6 + [True]


def test_flaky_window_counts_only_the_last_runs(flaky_history: ResultStore) -> None:
    assert flaky_history.flaky(last=3) == []  # builds 5, 6 and the left-out 7
    assert [f.name for f in flaky_history.flaky(last=4)] == ["b"]
    assert flaky_history.flaky(last=30, limit=1)[0].name == "b"


def test_flaky_is_scoped_by_branch(flaky_history: ResultStore) -> None:
    add(flaky_history, {"b": "flaky"}, build=8, branch="feature")
    assert [f.name for f in flaky_history.flaky(branch="feature")] == ["b"]
    assert flaky_history.flaky(project="other") == []


def test_duration_regressions_need_more_than_noise(store: ResultStore) -> None:
    baseline = {
        "steady": [1.0, 1.1, 0.9, 1.0, 1.05],
        "noisy": [1.0, 2.0, 3.0, 1.5, 2.5],
        "tiny": [0.001] * 5,
        "young": [1.0, 1.0],
    }
    names = ["steady", "noisy", "tiny", "young"]
    for build in range(5):
        outcomes = {n: "passed" for n in names if build < len(baseline[n])}
        add(store, outcomes, build=build, durations={n: baseline[n][build] for n in outcomes})
    add(
        store,
        dict.fromkeys(names, "passed"),
        build=5,
        durations={"steady": 2.0, "noisy": 3.0, "tiny": 0.004, "young": 9.0},
    )
    (regression,) = store.regressions()
    assert regression.name == "steady"
    assert regression.baseline_median == pytest.approx(1.0)
    assert regression.ratio == pytest.approx(2.0)
    assert regression.samples == 5
    # A stricter noise guard or a looser threshold changes the answer as expected.
    assert store.regressions(threshold=1.5) == []
    assert {r.name for r in store.regressions(noise_factor=0.5)} == {"steady", "noisy"}


def test_a_branch_is_judged_against_the_baseline_branch(store: ResultStore) -> None:
    for build in range(5):
        add(store, {"a": "passed"}, build=build, durations={"a": 1.0})
    add(store, {"a": "passed"}, build=5, branch="feature", durations={"a": 3.0})
    assert store.regressions() == []  # no history on the feature branch itself
    (regression,) = store.regressions(baseline_branch="main")
    assert (regression.name, regression.samples, regression.ratio) == ("a", 5, 3.0)


def test_diff_between_two_runs(store: ResultStore) -> None:
    base = add(
        store, {"a": "passed", "b": "failed", "c": "failed", "d": "passed", "e": "passed"}, build=1
    )
    head = add(
        store,
        {"a": "failed", "b": "passed", "c": "error", "d": "passed", "f": "passed", "g": "failed"},
        build=2,
    )
    diff = store.diff()
    assert (diff.base_run, diff.head_run) == (base, head)
    assert [c.name for c in diff.new_failures] == ["a", "g"]
    assert [c.name for c in diff.fixed] == ["b"]
    assert [(c.name, c.base_status, c.head_status) for c in diff.still_failing] == [
        ("c", "failed", "error")
    ]
    assert [c.name for c in diff.new_tests] == ["f", "g"]
    assert [(c.name, c.head_status) for c in diff.removed_tests] == [("e", None)]
    assert diff.new_failures[0].message == "a broke"
    assert store.diff("2", "1").fixed[0].name == "a"  # build tags work as references


def test_diff_compares_whole_builds_when_a_build_has_several_runs(store: ResultStore) -> None:
    """The result files (shards) of one build are compared together, not file by file."""
    for build in (1, 2):
        for shard in ({"a1": "passed", "a2": "failed"}, {"b1": "passed", "b2": "failed"}):
            add(store, shard, build=build)
    add(store, {"c1": "failed"}, build=2)  # a third shard, failing for the first time
    diff = store.diff()
    assert store.run(diff.base_run).build == "1"
    assert store.run(diff.head_run).build == "2"
    assert [c.name for c in diff.new_failures] == ["c1"]
    assert sorted(c.name for c in diff.still_failing) == ["a2", "b2"]
    assert diff.removed_tests == ()


def _add_run(store: ResultStore, outcomes: dict[str, str], build: int, env: str = "") -> None:
    """Ingest one run of ``build``; its durations differ per environment, so no run repeats."""
    tags = RunTags(project="shop", branch="main", build=str(build), environment=env)
    seconds = dict.fromkeys(outcomes, 1.0 + 0.1 * sum(map(ord, env)))
    run = make_run(outcomes, durations=seconds, started=build)
    assert store.ingest(run, tags=tags, use_ci_environment=False).new_runs == 1


def test_a_rerun_inside_a_build_replaces_the_earlier_attempt(store: ResultStore) -> None:
    """A CI job re-run keeps its build id: its results replace the failed attempt's."""
    _add_run(store, {"a": "passed", "b": "passed"}, build=1)
    _add_run(store, {"a": "failed", "b": "passed"}, build=2)
    _add_run(store, {"a": "passed", "b": "passed", "c": "passed"}, build=2)  # the re-run
    diff = store.diff()
    assert diff.new_failures == () and [c.name for c in diff.new_tests] == ["c"]
    summary = reports.collect(store).head
    assert (summary.total, summary.passed, summary.failed) == (3, 3, 0)


def test_the_legs_of_a_matrix_build_each_count(store: ResultStore) -> None:
    """Runs of one build in different environments add up; a failing leg fails the test."""
    _add_run(store, {"a": "passed"}, build=1, env="py3.11")
    _add_run(store, {"a": "passed"}, build=1, env="py3.12")
    _add_run(store, {"a": "failed", "b": "passed"}, build=2, env="py3.11")
    _add_run(store, {"a": "passed", "b": "passed"}, build=2, env="py3.12")
    assert [c.name for c in store.diff().new_failures] == ["a"]
    data = reports.collect(store)
    assert (data.head.total, data.head.failed) == (4, 1)
    assert [f.name for f in data.failures] == ["a"]
    (suite,) = data.suites
    assert (suite.key, suite.total, suite.failed) == ("suite", 4, 1)


def test_diff_of_a_first_run_says_what_to_do(store: ResultStore) -> None:
    add(store, {"a": "passed"}, build=1)
    with pytest.raises(RunNotFoundError, match="name the base run"):
        store.diff()
    with pytest.raises(RunNotFoundError, match="latest~N"):
        store.run("nope")


def test_failure_age_walks_back_over_skips(store: ResultStore) -> None:
    history = [
        {"t": "passed", "u": "passed", "v": "passed"},
        {"t": "passed", "u": "passed", "v": "failed"},
        {"t": "failed", "u": "passed", "v": "skipped"},
        {"t": "failed", "u": "passed", "v": "failed"},
        {"t": "failed", "u": "failed", "v": "failed"},
    ]
    for build, outcomes in enumerate(history, start=1):
        add(store, outcomes, build=build)
    add(store, {"t": "passed", "u": "failed"}, build=9, branch="other")  # another branch
    ages = {a.name: a for a in store.failure_ages(store.run("5").id)}
    assert {n: (a.since_label, a.streak) for n, a in ages.items()} == {
        "t": ("build 3", 3),
        "v": ("build 2", 3),
        "u": ("build 5", 1),
    }
    assert ages["t"].since_time.startswith("2026-11-01T11:00")


def test_trend_and_aggregates(store: ResultStore) -> None:
    add(store, {"a": "passed", "b": "passed", "c": "skipped"}, build=1)
    add(store, {"a": "passed", "b": "failed", "c": "skipped"}, build=2, durations={"a": 3.0})
    add(store, {"a": "failed", "b": "failed"}, build=3, branch="dev")
    trend = store.trend(branch="main")
    assert [(p.label, p.pass_rate) for p in trend] == [("build 1", 1.0), ("build 2", 0.5)]
    by_branch = {g.key: g for g in store.aggregate("branch")}
    assert (by_branch["main"].runs, by_branch["main"].failed) == (2, 1)
    assert by_branch["main"].pass_rate == pytest.approx(3 / 4)
    assert by_branch["dev"].pass_rate == 0.0
    stats = {s.name: s for s in store.tests(branch="main")}
    assert stats["a"].median_duration == pytest.approx(2.0)
    assert stats["a"].p95_duration == pytest.approx(2.9)
    assert (stats["b"].pass_rate, stats["b"].last_status) == (0.5, "failed")
    assert stats["c"].pass_rate == 1.0 and stats["c"].skipped == 2
    (suite,) = store.suites("2")
    assert (suite.key, suite.total, suite.failed) == ("suite", 3, 1)
    assert [o.name for o in store.slowest("2", limit=1)] == ["a"]
    with pytest.raises(ValueError, match="by must be"):
        store.aggregate("colour")  # type: ignore[arg-type]


def test_history_of_one_test(store: ResultStore) -> None:
    add(store, {"a": "passed", "b": "passed"}, build=1, durations={"a": 1.0})
    add(store, {"b": "passed"}, build=2)
    add(store, {"a": "failed"}, build=3, durations={"a": 3.0})
    add(store, {"a": "passed"}, build=4, branch="dev")
    history = store.test_history("suite::a", branch="main")
    assert [(o.status, o.duration) for o in history] == [("passed", 1.0), ("failed", 3.0)]
    assert history[1].message == "a broke"
    assert len(store.test_history("suite::a")) == 3
    assert store.test_history("suite::a", project="other") == []


def test_failure_reasons_group_by_normalised_message(store: ResultStore) -> None:
    add(
        store,
        {"a": "failed", "b": "failed", "c": "error", "d": "passed"},
        build=1,
        messages={
            "a": "Timeout after 100 ms",
            "b": "Timeout after 250 ms",
            "c": "KeyError: 'x'",
        },
    )
    groups = store.failure_reasons()
    assert [(g.reason, g.count, g.tests) for g in groups] == [
        ("Timeout after <n> ms", 2, ("suite::a", "suite::b")),
        ("KeyError: 'x'", 1, ("suite::c",)),
    ]


def test_run_references(store: ResultStore) -> None:
    first = add(store, {"a": "passed"}, build=10)
    second = add(store, {"a": "passed"}, build=11)
    assert store.run("latest").id == second
    assert store.run("previous").id == first
    assert store.run("latest~1").id == first
    assert store.run("10").id == first
    assert store.run(second).build == "11"
    assert store.run(f"#{first}").id == first
    assert [r.id for r in store.runs(build="11")] == [second]
