"""Plain, immutable records returned by :class:`~.ResultStore` queries.

Every record has ``to_dict()`` giving JSON-ready values, which the CLI's
``--json`` output and the JSON report use.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, cast

from maestro_test_result_aggregator import _stats

if TYPE_CHECKING:
    from _typeshed import DataclassInstance


class _Record:
    #: Properties that ``to_dict()`` adds after the fields: consumers of the
    #: JSON get derived values (a pass rate, a ratio) without recomputing them.
    _derived: ClassVar[tuple[str, ...]] = ()

    def to_dict(self) -> dict[str, Any]:
        """Return the record as a JSON-ready dictionary, derived values included."""
        data = asdict(cast("DataclassInstance", self))
        data.update((name, getattr(self, name)) for name in self._derived)
        return data


@dataclass(frozen=True)
class RunSummary(_Record):
    """One stored run with its tags and final-status counts.

    ``pass_rate`` is the share of executed tests (not skipped) that did not
    fail or error; it is ``1.0`` for a run that executed nothing.

    >>> run = RunSummary(id=1, project="shop", branch="main", commit="abc",
    ...     build="7", ci_url="", environment="", started_at="2026-11-27T10:00:00+00:00",
    ...     framework="pytest", source="junit.xml", format="junit", duration=3.5,
    ...     total=4, passed=2, failed=1, errors=0, skipped=1, xfailed=0, xpassed=0,
    ...     flaky=1)
    >>> round(run.pass_rate, 3), run.label
    (0.667, 'build 7')
    """

    id: int
    project: str
    branch: str
    commit: str
    build: str
    ci_url: str
    environment: str
    started_at: str
    framework: str
    source: str
    format: str
    duration: float
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    xfailed: int
    xpassed: int
    flaky: int

    _derived = ("pass_rate",)

    @property
    def executed(self) -> int:
        """Tests that ran (everything but skipped and expected failures)."""
        return self.total - self.skipped - self.xfailed

    @property
    def pass_rate(self) -> float:
        """Share of executed tests that neither failed nor errored."""
        return _stats.pass_rate(self.executed, self.failed + self.errors)

    @property
    def label(self) -> str:
        """``build N`` when the run has a build tag, otherwise ``run #id``."""
        return f"build {self.build}" if self.build else f"run #{self.id}"


@dataclass(frozen=True)
class IngestedRun(_Record):
    """One input that was ingested (or skipped as already stored).

    Attributes:
        source: File path, or ``<TestRun>`` for an object.
        run_id: Id of the stored run (of the earlier copy for a duplicate).
        results: Number of test results in the input.
        duplicate: ``True`` when the same content was already in the store.

    >>> from maestro_test_adapters.models import TestRun
    >>> from maestro_test_result_aggregator import ResultStore
    >>> store = ResultStore(":memory:")
    >>> [store.ingest(TestRun("pytest")).ingested[0].duplicate for _ in range(2)]
    [False, True]
    """

    source: str
    run_id: int
    results: int
    duplicate: bool


@dataclass(frozen=True)
class IngestFailure(_Record):
    """One input that could not be ingested, and why.
    >>> IngestFailure("a.xml", "line 3: not well-formed XML").reason
    'line 3: not well-formed XML'
    """

    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport(_Record):
    """What one :meth:`~.ResultStore.ingest` call did.

    Attributes:
        ingested: Inputs stored, or found already stored.
        failed: Inputs that could not be read, with the reason.
        skipped: Files found in folders or by patterns that are not result
            files (no known format).

    >>> report = IngestReport(ingested=(IngestedRun("a.xml", 1, 10, False),),
    ...     failed=(IngestFailure("b.xml", "not XML"),))
    >>> report.new_runs, report.new_results, report.ok
    (1, 10, False)
    """

    ingested: tuple[IngestedRun, ...] = ()
    failed: tuple[IngestFailure, ...] = ()
    skipped: tuple[str, ...] = ()

    _derived = ("new_runs", "new_results", "duplicates")

    @property
    def new_runs(self) -> int:
        """Runs added by this call (duplicates excluded)."""
        return sum(1 for item in self.ingested if not item.duplicate)

    @property
    def new_results(self) -> int:
        """Test results added by this call (duplicates excluded)."""
        return sum(item.results for item in self.ingested if not item.duplicate)

    @property
    def duplicates(self) -> int:
        """Inputs whose content was already stored."""
        return sum(1 for item in self.ingested if item.duplicate)

    @property
    def ok(self) -> bool:
        """``True`` when every input was read."""
        return not self.failed


@dataclass(frozen=True)
class TestOutcome(_Record):
    """The result of one test in one run.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> outcome = store.results("6", status="failed")[0]
    >>> outcome.name, outcome.status, outcome.message
    ('test_refund', 'failed', 'AssertionError: 19.99 != 20.00')
    """

    __test__ = False

    run_id: int
    uid: str
    suite: str
    name: str
    status: str
    duration: float
    attempts: int
    flaky: bool
    message: str = ""


