"""Jest ``--json`` reports (``jest --json --outputFile=report.json``).

One suite per test file, named by its path relative to the report's folder.
A file that failed to run (syntax error, missing module) has no assertion
results: it becomes one ``error`` result carrying Jest's message, as
jest-junit reports it; so does a file whose tests passed but whose
``afterAll`` hook threw (Jest fails the file). ``retryTimes`` retries
(``invocations`` > 1, with ``retryReasons`` when Jest logged them) become attempts.
"""

from __future__ import annotations

import os
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
    epoch_ms,
    expect,
    first_line,
    load_json,
)

_STATUSES: Final = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "pending": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "todo": Status.SKIPPED,
    "disabled": Status.SKIPPED,
    "focused": Status.PASSED,
}


def sniff(head: str) -> bool:
    """Jest's report starts with its ``num...`` counters and has ``testResults``."""
    return head.lstrip().startswith("{") and '"numTotalTests"' in head


def _message(messages: list[Any]) -> tuple[str | None, str | None]:
    """First line of the first failure message, and all of them as the traceback."""
    texts = [clean_text(text) or "" for text in messages if isinstance(text, str)]
    if not texts:
        return None, None
    full = "\n\n".join(texts)
    return first_line(full), full


def read(path: Path) -> TestRun:
    """Read a Jest JSON report."""
    data = load_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("testResults"), list),
        path,
        'a Jest report object with "testResults"',
    )
    started = epoch_ms(data.get("startTime"))
    run = TestRun("jest", started_at=started)
    # Jest writes absolute paths; relative to the report's folder (usually the
    # project root) they stay the same from one machine to the next.
    root = str(path.resolve().parent)
    last_end = 0.0
    for file_result in data["testResults"]:
        file_result = as_dict(file_result)
        file_name = as_str(file_result.get("name")) or ""
        shown = _relative(file_name, root)
        start_ms = as_float(file_result.get("startTime"))
        end_ms = as_float(file_result.get("endTime"))
        last_end = max(last_end, end_ms)
        suite = TestSuite(
            shown,
            file=shown or None,
            duration=max(end_ms - start_ms, 0.0) / 1000,
            started_at=epoch_ms(file_result.get("startTime")),
        )
        for assertion in as_list(file_result.get("assertionResults")):
            assertion = as_dict(assertion)
            # Jest always writes the title: without it the test has no name or id.
            expect(
                isinstance(assertion.get("title"), str),
                path,
                'a "title" string in each of "assertionResults"',
            )
            suite.tests.append(_result(assertion, shown))
        failure = clean_text(
            as_str(file_result.get("message")) or as_str(file_result.get("failureMessage"))
        )
        # Jest fails the file with this message and no failing test when it
        # could not run it, and when a hook (afterAll) threw after the tests:
        # with failing tests it only repeats their messages.
        if failure and not any(test.status.is_failure for test in suite.tests):
            suite.tests.append(
                TestResult(
                    f"{shown}::Test suite failed to run",
                    "Test suite failed to run",
                    Status.ERROR,
                    file=shown or None,
                    message=_suite_failure_message(failure),
                    traceback=failure,
                )
            )
        run.suites.append(suite)
    if started is not None and last_end:
        run.duration = max(last_end / 1000 - started.timestamp(), 0.0)
    return run


def _suite_failure_message(failure: str) -> str | None:
    """The first line saying what went wrong, past Jest's "Test suite failed to run" header.

    >>> _suite_failure_message("\\n  \u25cf Test suite failed to run\\n\\n    cleanup broke\\n")
    'cleanup broke'
    """
    lines = (line.strip() for line in failure.splitlines())
    header = "Test suite failed to run"
    return next((line for line in lines if line and line.lstrip("\u25cf ") != header), None) or (
        first_line(failure)
    )


def _relative(file_name: str, root: str) -> str:
    if file_name.startswith(root + os.sep):
        return os.path.relpath(file_name, root).replace(os.sep, "/")
    return file_name


def _result(assertion: dict[str, Any], file: str) -> TestResult:
    ancestors = [
        title for title in as_list(assertion.get("ancestorTitles")) if isinstance(title, str)
    ]
    title: str = assertion["title"]
    path = " > ".join([*ancestors, title])
    status = _STATUSES.get(str(assertion.get("status")), Status.SKIPPED)
    message, traceback = _message(as_list(assertion.get("failureMessages")))
    location = as_dict(assertion.get("location"))
    # Only failures are retried, so every earlier invocation failed. Jest keeps
    # their messages in retryReasons only with logErrorsBeforeRetry.
    reasons = [_message([reason]) for reason in as_list(assertion.get("retryReasons"))]
    invocations = as_int(assertion.get("invocations"))
    earlier = len(reasons)
    if invocations is not None:
        earlier = max(earlier, invocations - 1)
    reasons += [(None, None)] * (earlier - len(reasons))
    attempts = tuple(
        Attempt(Status.FAILED, message=first, traceback=full) for first, full in reasons
    )
    return TestResult(
        f"{file}::{path}",
        as_str(assertion.get("fullName")) or path,
        status,
        as_float(assertion.get("duration"), 0.001),
        " > ".join(ancestors) or None,
        file or None,
        as_int(location.get("line")),
        message,
        traceback,
        attempts=attempts,
    )
