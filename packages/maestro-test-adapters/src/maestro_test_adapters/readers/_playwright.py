"""Playwright Test JSON reporter output (``--reporter=json``).

One test per spec and project, as Playwright counts them; one suite per
spec file. Every result but the last is an attempt (``retries``), so a test
Playwright calls ``flaky`` is ``passed`` with failed attempts. A test marked
``test.fail()`` that failed as expected is ``xfailed``; one that passed is
``xpassed``.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, Final

from maestro_test_adapters.models import Attachment, Attempt, Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers._base import (
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    clean_text,
    expect,
    first_line,
    load_json,
    parse_timestamp,
)

_RESULT_STATUSES: Final = {
    "passed": Status.PASSED,
    "failed": Status.FAILED,
    "timedOut": Status.FAILED,
    "skipped": Status.SKIPPED,
    "interrupted": Status.ERROR,
}


def sniff(head: str) -> bool:
    """Playwright's report opens with its ``config`` (``rootDir``, ``projects``)."""
    text = head.lstrip()
    return text.startswith("{") and '"config"' in text and '"rootDir"' in text


def read(path: Path) -> TestRun:
    """Read a Playwright JSON report."""
    data = load_json(path)
    expect(
        isinstance(data, dict) and isinstance(data.get("suites"), list),
        path,
        'a Playwright report object with "suites"',
    )
    config = as_dict(data.get("config"))
    stats = as_dict(data.get("stats"))
    run = TestRun(
        "playwright",
        started_at=parse_timestamp(as_str(stats.get("startTime"))),
        duration=as_float(stats.get("duration"), 0.001)
        or as_float(as_dict(config.get("metadata")).get("totalTime"), 0.001),
    )
    version = as_str(config.get("version"))
    if version:
        run.environment["playwright"] = version
    for file_suite in data["suites"]:
        file_suite = as_dict(file_suite)
        file = as_str(file_suite.get("file")) or as_str(file_suite.get("title")) or ""
        suite = TestSuite(file, file=file or None)
        _collect(file_suite, [], file, suite)
        suite.duration = sum(result.duration for result in suite.tests)
        run.suites.append(suite)
    errors = [clean_text(as_str(as_dict(e).get("message"))) for e in as_list(data.get("errors"))]
    if any(errors):
        text = "\n\n".join(e for e in errors if e)
        run.suites.append(
            TestSuite(
                "(global)",
                [
                    TestResult(
                        "(global)::errors",
                        "errors outside tests",
                        Status.ERROR,
                        message=first_line(text),
                        traceback=text,
                    )
                ],
            )
        )
    return run


def _collect(node: dict[str, Any], titles: list[str], file: str, suite: TestSuite) -> None:
    for spec in as_list(node.get("specs")):
        spec = as_dict(spec)
        path = [*titles, as_str(spec.get("title")) or ""]
        for test in as_list(spec.get("tests")):
            suite.tests.append(_test(as_dict(test), spec, path, file))
    for child in as_list(node.get("suites")):
        child = as_dict(child)
        _collect(child, [*titles, as_str(child.get("title")) or ""], file, suite)


def _test(test: dict[str, Any], spec: dict[str, Any], path: list[str], file: str) -> TestResult:
    project = as_str(test.get("projectName")) or as_str(test.get("projectId")) or ""
    results = [as_dict(result) for result in as_list(test.get("results"))]
    executions = [_execution(result) for result in results] or [Attempt(Status.SKIPPED)]
    final = executions[-1]
    status = final.status
    expected_status = test.get("expectedStatus")
    if expected_status == "failed":
        status = (
            Status.XFAILED
            if status is Status.FAILED
            else (Status.XPASSED if status is Status.PASSED else status)
        )
    elif test.get("status") == "skipped":
        status = Status.SKIPPED
    title = " > ".join(path)
    properties: list[tuple[str, str]] = [("project", project)] if project else []
    for annotation in as_list(test.get("annotations")):
        annotation = as_dict(annotation)
        kind = as_str(annotation.get("type"))
        if kind:
            properties.append((kind, as_str(annotation.get("description")) or ""))
    if status is Status.SKIPPED and final.message is None:
        reasons = [value for kind, value in properties if kind in ("skip", "fixme") and value]
        final.message = reasons[0] if reasons else None
    return TestResult(
        f"{file}::{project}::{title}" if project else f"{file}::{title}",
        title,
        status,
        final.duration,
        " > ".join(path[:-1]) or None,
        file or None,
        as_int(spec.get("line")),
        final.message,
        final.traceback,
        final.stdout,
        final.stderr,
        tuple(executions[:-1]),
        final.attachments,
        tuple(properties),
    )


def _execution(result: dict[str, Any]) -> Attempt:
    errors = [as_dict(error) for error in as_list(result.get("errors"))]
    if not errors and result.get("error"):
        errors = [as_dict(result.get("error"))]
    messages = [clean_text(as_str(error.get("message"))) for error in errors]
    stacks = [clean_text(as_str(error.get("stack"))) for error in errors]
    message = next((m for m in messages if m), None)
    traceback = "\n\n".join(s for s in stacks if s) or "\n\n".join(m for m in messages if m)
    return Attempt(
        _RESULT_STATUSES.get(str(result.get("status")), Status.ERROR),
        as_float(result.get("duration"), 0.001),
        first_line(message) if message else None,
        traceback or None,
        _output(result.get("stdout")),
        _output(result.get("stderr")),
        tuple(_attachment(as_dict(item)) for item in as_list(result.get("attachments"))),
    )


def _output(chunks: Any) -> str | None:
    parts = []
    for chunk in as_list(chunks):
        if isinstance(chunk, str):
            parts.append(chunk)
            continue
        chunk = as_dict(chunk)
        if isinstance(chunk.get("text"), str):
            parts.append(chunk["text"])
        elif isinstance(chunk.get("buffer"), str):
            try:
                parts.append(base64.b64decode(chunk["buffer"]).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                continue
    return clean_text("".join(parts))


def _attachment(item: dict[str, Any]) -> Attachment:
    return Attachment(
        as_str(item.get("path")) or "",
        as_str(item.get("contentType")) or "application/octet-stream",
        as_str(item.get("name")),
        as_str(item.get("body")),
    )
