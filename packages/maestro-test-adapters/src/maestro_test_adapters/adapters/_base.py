"""The adapter interface and the machinery shared by every adapter."""

from __future__ import annotations

import os
import shlex
import signal
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol, TypeAlias

from maestro_test_adapters.adapters._process import ProcessOutcome, run_process
from maestro_test_adapters.models import Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers import ReadError
from maestro_test_adapters.readers._base import clean_text

# Characters of the framework's last stderr line quoted in a run error's message.
_LAST_WORDS_LIMIT: Final = 300

#: What a suite to run can be given as: a file, a folder or a framework pattern.
Target: TypeAlias = str | os.PathLike[str]


class AdapterError(Exception):
    """An adapter could not start the framework at all (nothing was run).

    >>> from maestro_test_adapters.adapters import PytestAdapter
    >>> try:
    ...     PytestAdapter().run("tests", workdir="/no/such/folder")
    ... except AdapterError as exc:
    ...     print(exc)
    workdir /no/such/folder does not exist or is not a directory
    """


class ToolNotFoundError(AdapterError):
    """The framework (or its runtime) is not installed; the message says what to install.

    >>> print(ToolNotFoundError("jest", "run `npm install --save-dev jest`"))
    jest is not installed: run `npm install --save-dev jest`
    """

    def __init__(self, tool: str, install_hint: str) -> None:
        super().__init__(f"{tool} is not installed: {install_hint}")
        self.tool = tool
        self.install_hint = install_hint


class Adapter(Protocol):
    """Runs a suite in one framework and returns the normalised result.

    Every adapter in this package follows this interface, so code that drives
    suites does not need to know which framework it is talking to.

    >>> from maestro_test_adapters.adapters import CucumberAdapter, JestAdapter
    >>> def frameworks(adapters: list[Adapter]) -> list[str]:
    ...     return [adapter.framework for adapter in adapters]
    >>> frameworks([JestAdapter(), CucumberAdapter(runner="behave")])
    ['jest', 'behave']
    """

    @property
    def framework(self) -> str:
        """Name of the framework, as it appears in :attr:`TestRun.framework`."""
        ...

    def run(
        self,
        target: Target,
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> TestRun:
        """Run ``target`` and return the normalised run.

        Args:
            target: Test file, folder or pattern, as the framework's own command
                line takes it (relative paths are relative to ``workdir``).
            timeout: Seconds before the whole process tree is killed and the
                run is reported with an ``error`` result; ``None`` waits forever.
            env: Variables added to (or overriding) the current environment.
            workdir: Directory the framework runs in; the current one by default.
            extra_args: More command-line arguments for the framework.

        Raises:
            ToolNotFoundError: The framework is not installed.
            AdapterError: ``workdir`` does not exist, or the command cannot start.
            ValueError: ``timeout`` is not positive.
            TypeError: ``extra_args`` is a string, not a list of arguments.
        """
        ...


@dataclass(frozen=True, slots=True)
class Invocation:
    """A framework command line plus the environment it needs to write its report."""

    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)


