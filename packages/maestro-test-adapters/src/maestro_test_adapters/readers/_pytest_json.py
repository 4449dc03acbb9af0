"""pytest-json-report output (``pytest --json-report``).

One suite per test file. Collection errors become ``error`` results, and so
does a session that pytest reports as interrupted or broken (exit code 2, 3
or 4) without a failing test: ``pytest::<run>``, as the adapters name it.
Consecutive entries of the same node id whose earlier outcome is ``rerun``
(pytest-rerunfailures) become attempts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers._base import (
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    clean_text,
    epoch_seconds,
    expect,
    load_json,
)

_STATUSES: Final = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "error": Status.ERROR,
    "skipped": Status.SKIPPED,
    "xfailed": Status.XFAILED,
    "xpassed": Status.XPASSED,
    "rerun": Status.FAILED,
}
_STAGES: Final = ("setup", "call", "teardown")
#: pytest's exit codes for a session that did not run its tests through.
_BROKEN_EXIT_CODES: Final = {2: "interrupted", 3: "internal error", 4: "usage error"}


def sniff(head: str) -> bool:
    """pytest-json-report objects carry ``created``, ``exitcode`` and ``root``."""
    text = head.lstrip()
    return text.startswith("{") and '"exitcode"' in text and '"root"' in text


def read(path: Path) -> TestRun:
    """Read a pytest-json-report file."""
    data = load_json(path)
    expect(
        isinstance(data, dict) and "tests" in data, path, 'a pytest-json-report object with "tests"'
    )
    run = TestRun("pytest", duration=as_float(data.get("duration")))
    created = data.get("created")
    if isinstance(created, int | float) and not isinstance(created, bool):
        run.started_at = epoch_seconds(created - run.duration)
    for key, value in as_dict(data.get("environment")).items():
        if isinstance(value, str):
            run.environment[key] = value
    suites: dict[str, TestSuite] = {}

    def suite_for(file: str) -> TestSuite:
        suite = suites.get(file)
        if suite is None:
            suite = suites[file] = TestSuite(file, file=file or None)
            run.suites.append(suite)
        return suite

    for collector in as_list(data.get("collectors")):
        collector = as_dict(collector)
        if collector.get("outcome") == "failed":
            nodeid = as_str(collector.get("nodeid")) or ""
            text = clean_text(as_str(collector.get("longrepr")))
            suite_for(nodeid.split("::")[0]).tests.append(
                TestResult(
                    nodeid,
                    nodeid.rpartition("::")[2] or nodeid,
                    Status.ERROR,
                    file=nodeid.split("::")[0] or None,
                    message="collection failed" if not text else text.splitlines()[-1],
                    traceback=text,
                )
            )
    reruns: list[TestResult] = []  # ``rerun`` entries of one test, waiting for its final one

    def flush_reruns() -> None:
        # Reruns not followed by their test's final entry: the last one is final.
        if reruns:
            final = reruns.pop()
            final.status = Status.FAILED
            final.attempts = _attempts(reruns)
            reruns.clear()
            suite_for(final.file or "").tests.append(final)

    for entry in as_list(data.get("tests")):
        entry = as_dict(entry)
        result = _result(entry)
        if reruns and reruns[-1].test_id != result.test_id:
            flush_reruns()
        if entry.get("outcome") == "rerun":
            reruns.append(result)
            continue
        if reruns:
            result.attempts = _attempts(reruns)
            reruns.clear()
        suite_for(result.file or "").tests.append(result)
    flush_reruns()
    for suite in run.suites:
        suite.duration = sum(result.duration for result in suite.tests)
    exitcode = as_int(data.get("exitcode"))
    if exitcode in _BROKEN_EXIT_CODES and run.totals.ok:
        # An interrupted or broken session lists only the tests that ran: green
        # as they may be, the run is not.
        run.suites.append(
            TestSuite(
                "pytest",
                [
                    TestResult(
                        "pytest::<run>",
                        "pytest run",
                        Status.ERROR,
                        message=f"pytest exited with code {exitcode}"
                        f" ({_BROKEN_EXIT_CODES[exitcode]})",
                    )
                ],
            )
        )
    return run


def _attempts(reruns: list[TestResult]) -> tuple[Attempt, ...]:
    return tuple(
        Attempt(
            Status.FAILED,
            rerun.duration,
            rerun.message,
            rerun.traceback,
            rerun.stdout,
            rerun.stderr,
        )
        for rerun in reruns
    )


def _result(entry: dict[str, Any]) -> TestResult:
    nodeid = as_str(entry.get("nodeid")) or ""
    file, _, rest = nodeid.partition("::")
    parts = rest.split("::") if rest else [nodeid]
    stages = [as_dict(entry.get(stage)) for stage in _STAGES]
    failing = next((s for s in stages if s.get("outcome") not in (None, "passed")), {})
    crash = as_dict(failing.get("crash"))
    longrepr = clean_text(as_str(failing.get("longrepr")))
    message = clean_text(as_str(crash.get("message")))
    if message is None and longrepr:
        message = longrepr.strip().splitlines()[-1]
    lineno = as_int(entry.get("lineno"))
    properties = tuple(
        (str(name), str(value))
        for item in as_list(entry.get("user_properties"))
        for name, value in as_dict(item).items()
    )
    return TestResult(
        nodeid,
        parts[-1],
        _STATUSES.get(str(entry.get("outcome")), Status.ERROR),
        sum(as_float(stage.get("duration")) for stage in stages),
        ".".join(parts[:-1]) or None,
        file or None,
        # pytest locations are 0-based; the model's lines are 1-based.
        None if lineno is None else lineno + 1,
        message,
        longrepr,
        _joined(stages, "stdout"),
        _joined(stages, "stderr"),
        properties=properties,
    )


def _joined(stages: list[dict[str, Any]], key: str) -> str | None:
    return clean_text("".join(as_str(stage.get(key)) or "" for stage in stages))
