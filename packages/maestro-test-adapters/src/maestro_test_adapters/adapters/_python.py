"""Adapters for Python suites: pytest (plain, Selenium, Playwright) and behave."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from maestro_test_adapters import browser
from maestro_test_adapters._journal import read_journal
from maestro_test_adapters.adapters._base import CommandAdapter, Invocation, ToolNotFoundError
from maestro_test_adapters.models import TestRun
from maestro_test_adapters.readers import read_results

_PLUGIN_MODULE = "maestro_test_adapters.pytest_plugin"


def _check_python(python: str, modules: Sequence[tuple[str, str]]) -> None:
    """Fail early, with an install hint, when the interpreter or a module is missing."""
    found = shutil.which(python)
    if found is None:
        raise ToolNotFoundError(python, "give the path of an existing Python interpreter")
    # Not resolving symlinks: two virtualenvs share one base interpreter.
    if os.path.abspath(found) != os.path.abspath(sys.executable):
        return  # another environment: its own error message names a missing module
    for module, install in modules:
        if importlib.util.find_spec(module) is None:
            raise ToolNotFoundError(module, f"run `pip install {install}`")


class PytestAdapter(CommandAdapter):
    """Run a pytest suite and read the normalised report written by the pytest plugin.

    The plugin (:mod:`maestro_test_adapters.pytest_plugin`) is loaded
    explicitly, so the suite needs nothing but ``maestro-test-adapters``
    installed in the interpreter that runs it.

    Args:
        python: Interpreter that runs the suite (default: this one).
        reruns: Run a failing test up to this many more times; earlier runs
            are kept as attempts and a test that passes later is flaky.
        artifacts_dir: Where screenshots and other attachments go (default:
            ``maestro-artifacts`` in the working directory).

    >>> PytestAdapter(reruns=1).framework
    'pytest'
    """

    framework = "pytest"

    def __init__(
        self,
        *,
        python: str | os.PathLike[str] = sys.executable,
        reruns: int = 0,
        artifacts_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        if reruns < 0:
            raise ValueError(f"reruns must be 0 or more, got {reruns}")
        self.python = os.fspath(python)
        self.reruns = reruns
        self.artifacts_dir = None if artifacts_dir is None else Path(artifacts_dir)

    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build ``python -m pytest -p <plugin> --maestro-report=REPORT ... TARGET``."""
        _check_python(self.python, self.required_modules())
        argv = [
            self.python,
            "-m",
            "pytest",
            # Block the entry point by name and load the module explicitly:
            # works whether or not the entry point is installed.
            "-p",
            "no:maestro_test_adapters",
            "-p",
            _PLUGIN_MODULE,
            f"--maestro-report={report}",
            f"--maestro-framework={self.framework}",
        ]
        if self.reruns:
            argv.append(f"--maestro-reruns={self.reruns}")
        if self.artifacts_dir is not None:
            argv.append(f"--maestro-artifacts={(workdir / self.artifacts_dir).resolve()}")
        return Invocation([*argv, *extra_args, target], env=self.browser_env(env))

    def read_report(self, report: Path) -> TestRun:
        """Read the plugin's normalised JSON."""
        return TestRun.from_json(report.read_bytes())

    def read_partial(self, report: Path) -> TestRun | None:
        """Read the plugin's journal: the tests that finished before pytest died."""
        return read_journal(report, self.framework)

    def required_modules(self) -> list[tuple[str, str]]:
        """Modules the suite needs, with what to ``pip install`` for each."""
        return [("pytest", "pytest")]

    def browser_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """Variables that configure the browser fixtures in the child.

        ``env`` is the run's environment: a browser location or endpoint set
        there is honoured.

        Raises:
            ToolNotFoundError: A local browser binary is needed but missing.
        """
        return {}


