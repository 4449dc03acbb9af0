"""Adapters for the Node.js frameworks: Jest, cucumber-js and Playwright Test."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path

from maestro_test_adapters.adapters._base import CommandAdapter, Invocation, ToolNotFoundError
from maestro_test_adapters.models import TestRun
from maestro_test_adapters.readers import read_results


def find_node_tool(command: str, package: str, workdir: Path, env: Mapping[str, str]) -> str:
    """Locate a Node.js command the way ``npx`` does, without ever downloading it.

    Looks for ``node_modules/.bin/<command>`` in ``workdir`` and its parents,
    then on the ``PATH`` of ``env``, passing over Python scripts of the same
    name (the Python Playwright package installs a ``playwright`` command
    that has no ``test``).

    Raises:
        ToolNotFoundError: Neither the command nor Node.js itself is installed.
    """
    path = env.get("PATH", os.defpath)
    if shutil.which("node", path=path) is None:
        raise ToolNotFoundError(
            "Node.js", "install Node.js 18 or later (Debian: `apt-get install nodejs npm`)"
        )
    for folder in (workdir, *workdir.parents):
        candidate = folder / "node_modules" / ".bin" / command
        if candidate.is_file():
            return str(candidate)
    found = next(
        (
            hit
            for folder in path.split(os.pathsep)
            if (hit := shutil.which(command, path=folder)) is not None
            and not _is_python_script(hit)
        ),
        None,
    )
    if found is None:
        raise ToolNotFoundError(
            command,
            f"run `npm install --save-dev {package}` in {workdir}"
            " (or `npm ci` if the project has a package-lock.json)",
        )
    return found


def _is_python_script(path: str) -> bool:
    """Whether ``path`` starts with a ``#!`` line naming a Python interpreter."""
    try:
        with open(path, "rb") as stream:
            first = stream.readline(256)
    except OSError:
        return False
    return first.startswith(b"#!") and b"python" in first


class JestAdapter(CommandAdapter):
    """Run a Jest suite (``jest --json --outputFile``) and read its JSON report.

    ``target`` is a test path pattern, as ``jest`` takes it. Jest's
    ``retryTimes`` retries show up as :class:`~maestro_test_adapters.Attempt`.

    >>> JestAdapter().framework
    'jest'
    """

    framework = "jest"

    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build ``jest --json --outputFile=REPORT --testLocationInResults [extra_args] TARGET``."""
        jest = find_node_tool("jest", "jest", workdir, env)
        return Invocation(
            [
                jest,
                "--json",
                f"--outputFile={report}",
                "--testLocationInResults",
                *extra_args,
                target,
            ]
        )

    def read_report(self, report: Path) -> TestRun:
        """Read Jest's ``--json`` report."""
        return read_results(report, format="jest")


class CucumberJsAdapter(CommandAdapter):
    """Run cucumber-js with the message formatter and read the NDJSON messages.

    Prefer :class:`CucumberAdapter`, which also runs behave; this is the
    cucumber-js half of it.

    >>> CucumberJsAdapter().framework
    'cucumber-js'
    """

    framework = "cucumber-js"

    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build ``cucumber-js --format message:REPORT [extra_args] TARGET``."""
        cucumber = find_node_tool("cucumber-js", "@cucumber/cucumber", workdir, env)
        return Invocation([cucumber, "--format", f"message:{report}", *extra_args, target])

    def read_report(self, report: Path) -> TestRun:
        """Read the Cucumber messages NDJSON stream."""
        return read_results(report, format="cucumber-messages")


class PlaywrightTestAdapter(CommandAdapter):
    """Run ``playwright test`` with the JSON reporter and read its report.

    Prefer :class:`PlaywrightAdapter`, which also runs Python suites; this is
    its Playwright Test half. The browser comes from the project's
    ``playwright.config`` (point ``launchOptions.executablePath`` at the
    system Chromium: this adapter never installs browsers).

    >>> PlaywrightTestAdapter().framework
    'playwright'
    """

    framework = "playwright"

    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build ``playwright test --reporter=json [extra_args] TARGET``."""
        playwright = find_node_tool("playwright", "@playwright/test", workdir, env)
        return Invocation(
            [playwright, "test", "--reporter=json", *extra_args, target],
            env={"PLAYWRIGHT_JSON_OUTPUT_FILE": str(report)},
        )

    def read_report(self, report: Path) -> TestRun:
        """Read Playwright's JSON report."""
        return read_results(report, format="playwright")
