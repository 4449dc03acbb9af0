"""Injectable time sources and the global test switch.

Every time-based policy takes ``clock`` (a monotonic ``() -> float``), ``sleep``
and ``async_sleep`` arguments so that tests can substitute :class:`FakeClock`
instead of waiting for real time to pass.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from ._validate import check_int

__all__ = [
    "AsyncSleep",
    "Clock",
    "FakeClock",
    "Sleep",
    "is_testing",
    "set_testing",
]

Clock = Callable[[], float]
"""A monotonic clock returning seconds, like :func:`time.monotonic`."""

Sleep = Callable[[float], None]
"""A blocking sleep taking seconds, like :func:`time.sleep`."""

AsyncSleep = Callable[[float], Awaitable[None]]
"""An awaitable sleep taking seconds, like :func:`asyncio.sleep`."""


class FakeClock:
    """A manually driven clock whose sleeps advance time instantly.

    Pass ``clock=fake``, ``sleep=fake.sleep`` and ``async_sleep=fake.async_sleep``
    to a policy and time only moves when your test says so.

    >>> fake = FakeClock(start=100.0)
    >>> fake()
    100.0
    >>> fake.sleep(2.5)
    >>> fake.advance(0.5)
    >>> fake(), fake.sleeps
    (103.0, [2.5])
    """

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []
        """Every duration passed to :meth:`sleep` or :meth:`async_sleep`, in order."""

    def __call__(self) -> float:
        """Return the current fake time in seconds."""
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds`` without recording a sleep.

        Raises:
            ValueError: If ``seconds`` is negative (monotonic clocks never go back).
        """
        if seconds < 0:
            raise ValueError(
                f"seconds must be >= 0 (a monotonic clock never goes back), got {seconds!r}"
            )
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        """Record the sleep and advance time by ``seconds`` immediately."""
        with self._lock:
            self.sleeps.append(seconds)
            self._now += max(seconds, 0.0)

    async def async_sleep(self, seconds: float) -> None:
        """Like :meth:`sleep`, but yields to the event loop once."""
        self.sleep(seconds)
        await asyncio.sleep(0)


@dataclass(frozen=True, slots=True)
class _TestingMode:
    enabled: bool = False
    max_attempts: int | None = None


_testing = _TestingMode()


class _RestoreOnExit:
    """Returned by :func:`set_testing` so that it also works as a ``with`` block."""

    __slots__ = ("_previous",)

    def __init__(self, previous: _TestingMode) -> None:
        self._previous = previous

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc_info: object) -> None:
        global _testing
        _testing = self._previous


def set_testing(enabled: bool, *, max_attempts: int | None = None) -> AbstractContextManager[None]:
    """Switch the global test mode on or off.

    While on, :func:`~maestro_resilience.retry` never waits between attempts
    (the backoff delay becomes zero and ``sleep`` is not called), and, if
    ``max_attempts`` is given, no retry policy makes more attempts than that.
    Call it from a pytest fixture or ``conftest.py`` to keep test suites fast,
    or use it as a context manager: the previous mode is restored when the
    ``with`` block ends.

    Args:
        enabled: ``True`` to turn test mode on, ``False`` to restore normal waits.
        max_attempts: Optional cap on attempts of every retry policy.

    Raises:
        ValueError: If ``max_attempts`` is smaller than 1.

    >>> from maestro_resilience import retry
    >>> calls = []
    >>> @retry(max_attempts=3, on=(ValueError,))
    ... def flaky() -> str:
    ...     calls.append(1)
    ...     if len(calls) < 3:
    ...         raise ValueError("not yet")
    ...     return "ok"
    >>> with set_testing(True):
    ...     flaky()
    'ok'
    >>> is_testing()
    False
    """
    global _testing
    if max_attempts is not None:
        check_int("max_attempts", max_attempts, hint=" or None")
    previous = _testing
    _testing = _TestingMode(enabled=enabled, max_attempts=max_attempts if enabled else None)
    return _RestoreOnExit(previous)


def is_testing() -> bool:
    """Return whether the global test mode is on (see :func:`set_testing`).

    >>> with set_testing(True):
    ...     is_testing()
    True
    """
    return _testing.enabled


def _testing_mode() -> _TestingMode:
    return _testing