@dataclass(frozen=True)
class TestStats(_Record):
    """History of one test over a window of runs.

    ``pass_rate`` is over the runs where the test executed (not skipped).

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> stats = {s.name: s for s in store.tests()}
    >>> stats["test_login"].flaky, stats["test_search"].median_duration
    (2, 0.5)
    """

    __test__ = False

    uid: str
    suite: str
    name: str
    runs: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    pass_rate: float
    median_duration: float
    p95_duration: float
    last_status: str


@dataclass(frozen=True)
class GroupStats(_Record):
    """Aggregate of the runs sharing one project, branch, build or suite.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> store.aggregate("project")[0].key
    'shop'
    """

    key: str
    runs: int
    total: int
    passed: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    pass_rate: float
    median_duration: float
    p95_duration: float


@dataclass(frozen=True)
class FlakyTest(_Record):
    """A test judged flaky, with the evidence.

    Attributes:
        flip_rate: Share of consecutive executions of the test (attempts
            inside a run, then run after run) whose outcome differed.
        retried_runs: Runs where it failed and then passed on retry.
        same_commit_flips: Commits on which it both passed and failed.
        runs: Runs of the window in which it executed.
        failures: Runs in which it finally failed or errored.
        last_flaky_run: Id of the newest run showing the flakiness.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> store.flaky()[0].retried_runs
    2
    """

    uid: str
    suite: str
    name: str
    flip_rate: float
    retried_runs: int
    same_commit_flips: int
    runs: int
    failures: int
    last_flaky_run: int


@dataclass(frozen=True)
class TrendPoint(_Record):
    """One point of a pass-rate and duration series (one run, oldest first).
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> store.trend(last=1)[0].label
    'build 6'
    """

    run_id: int
    label: str
    started_at: str
    total: int
    failed: int
    errors: int
    skipped: int
    flaky: int
    pass_rate: float
    duration: float
    infrastructure_failure: bool


@dataclass(frozen=True)
class TestChange(_Record):
    """A test whose status differs (or not) between two runs of a diff.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> change = store.diff("4", "5").new_failures[0]
    >>> change.name, change.base_status, change.head_status
    ('test_refund', 'passed', 'failed')
    """

    __test__ = False

    uid: str
    suite: str
    name: str
    base_status: str | None
    head_status: str | None
    message: str = ""


@dataclass(frozen=True)
class RunDiff(_Record):
    """Differences between a base run and a head run.

    Attributes:
        base_run: Id of the base run; when it has a build tag, the whole build
            was compared (see :meth:`~.ResultStore.diff`).
        head_run: Id of the head run, likewise.

    >>> diff = RunDiff(base_run=1, head_run=2)
    >>> diff.has_new_failures
    False
    """

    base_run: int
    head_run: int
    new_failures: tuple[TestChange, ...] = ()
    fixed: tuple[TestChange, ...] = ()
    still_failing: tuple[TestChange, ...] = ()
    new_tests: tuple[TestChange, ...] = ()
    removed_tests: tuple[TestChange, ...] = ()

    @property
    def has_new_failures(self) -> bool:
        """``True`` when a test passing (or absent) in base fails in head."""
        return bool(self.new_failures)


@dataclass(frozen=True)
class DurationRegression(_Record):
    """A test that got slower than its baseline by more than the noise.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> store.regressions()[0].ratio
    4.0
    """

    uid: str
    suite: str
    name: str
    duration: float
    baseline_median: float
    baseline_spread: float
    samples: int

    _derived = ("ratio",)

    @property
    def ratio(self) -> float:
        """How many times slower than the baseline median."""
        if self.baseline_median <= 0:
            return float("inf")
        return self.duration / self.baseline_median


@dataclass(frozen=True)
class FailureAge(_Record):
    """How long a currently failing test has been failing.

    Attributes:
        since_run: Id of the first run of the current failing streak.
        since_label: ``build N`` (or ``run #id``) of that run.
        since_time: Start time of that run.
        streak: Number of consecutive failing runs, including the current one.

    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> store.failure_ages()[0].since_label
    'build 5'
    """

    uid: str
    suite: str
    name: str
    status: str
    since_run: int
    since_label: str
    since_time: str
    streak: int
    message: str = ""


@dataclass(frozen=True)
class FailureGroup(_Record):
    """Failures sharing one normalised message.
    >>> from maestro_test_result_aggregator._examples import demo_store
    >>> store = demo_store()
    >>> group = store.failure_reasons()[0]
    >>> group.reason, group.tests
    ('AssertionError: <n> != <n>', ('shop::test_refund',))
    """

    reason: str
    count: int
    tests: tuple[str, ...] = field(default_factory=tuple)
    example: str = ""
