"""Export a :class:`~maestro_test_adapters.TestRun` as JUnit XML that CI tools accept.

The output follows the de-facto schema Jenkins, GitLab and Surefire readers
share: ``<testsuites>`` holding
``<testsuite>`` elements with correct ``tests``/``failures``/``errors``/
``skipped`` counts (computed from the tests), ``<testcase>`` with ``name``,
``classname``, ``time``, ``file`` and ``line``, and ``<failure>``,
``<error>`` and ``<skipped>`` children. Retries are written the Maven
Surefire way (``flakyFailure``/``flakyError`` for a test that passed in the
end, ``rerunFailure``/``rerunError`` otherwise) and attachments as
``[[ATTACHMENT|path]]`` lines in ``<system-out>`` (Jenkins, GitLab).
``xfailed`` is a ``<skipped type="pytest.xfail">``, as pytest writes it.
Characters XML 1.0 cannot carry are replaced with U+FFFD.

>>> from maestro_test_adapters import Status, TestResult, TestRun, TestSuite
>>> run = TestRun("pytest", suites=[TestSuite("calc", [
...     TestResult("calc::add", "add", Status.PASSED, 0.25, classname="calc"),
...     TestResult("calc::div", "div", Status.FAILED, message="1 != 2", classname="calc"),
... ])])
>>> print(to_junit_xml(run).splitlines()[1])
<testsuites tests="2" failures="1" errors="0" skipped="0" time="0.250000">
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from maestro_test_adapters._files import write_atomically
from maestro_test_adapters.models import Attempt, Status, TestResult, TestRun, TestSuite

__all__ = ["iter_junit_xml", "to_junit_xml", "write_junit_xml"]

# XML 1.0 allows tab, LF, CR and U+0020 upwards except surrogates, U+FFFE and U+FFFF.
_INVALID: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_TEXT: Final = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE: Final = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\n": "&#10;",
        "\r": "&#13;",
        "\t": "&#9;",
    }
)
_OUTCOME_TAGS: Final = {
    Status.FAILED: "failure",
    Status.ERROR: "error",
    Status.SKIPPED: "skipped",
    Status.XFAILED: "skipped",
}


def _text(value: str) -> str:
    return _INVALID.sub("\ufffd", value).translate(_TEXT)


def _attr(value: str) -> str:
    return _INVALID.sub("\ufffd", value).translate(_ATTRIBUTE)


def _seconds(value: float) -> str:
    return f"{value:.6f}"


def _counts(results: list[TestResult]) -> str:
    failures = errors = skipped = 0
    for result in results:
        status = result.status
        if status is Status.FAILED:
            failures += 1
        elif status is Status.ERROR:
            errors += 1
        elif status is Status.SKIPPED or status is Status.XFAILED:
            skipped += 1
    return f'tests="{len(results)}" failures="{failures}" errors="{errors}" skipped="{skipped}"'


def iter_junit_xml(run: TestRun) -> Iterator[str]:
    """Yield the JUnit XML document of ``run`` in pieces (for large runs)."""
    everything = [result for suite in run.suites for result in suite.tests]
    duration = run.duration or sum(_suite_seconds(suite) for suite in run.suites)
    head = f'<testsuites {_counts(everything)} time="{_seconds(duration)}"'
    if run.started_at is not None:
        head += f' timestamp="{_attr(run.started_at.isoformat())}"'
    yield '<?xml version="1.0" encoding="UTF-8"?>\n'
    yield head + ">\n"
    if run.environment:
        yield "  <properties>\n"
        for name, value in run.environment.items():
            yield f'    <property name="{_attr(name)}" value="{_attr(value)}"/>\n'
        yield "  </properties>\n"
    for suite in run.suites:
        yield from _suite(suite)
    yield "</testsuites>\n"


def _suite(suite: TestSuite) -> Iterator[str]:
    duration = _suite_seconds(suite)
    head = f'  <testsuite name="{_attr(suite.name)}" {_counts(suite.tests)}'
    head += f' time="{_seconds(duration)}"'
    if suite.started_at is not None:
        head += f' timestamp="{_attr(suite.started_at.isoformat())}"'
    if suite.file:
        head += f' file="{_attr(suite.file)}"'
    yield head + ">\n"
    if suite.properties:
        yield "    <properties>\n"
        for name, value in suite.properties:
            yield f'      <property name="{_attr(name)}" value="{_attr(value)}"/>\n'
        yield "    </properties>\n"
    for result in suite.tests:
        yield _case(result)
    if suite.stdout:
        yield f"    <system-out>{_text(suite.stdout)}</system-out>\n"
    if suite.stderr:
        yield f"    <system-err>{_text(suite.stderr)}</system-err>\n"
    yield "  </testsuite>\n"


def _suite_seconds(suite: TestSuite) -> float:
    return suite.duration or sum(result.duration for result in suite.tests)


def _case(result: TestResult) -> str:
    parts = [f'    <testcase name="{_attr(result.name)}"']
    if result.classname:
        parts.append(f' classname="{_attr(result.classname)}"')
    parts.append(f' time="{_seconds(result.duration)}"')
    if result.file:
        parts.append(f' file="{_attr(result.file)}"')
    if result.line is not None:
        parts.append(f' line="{result.line}"')
    body = _case_body(result)
    if not body:
        parts.append("/>\n")
        return "".join(parts)
    parts.append(">\n")
    parts.extend(body)
    parts.append("    </testcase>\n")
    return "".join(parts)


def _case_body(result: TestResult) -> list[str]:
    body: list[str] = []
    if result.properties:
        body.append("      <properties>\n")
        body.extend(
            f'        <property name="{_attr(name)}" value="{_attr(value)}"/>\n'
            for name, value in result.properties
        )
        body.append("      </properties>\n")
    tag = _OUTCOME_TAGS.get(result.status)
    if tag is not None:
        attributes = f' message="{_attr(result.message)}"' if result.message else ""
        if result.status is Status.XFAILED:
            attributes += ' type="pytest.xfail"'
        if result.traceback:
            body.append(f"      <{tag}{attributes}>{_text(result.traceback)}</{tag}>\n")
        else:
            body.append(f"      <{tag}{attributes}/>\n")
    final_passed = not result.status.is_failure
    for attempt in result.attempts:
        body.append(_attempt(attempt, final_passed))
    stdout = result.stdout or ""
    marks = "".join(
        f"[[ATTACHMENT|{attachment.path}]]\n"
        for attachment in result.attachments
        if attachment.path
    )
    if marks:
        stdout = f"{stdout}\n{marks}" if stdout else marks
    if stdout:
        body.append(f"      <system-out>{_text(stdout)}</system-out>\n")
    if result.stderr:
        body.append(f"      <system-err>{_text(result.stderr)}</system-err>\n")
    return body


def _attempt(attempt: Attempt, final_passed: bool) -> str:
    kind = "Error" if attempt.status is Status.ERROR else "Failure"
    tag = f"flaky{kind}" if final_passed else f"rerun{kind}"
    attributes = f' message="{_attr(attempt.message)}"' if attempt.message else ""
    attributes += f' time="{_seconds(attempt.duration)}"'
    parts = [f"      <{tag}{attributes}>"]
    if attempt.traceback:
        parts.append(f"<stackTrace>{_text(attempt.traceback)}</stackTrace>")
    if attempt.stdout:
        parts.append(f"<system-out>{_text(attempt.stdout)}</system-out>")
    if attempt.stderr:
        parts.append(f"<system-err>{_text(attempt.stderr)}</system-err>")
    parts.append(f"</{tag}>\n")
    return "".join(parts)


def to_junit_xml(run: TestRun) -> str:
    """Return ``run`` as a JUnit XML document."""
    return "".join(iter_junit_xml(run))


def write_junit_xml(run: TestRun, path: str | os.PathLike[str]) -> Path:
    """Write ``run`` as JUnit XML to ``path`` atomically and return the path.

    The document goes to a temporary file in the same folder first and
    replaces ``path`` only when complete, so a crash never leaves half a file.

    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> written = write_junit_xml(TestRun("demo"), folder / "junit.xml")
    >>> written.read_text(encoding="utf-8").count("<testsuites")
    1
    """
    target = Path(path)
    write_atomically(target, iter_junit_xml(run))
    return target