class SeleniumAdapter(PytestAdapter):
    """Run a pytest suite that uses the ``selenium_driver`` fixture.

    The driver is headless system Chromium with chromedriver, or a remote
    Selenium Grid; a failing test gets a screenshot and the page HTML attached.

    Args:
        chromium: Chromium binary (default: found on the system).
        chromedriver: chromedriver binary (default: found on the system).
        remote_url: Selenium Grid URL; when given, no local browser is used.
        python: Interpreter that runs the suite.
        reruns: See :class:`PytestAdapter`.
        artifacts_dir: See :class:`PytestAdapter`.

    >>> SeleniumAdapter(remote_url="http://127.0.0.1:4444").framework
    'selenium'
    """

    framework = "selenium"

    def __init__(
        self,
        *,
        chromium: str | os.PathLike[str] | None = None,
        chromedriver: str | os.PathLike[str] | None = None,
        remote_url: str | None = None,
        python: str | os.PathLike[str] = sys.executable,
        reruns: int = 0,
        artifacts_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(python=python, reruns=reruns, artifacts_dir=artifacts_dir)
        self.chromium = chromium
        self.chromedriver = chromedriver
        self.remote_url = remote_url

    def required_modules(self) -> list[tuple[str, str]]:
        """pytest and selenium."""
        return [*super().required_modules(), ("selenium", "'maestro-test-adapters[selenium]'")]

    def browser_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """Chromium and chromedriver paths, or the Grid URL."""
        remote_url = self.remote_url or env.get(browser.SELENIUM_REMOTE_URL_VARIABLE)
        if remote_url:
            return {browser.SELENIUM_REMOTE_URL_VARIABLE: remote_url}
        return {
            browser.CHROMIUM_VARIABLE: _found(
                browser.find_chromium, self.chromium or env.get(browser.CHROMIUM_VARIABLE)
            ),
            browser.CHROMEDRIVER_VARIABLE: _found(
                browser.find_chromedriver,
                self.chromedriver or env.get(browser.CHROMEDRIVER_VARIABLE),
            ),
        }


class PlaywrightPytestAdapter(PytestAdapter):
    """Run a pytest suite that uses the ``playwright_page`` / ``playwright_browser`` fixtures.

    Prefer :class:`PlaywrightAdapter` with ``runner="pytest"``.

    >>> PlaywrightPytestAdapter(connect="ws://127.0.0.1:3000/").framework
    'playwright'
    """

    framework = "playwright"

    def __init__(
        self,
        *,
        chromium: str | os.PathLike[str] | None = None,
        connect: str | None = None,
        python: str | os.PathLike[str] = sys.executable,
        reruns: int = 0,
        artifacts_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(python=python, reruns=reruns, artifacts_dir=artifacts_dir)
        self.chromium = chromium
        self.connect = connect

    def required_modules(self) -> list[tuple[str, str]]:
        """pytest and playwright."""
        return [
            *super().required_modules(),
            ("playwright", "'maestro-test-adapters[playwright]'"),
        ]

    def browser_env(self, env: Mapping[str, str]) -> dict[str, str]:
        """The Chromium path, or the ``connect`` endpoint."""
        connect = self.connect or env.get(browser.PLAYWRIGHT_ENDPOINT_VARIABLE)
        if connect:
            return {browser.PLAYWRIGHT_ENDPOINT_VARIABLE: connect}
        return {
            browser.CHROMIUM_VARIABLE: _found(
                browser.find_chromium, self.chromium or env.get(browser.CHROMIUM_VARIABLE)
            )
        }


class BehaveAdapter(CommandAdapter):
    """Run a behave suite with its JSON formatter and read the Cucumber JSON.

    Prefer :class:`CucumberAdapter` with ``runner="behave"``.

    >>> BehaveAdapter().framework
    'behave'
    """

    framework = "behave"

    def __init__(self, *, python: str | os.PathLike[str] = sys.executable) -> None:
        self.python = os.fspath(python)

    def invocation(
        self,
        target: str,
        report: Path,
        workdir: Path,
        extra_args: Sequence[str],
        env: Mapping[str, str],
    ) -> Invocation:
        """Build ``python -m behave --format json --outfile REPORT [extra_args] TARGET``."""
        _check_python(self.python, [("behave", "behave")])
        return Invocation(
            [
                self.python,
                "-m",
                "behave",
                "--format",
                "json",
                "--outfile",
                str(report),
                *extra_args,
                target,
            ]
        )

    def read_report(self, report: Path) -> TestRun:
        """Read behave's Cucumber JSON."""
        return read_results(report, format="cucumber-json")


def _found(find: browser.Finder, explicit: str | os.PathLike[str] | None) -> str:
    try:
        return str(find(explicit))
    except browser.BrowserNotFoundError as exc:
        raise ToolNotFoundError(exc.what, exc.install_hint) from None