class CommandAdapter(ABC):
    """Base of the adapters: run one command, read the report file it wrote.

    Subclasses say how to build the command (:meth:`invocation`) and how to
    read the report (:meth:`read_report`); running, timeouts, killing and
    turning a crash into an ``error`` result happen here, once.
    """

    #: Seconds between SIGTERM and SIGKILL when a run times out.
    kill_grace: float = 3.0

    @property
    @abstractmethod
    def framework(self) -> str:
        """Framework name reported in the run."""

    @abstractmethod
    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build the command that runs ``target`` and writes its report to ``report``.

        ``env`` is the environment the command will run with (tools are
        looked up on its ``PATH``).

        Raises:
            ToolNotFoundError: The framework is not installed.
        """

    @abstractmethod
    def read_report(self, report: Path) -> TestRun:
        """Read the report the framework wrote.

        Raises:
            ValueError: The report is unreadable (truncated, not the expected format).
        """

    def run(
        self,
        target: Target,
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> TestRun:
        """Run ``target`` and return the normalised run (see :class:`Adapter`)."""
        if timeout is not None and not timeout > 0:  # NaN is no timeout either
            raise ValueError(f"timeout must be a positive number of seconds, got {timeout}")
        if isinstance(extra_args, str):  # a str is a Sequence[str] too: one per character
            raise TypeError(
                f"extra_args must be a list of arguments, not the string {extra_args!r}"
                + _split_hint(extra_args)
            )
        cwd = Path(workdir if workdir is not None else os.getcwd()).resolve()
        if not cwd.is_dir():
            raise AdapterError(f"workdir {cwd} does not exist or is not a directory")
        with tempfile.TemporaryDirectory(prefix="maestro-adapter-") as scratch:
            report = Path(scratch) / "report"
            run_env = {**os.environ, **(env or {})}
            invocation = self.invocation(os.fspath(target), report, cwd, extra_args, run_env)
            try:
                outcome = run_process(
                    invocation.argv,
                    cwd=cwd,
                    env={**run_env, **invocation.env},
                    timeout=timeout,
                    kill_grace=self.kill_grace,
                )
            except OSError as exc:  # not executable, vanished since it was found
                raise AdapterError(
                    f"cannot start {invocation.argv[0]}: {exc.strerror or exc}"
                ) from exc
            run, problem = self._read(report)
        if run is not None:
            _relativise_paths(run, cwd)
        return _complete(self.framework, run, problem, outcome, timeout)

    def read_partial(self, report: Path) -> TestRun | None:
        """Results the framework saved before it died without a report, if any."""
        return None

    def _read(self, report: Path) -> tuple[TestRun | None, str | None]:
        if not report.is_file() or report.stat().st_size == 0:
            return self.read_partial(report), f"{self.framework} wrote no report"
        try:
            return self.read_report(report), None
        except (ReadError, ValueError, OSError) as exc:
            return None, f"{self.framework} wrote a report that cannot be read: {exc}"


def _split_hint(text: str) -> str:
    try:
        return f": use {shlex.split(text)!r}"
    except ValueError:  # unbalanced quotes
        return ""


def _relativise_paths(run: TestRun, workdir: Path) -> None:
    """Make absolute paths under ``workdir`` relative, so test ids are the same on every machine.

    Jest, for one, reports absolute file paths.
    """
    prefix = f"{workdir}{os.sep}"

    def relative(path: str | None) -> str | None:
        return path[len(prefix) :] if path is not None and path.startswith(prefix) else path

    for suite in run.suites:
        suite.file = relative(suite.file)
        if suite.name.startswith(prefix):
            suite.name = suite.name[len(prefix) :]
        for result in suite.tests:
            if result.test_id.startswith(prefix):
                result.test_id = result.test_id[len(prefix) :]
            result.file = relative(result.file)


def _complete(
    framework: str,
    run: TestRun | None,
    problem: str | None,
    outcome: ProcessOutcome,
    timeout: float | None,
) -> TestRun:
    """Fill in what the report lacks and record a crash or timeout as an error result."""
    if run is None:
        run = TestRun(framework)
    run.framework = framework
    if run.started_at is None:
        run.started_at = outcome.started_at
    if not run.duration:
        run.duration = outcome.duration
    run.environment["command"] = shlex.join(outcome.argv)
    run.environment["exit_code"] = str(outcome.returncode)

    reason = None
    if outcome.timed_out:
        reason = (
            f"{framework} did not finish within {timeout:g} s; its whole process tree was killed"
        )
    elif outcome.returncode < 0:
        name = signal.Signals(-outcome.returncode).name
        reason = f"{framework} was killed by {name}"
    elif problem is not None:
        reason = _with_last_words(f"{problem} (exit code {outcome.returncode})", outcome)
    elif outcome.returncode != 0 and run.totals.ok:
        reason = _with_last_words(
            f"{framework} exited with code {outcome.returncode}"
            " but reported no failing test (no tests found, or a usage error)",
            outcome,
        )
    elif not run.totals.total:
        # cucumber-js, for one, exits 0 when its target matches nothing: a
        # mistyped path must not pass in CI, as it does not in pytest or Jest.
        reason = f"{framework} ran no test: check that the target names tests to run"
    if reason is not None:
        run.suites.append(
            TestSuite(
                name=framework,
                tests=[
                    TestResult(
                        test_id=f"{framework}::<run>",
                        name=f"{framework} run",
                        status=Status.ERROR,
                        duration=outcome.duration,
                        message=reason,
                        stdout=outcome.stdout or None,
                        stderr=outcome.stderr or None,
                    )
                ],
            )
        )
    return run


def _with_last_words(reason: str, outcome: ProcessOutcome) -> str:
    """``reason`` plus the last line the framework wrote (stderr first), when there is one.

    A framework that stops by itself without results says why there, last
    (pytest's "file or directory not found", a Python exception, a Node
    error), so that line saves a trip to the full captured output.
    """
    for output in (outcome.stderr, outcome.stdout):  # behave, for one, errs on stdout
        for line in reversed(output.splitlines()):
            words = clean_text(line.strip())
            if words and not words.startswith("Node.js v"):  # Node's version footer
                return f"{reason}: {words[:_LAST_WORDS_LIMIT]}"
    return reason
