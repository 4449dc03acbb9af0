"""Adapters for frameworks that have more than one runner: Cucumber and Playwright."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Final, Literal

from maestro_test_adapters.adapters._base import CommandAdapter, Target
from maestro_test_adapters.adapters._node import CucumberJsAdapter, PlaywrightTestAdapter
from maestro_test_adapters.adapters._python import BehaveAdapter, PlaywrightPytestAdapter
from maestro_test_adapters.models import TestRun

CucumberRunner = Literal["cucumber-js", "behave"]
PlaywrightRunner = Literal["playwright-test", "pytest"]

CUCUMBER_RUNNERS: Final[tuple[CucumberRunner, ...]] = ("cucumber-js", "behave")
PLAYWRIGHT_RUNNERS: Final[tuple[PlaywrightRunner, ...]] = ("playwright-test", "pytest")


class _Delegating:
    """Forwards :meth:`run` to the adapter of the chosen runner."""

    def __init__(self, delegate: CommandAdapter) -> None:
        self.delegate = delegate

    @property
    def framework(self) -> str:
        """Framework name reported in the run (the runner's)."""
        return self.delegate.framework

    def run(
        self,
        target: Target,
        *,
        timeout: float | None = None,
        env: Mapping[str, str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        extra_args: Sequence[str] = (),
    ) -> TestRun:
        """Run ``target`` (see :class:`~maestro_test_adapters.adapters.Adapter`)."""
        return self.delegate.run(
            target, timeout=timeout, env=env, workdir=workdir, extra_args=extra_args
        )


class CucumberAdapter(_Delegating):
    """Run a Cucumber suite with cucumber-js (message formatter) or behave (JSON formatter).

    Args:
        runner: ``"cucumber-js"`` (``cucumber-js --format message:...``; pass
            ``--retry N`` in ``extra_args`` to keep attempts) or ``"behave"``.
        python: Interpreter for behave.

    >>> CucumberAdapter().framework, CucumberAdapter(runner="behave").framework
    ('cucumber-js', 'behave')
    """

    def __init__(
        self,
        runner: CucumberRunner = "cucumber-js",
        *,
        python: str | os.PathLike[str] = sys.executable,
    ) -> None:
        if runner == "cucumber-js":
            super().__init__(CucumberJsAdapter())
        elif runner == "behave":
            super().__init__(BehaveAdapter(python=python))
        else:
            raise ValueError(f"unknown Cucumber runner {runner!r}: use one of {CUCUMBER_RUNNERS}")


class PlaywrightAdapter(_Delegating):
    """Run a Playwright suite: ``playwright test`` (JSON reporter) or pytest with our fixtures.

    Args:
        runner: ``"playwright-test"`` for a Node.js project, ``"pytest"`` for
            Python tests that use the ``playwright_page`` fixture.
        chromium: Chromium binary for Python suites (default: the system's).
        connect: Playwright server endpoint for Python suites.
        python: Interpreter for Python suites.
        reruns: Reruns of failing Python tests (Playwright Test has ``--retries``).

    >>> PlaywrightAdapter().framework, PlaywrightAdapter(runner="pytest").framework
    ('playwright', 'playwright')
    """

    def __init__(
        self,
        runner: PlaywrightRunner = "playwright-test",
        *,
        chromium: str | os.PathLike[str] | None = None,
        connect: str | None = None,
        python: str | os.PathLike[str] = sys.executable,
        reruns: int = 0,
    ) -> None:
        if runner == "playwright-test":
            super().__init__(PlaywrightTestAdapter())
        elif runner == "pytest":
            super().__init__(
                PlaywrightPytestAdapter(
                    chromium=chromium, connect=connect, python=python, reruns=reruns
                )
            )
        else:
            raise ValueError(
                f"unknown Playwright runner {runner!r}: use one of {PLAYWRIGHT_RUNNERS}"
            )
