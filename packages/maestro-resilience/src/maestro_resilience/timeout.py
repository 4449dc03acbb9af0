"""The timeout policy: stop waiting for a call that takes too long."""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any

from ._policy import P, Policy, R, _Counter, _name_of
from ._validate import check_seconds
from ._workers import WORKERS
from .errors import CallTimeoutError

__all__ = ["Timeout", "TimeoutMetrics", "timeout"]

logger = logging.getLogger("maestro_resilience.timeout")


@dataclass(frozen=True, slots=True)
class TimeoutMetrics:
    """A snapshot of a timeout policy's counters.

    Attributes:
        calls: Calls made through the policy.
        timeouts: Calls that raised :class:`CallTimeoutError`.
        abandoned_running: Sync worker threads whose caller timed out and that
            are still running the function now.

    >>> policy = timeout(seconds=1.0)
    >>> policy.call(sum, [1, 2])
    3
    >>> policy.metrics
    TimeoutMetrics(calls=1, timeouts=0, abandoned_running=0)
    """

    calls: int
    timeouts: int
    abandoned_running: int


class _Outcome:
    __slots__ = ("abandoned", "done", "error", "result")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.abandoned = False
        self.result: Any = None
        self.error: BaseException | None = None


class Timeout(Policy):
    """Give up waiting after ``seconds``; create it with :func:`timeout`.

    >>> timeout(seconds=2.5)
    Timeout(seconds=2.5)
    """

    __slots__ = ("_abandoned", "_calls", "_lock", "_timeouts", "name", "seconds")

    def __init__(self, seconds: float, *, name: str | None = None) -> None:
        if callable(seconds):
            raise TypeError("timeout needs a duration: write @timeout(seconds=...)")
        check_seconds("seconds", seconds, allow_zero=False)
        self.seconds = float(seconds)
        self.name = name
        self._lock = threading.Lock()
        self._abandoned = 0
        self._calls = _Counter()
        self._timeouts = _Counter()

    def __repr__(self) -> str:
        return f"Timeout(seconds={self.seconds!r})"

    @property
    def metrics(self) -> TimeoutMetrics:
        """A snapshot of the counters."""
        return TimeoutMetrics(self._calls.value, self._timeouts.value, self._abandoned)

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        seconds = self.seconds
        name = self.name or _name_of(fn)
        count_call, count_timeout = self._calls.increment, self._timeouts.increment

        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            count_call()
            deadline = asyncio.timeout(seconds)
            try:
                async with deadline:
                    return await fn(*args, **kwargs)
            except TimeoutError as exc:
                if not deadline.expired():
                    raise  # the function's own TimeoutError, not ours
                count_timeout()
                logger.info("%s timed out after %.3f s and was cancelled", name, seconds)
                raise CallTimeoutError(name, seconds) from exc

        return wrapper

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        seconds = self.seconds
        name = self.name or _name_of(fn)
        count_call, count_timeout = self._calls.increment, self._timeouts.increment
        run = self._run_in_worker

        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            count_call()
            outcome = _Outcome()
            WORKERS.run(partial(run, outcome, contextvars.copy_context(), fn, args, kwargs))
            if not outcome.done.wait(seconds):
                with self._lock:
                    if not outcome.done.is_set():
                        outcome.abandoned = True
                        self._abandoned += 1
                if outcome.abandoned:
                    count_timeout()
                    logger.warning(
                        "%s timed out after %.3f s; its worker thread runs on until it returns",
                        name,
                        seconds,
                    )
                    raise CallTimeoutError(name, seconds)
            if outcome.error is not None:
                try:
                    raise outcome.error
                finally:
                    outcome.error = None  # no reference cycle through the traceback
            return outcome.result  # type: ignore[no-any-return]

        return wrapper

    def _run_in_worker(
        self,
        outcome: _Outcome,
        context: contextvars.Context,
        fn: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> None:
        try:
            outcome.result = context.run(fn, *args, **kwargs)
        except BaseException as exc:
            outcome.error = exc
        with self._lock:
            outcome.done.set()
            if outcome.abandoned:
                self._abandoned -= 1


def timeout(seconds: float, *, name: str | None = None) -> Timeout:
    """Raise :class:`~maestro_resilience.CallTimeoutError` (a ``TimeoutError``) after ``seconds``.

    * ``async def`` functions are **cancelled** when the time is up
      (:func:`asyncio.timeout`), so their ``finally`` blocks run.
    * Plain functions run in a daemon worker thread while the caller waits.
      Python cannot stop a thread, so on timeout **the function keeps running
      in the background** until it returns (``metrics.abandoned_running``
      counts such calls); then its thread goes back to a small pool of parked
      workers, which end after 30 s without work, so nothing is leaked. Only
      use it for functions that eventually return and whose late side effects
      are harmless, and prefer the library's own timeouts (``socket``,
      ``requests``, ``subprocess``) where they exist. Context variables are
      copied into the worker.

    Stack it inside :func:`~maestro_resilience.retry` for a per-attempt timeout.

    Args:
        seconds: Time limit per call (> 0).
        name: Name used in the error; defaults to the function's name.

    Raises:
        ValueError: If ``seconds`` is not a positive finite number.

    >>> import asyncio
    >>> @timeout(seconds=0.01)
    ... async def slow() -> None:
    ...     await asyncio.sleep(10)
    >>> asyncio.run(slow())
    Traceback (most recent call last):
    ...
    maestro_resilience.errors.CallTimeoutError: 'slow' did not finish within 0.010 s
    """
    return Timeout(seconds, name=name)
