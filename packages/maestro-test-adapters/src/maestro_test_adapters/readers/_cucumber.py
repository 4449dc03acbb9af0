"""Cucumber JSON (cucumber-js ``--format json``, Cucumber-JVM, behave ``-f json``)
and Cucumber messages NDJSON (``--format message``).

A scenario (one example row of an outline) is a test, a feature is a suite.
Step statuses combine worst first: ``failed`` > behave's ``error``,
``hook_error`` and ``cleanup_error`` > ``ambiguous`` > ``undefined`` >
``pending`` > ``skipped`` > ``passed``; behave's errors, ``ambiguous`` and
``undefined`` become ``error`` (the scenario cannot run as written),
``pending`` and ``skipped`` become ``skipped``. Cucumber-JVM backgrounds count towards the
scenario after them. In messages, attempts announced with ``willBeRetried``
become attempts of the final one; a scenario started but never finished
(the run stopped) is an ``error``, and so is a failed run
(``testRunFinished`` without ``success``, a ``BeforeAll`` hook that threw)
in which no scenario failed: ``<implementation>::<run>``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from maestro_test_adapters.models import Attachment, Attempt, Status, TestResult, TestRun, TestSuite
from maestro_test_adapters.readers._base import (
    ResultFileError,
    as_dict,
    as_float,
    as_int,
    as_list,
    as_str,
    clean_text,
    epoch_seconds,
    expect,
    first_line,
    load_json,
)

_WORST_FIRST: Final = (
    "failed",
    # behave 1.3 and later: an unexpected exception in a step, in a hook, in a cleanup
    "error",
    "hook_error",
    "cleanup_error",
    "ambiguous",
    "undefined",
    "pending",
    "skipped",
    "unknown",
    "passed",
)
_RANK: Final = {status: rank for rank, status in enumerate(reversed(_WORST_FIRST))}
_MODEL: Final = {
    "failed": Status.FAILED,
    "error": Status.ERROR,
    "hook_error": Status.ERROR,
    "cleanup_error": Status.ERROR,
    "ambiguous": Status.ERROR,
    "undefined": Status.ERROR,
    "pending": Status.SKIPPED,
    "skipped": Status.SKIPPED,
    "unknown": Status.SKIPPED,
    "passed": Status.PASSED,
}
_MESSAGE_TYPES: Final = frozenset(
    {
        "meta",
        "source",
        "gherkinDocument",
        "pickle",
        "stepDefinition",
        "hook",
        "parameterType",
        "testRunStarted",
        "testCase",
        "testCaseStarted",
        "undefinedParameterType",
    }
)


@dataclass(slots=True)
class _Outcome:
    """Worst step status so far, with its message."""

    status: str = "passed"
    message: str | None = None
    duration: float = 0.0
    attachments: list[Attachment] = field(default_factory=list)

    def add(self, status: str, message: str | None) -> None:
        status = status.lower() if status.lower() in _RANK else "unknown"
        if _RANK[status] > _RANK[self.status]:
            self.status = status
            self.message = message
        elif message and self.message is None and status == self.status != "passed":
            self.message = message

    def model_status(self) -> Status:
        return _MODEL[self.status]

    def short_message(self) -> str | None:
        if self.message:
            return first_line(self.message)
        if self.status in ("undefined", "pending", "ambiguous"):
            return f"a step is {self.status}"
        return _UNEXPLAINED.get(self.status)


# behave writes no message for these.
_UNEXPLAINED: Final = {
    "error": "a step raised an error",
    "hook_error": "a hook raised an error",
    "cleanup_error": "a cleanup raised an error",
}


# -- Cucumber JSON -------------------------------------------------------------------


def sniff_json(head: str) -> bool:
    """A JSON array of features (``"elements"`` and a ``"keyword"``)."""
    text = head.lstrip()
    return text.startswith("[") and '"elements"' in text and '"keyword"' in text


def read_json(path: Path) -> TestRun:
    """Read a Cucumber JSON report."""
    data = load_json(path)
    expect(isinstance(data, list), path, "a Cucumber JSON array of features")
    behave = False
    run = TestRun("cucumber")
    for feature in data:
        feature = as_dict(feature)
        uri = as_str(feature.get("uri")) or as_str(feature.get("location")) or ""
        uri = uri.rsplit(":", 1)[0] if uri[-1:].isdigit() and ":" in uri else uri
        suite = TestSuite(as_str(feature.get("name")) or uri, file=uri or None)
        background: _Outcome | None = None
        for element in as_list(feature.get("elements")):
            element = as_dict(element)
            behave = behave or "status" in element
            outcome = _Outcome()
            for hook in (*as_list(element.get("before")), *as_list(element.get("after"))):
                _add_step(outcome, as_dict(hook))
            for step in as_list(element.get("steps")):
                _add_step(outcome, as_dict(step))
            # behave: a hook that failed leaves its steps without a result, and
            # the scenario's own status ("hook_error") is all that tells.
            if element.get("status") in _UNEXPLAINED:
                outcome.add(element["status"], None)
            if element.get("type") == "background" or element.get("keyword") == "Background":
                background = outcome
                continue
            if background is not None:  # Cucumber-JVM: the background ran for this scenario
                outcome.add(background.status, background.message)
                outcome.duration += background.duration
                outcome.attachments[:0] = background.attachments
                background = None
            suite.tests.append(_scenario(element, uri, outcome))
        suite.duration = sum(result.duration for result in suite.tests)
        run.suites.append(suite)
    if behave:
        run.framework = "behave"
    run.duration = sum(suite.duration for suite in run.suites)
    return run


def _add_step(outcome: _Outcome, step: dict[str, Any]) -> None:
    result = step.get("result")
    if not isinstance(result, dict):  # never ran (behave leaves it out)
        outcome.add("skipped", None)
        return
    duration = result.get("duration")
    # cucumber-js and Cucumber-JVM write integer nanoseconds, behave float seconds.
    outcome.duration += as_float(duration, 1e-9 if isinstance(duration, int) else 1.0)
    message = result.get("error_message")
    if isinstance(message, list):  # behave writes a list of lines
        message = "\n".join(str(line) for line in message)
    outcome.add(str(result.get("status", "unknown")), clean_text(as_str(message)))
    for embedding in (*as_list(step.get("embeddings")), *as_list(step.get("attachments"))):
        embedding = as_dict(embedding)
        media_type = (
            as_str(embedding.get("mime_type"))
            or as_str(as_dict(embedding.get("media")).get("type"))
            or "application/octet-stream"
        )
        outcome.attachments.append(
            Attachment("", media_type, as_str(embedding.get("name")), as_str(embedding.get("data")))
        )


def _scenario(element: dict[str, Any], uri: str, outcome: _Outcome) -> TestResult:
    name = as_str(element.get("name")) or ""
    line = as_int(element.get("line"))
    location = as_str(element.get("location"))
    if line is None and location and location.rpartition(":")[2].isdigit():
        line = int(location.rpartition(":")[2])
    tags = [as_str(as_dict(tag).get("name")) or str(tag) for tag in as_list(element.get("tags"))]
    return TestResult(
        f"{uri}:{line}::{name}" if line is not None else f"{uri}::{name}",
        name,
        outcome.model_status(),
        outcome.duration,
        as_str(element.get("keyword")),
        uri or None,
        line,
        outcome.short_message(),
        outcome.message,
        attachments=tuple(outcome.attachments),
        properties=tuple(("tag", tag) for tag in tags if tag),
    )


# -- Cucumber messages -----------------------------------------------------------------


def sniff_messages(head: str) -> bool:
    """One JSON envelope per line, the first of a known message type."""
    first = head.lstrip().split("\n", 1)[0]
    if not first.startswith("{"):
        return False
    try:
        envelope = json.loads(first)
    except json.JSONDecodeError:
        return len(head) >= 60000 and first.startswith('{"meta"')  # a very long first line
    except RecursionError:  # nested too deeply to be a message
        return False
    return isinstance(envelope, dict) and len(envelope) == 1 and set(envelope) <= _MESSAGE_TYPES


def _timestamp(value: Any) -> float:
    stamp = as_dict(value)
    return as_float(stamp.get("seconds")) + as_float(stamp.get("nanos"), 1e-9)


@dataclass(slots=True)
class _Started:
    test_case_id: str
    started: float
    outcome: _Outcome = field(default_factory=_Outcome)
    traceback: str | None = None
    unfinished: bool = False  # no testCaseFinished: the run stopped during it


def read_messages(path: Path) -> TestRun:
    """Read Cucumber messages NDJSON."""
    sources: dict[str, str] = {}  # uri -> feature name
    lines: dict[str, int] = {}  # AST node id -> line
    pickles: dict[str, dict[str, Any]] = {}
    cases: dict[str, str] = {}  # test case id -> pickle id
    started: dict[str, _Started] = {}
    finished: dict[str, list[_Started]] = {}  # pickle id -> executions, in order
    run = TestRun("cucumber")
    run_started = run_finished = 0.0
    run_failure: str | None = None
    try:
        stream = path.open("rb")  # decoded line by line, so a bad byte gets its line
    except OSError as exc:
        raise ResultFileError(path, f"cannot read the file: {exc.strerror or exc}") from None
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                text = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise ResultFileError(path, f"not UTF-8 text: {exc.reason}", line=number) from None
            if not text.strip():
                continue
            try:
                envelope = json.loads(text)
            except json.JSONDecodeError as exc:
                raise ResultFileError(path, f"not a JSON message: {exc.msg}", line=number) from None
            except RecursionError:
                raise ResultFileError(
                    path, "refused: JSON nested too deeply", line=number
                ) from None
            # An envelope holds exactly one message: other JSON is another format,
            # not a run in which nothing happened.
            if not isinstance(envelope, dict) or len(envelope) != 1:
                raise ResultFileError(
                    path,
                    "not a Cucumber message envelope (an object holding one message)",
                    line=number,
                )
            if "testStepFinished" in envelope:
                message = as_dict(envelope["testStepFinished"])
                execution = started.get(str(message.get("testCaseStartedId")))
                if execution is not None:
                    result = as_dict(message.get("testStepResult"))
                    error = clean_text(as_str(result.get("message")))
                    execution.outcome.add(str(result.get("status", "UNKNOWN")), error)
                    if error and execution.traceback is None and result.get("status") != "PASSED":
                        execution.traceback = error
            elif "testCaseStarted" in envelope:
                message = as_dict(envelope["testCaseStarted"])
                started[str(message.get("id"))] = _Started(
                    str(message.get("testCaseId")), _timestamp(message.get("timestamp"))
                )
            elif "testCaseFinished" in envelope:
                message = as_dict(envelope["testCaseFinished"])
                execution = started.pop(str(message.get("testCaseStartedId")), None)
                if execution is not None:
                    execution.outcome.duration = max(
                        _timestamp(message.get("timestamp")) - execution.started, 0.0
                    )
                    pickle_id = cases.get(execution.test_case_id, execution.test_case_id)
                    finished.setdefault(pickle_id, []).append(execution)
            elif "attachment" in envelope:
                _attach(as_dict(envelope["attachment"]), started)
            elif "testCase" in envelope:
                case = as_dict(envelope["testCase"])
                cases[str(case.get("id"))] = str(case.get("pickleId"))
            elif "pickle" in envelope:
                pickle = as_dict(envelope["pickle"])
                pickles[str(pickle.get("id"))] = pickle
            elif "gherkinDocument" in envelope:
                document = as_dict(envelope["gherkinDocument"])
                feature = as_dict(document.get("feature"))
                uri = as_str(document.get("uri")) or ""
                sources[uri] = as_str(feature.get("name")) or uri
                _index_lines(feature, lines)
            elif "testRunStarted" in envelope:
                run_started = _timestamp(as_dict(envelope["testRunStarted"]).get("timestamp"))
            elif "testRunFinished" in envelope:
                message = as_dict(envelope["testRunFinished"])
                run_finished = _timestamp(message.get("timestamp"))
                if message.get("success") is False:  # e.g. a BeforeAll hook failed
                    run_failure = (
                        clean_text(
                            as_str(message.get("message"))
                            or as_str(as_dict(message.get("exception")).get("message"))
                        )
                        or "the test run failed"
                    )
            elif "meta" in envelope:
                _environment(as_dict(envelope["meta"]), run)
    run.started_at = epoch_seconds(run_started)
    if run.started_at is not None:
        run.duration = max(run_finished - run_started, 0.0)
    for execution in started.values():  # the run stopped in the middle of these
        execution.unfinished = True
        pickle_id = cases.get(execution.test_case_id, execution.test_case_id)
        finished.setdefault(pickle_id, []).append(execution)
    suites: dict[str, TestSuite] = {}
    for pickle_id, executions in finished.items():
        pickle = pickles.get(pickle_id, {})
        uri = as_str(pickle.get("uri")) or ""
        suite = suites.get(uri)
        if suite is None:
            suite = suites[uri] = TestSuite(sources.get(uri, uri), file=uri or None)
            run.suites.append(suite)
        suite.tests.append(_pickle_result(pickle, uri, executions, lines))
    for suite in run.suites:
        suite.duration = sum(result.duration for result in suite.tests)
    if run_failure is not None and run.totals.ok:
        run.suites.append(
            TestSuite(
                run.framework,
                [
                    TestResult(
                        f"{run.framework}::<run>",
                        f"{run.framework} run",
                        Status.ERROR,
                        message=first_line(run_failure),
                        traceback=run_failure,
                    )
                ],
            )
        )
    return run


def _attach(attachment: dict[str, Any], started: dict[str, _Started]) -> None:
    execution = started.get(str(attachment.get("testCaseStartedId")))
    if execution is None:
        return
    # Bodies are kept as sent: text for IDENTITY, base64 for BASE64, which is
    # the Attachment.content convention.
    body = as_str(attachment.get("body"))
    media_type = as_str(attachment.get("mediaType")) or "application/octet-stream"
    execution.outcome.attachments.append(
        Attachment(
            as_str(attachment.get("url")) or "",
            media_type,
            as_str(attachment.get("fileName")),
            body,
        )
    )


def _index_lines(node: dict[str, Any], lines: dict[str, int]) -> None:
    """Map every scenario and example-row AST id to its line."""
    for child in as_list(node.get("children")):
        child = as_dict(child)
        for key in ("scenario", "background"):
            scenario = as_dict(child.get(key))
            if scenario:
                lines[str(scenario.get("id"))] = int(
                    as_float(as_dict(scenario.get("location")).get("line"))
                )
                for examples in as_list(scenario.get("examples")):
                    for row in as_list(as_dict(examples).get("tableBody")):
                        row = as_dict(row)
                        lines[str(row.get("id"))] = int(
                            as_float(as_dict(row.get("location")).get("line"))
                        )
        rule = as_dict(child.get("rule"))
        if rule:
            _index_lines(rule, lines)


def _environment(meta: dict[str, Any], run: TestRun) -> None:
    for key in ("implementation", "runtime", "os", "cpu"):
        item = as_dict(meta.get(key))
        name = as_str(item.get("name"))
        if name:
            version = as_str(item.get("version"))
            run.environment[key] = f"{name} {version}" if version else name
    implementation = as_str(as_dict(meta.get("implementation")).get("name"))
    if implementation:
        run.framework = implementation


def _pickle_result(
    pickle: dict[str, Any], uri: str, executions: list[_Started], lines: dict[str, int]
) -> TestResult:
    name = as_str(pickle.get("name")) or ""
    node_ids = [str(node) for node in as_list(pickle.get("astNodeIds"))]
    line = lines.get(node_ids[-1]) if node_ids else None
    attempts = tuple(
        Attempt(
            execution.outcome.model_status(),
            execution.outcome.duration,
            execution.outcome.short_message(),
            execution.traceback,
            attachments=tuple(execution.outcome.attachments),
        )
        for execution in executions[:-1]
    )
    final = executions[-1]
    tags = [as_str(as_dict(tag).get("name")) for tag in as_list(pickle.get("tags"))]
    status, message = final.outcome.model_status(), final.outcome.short_message()
    if final.unfinished and not status.is_failure:
        status, message = Status.ERROR, "did not finish: the run stopped during it"
    return TestResult(
        f"{uri}:{line}::{name}" if line is not None else f"{uri}::{name}",
        name,
        status,
        final.outcome.duration,
        None,
        uri or None,
        line,
        message,
        final.traceback,
        attempts=attempts,
        attachments=tuple(final.outcome.attachments),
        properties=tuple(("tag", tag) for tag in tags if tag),
    )
