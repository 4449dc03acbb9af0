"""Retry with backoff, a time budget, result predicates and Retry-After hints."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, NoReturn

from . import _clock
from ._clock import AsyncSleep, Clock, Sleep
from ._policy import _NEVER_HANDLED, P, Policy, R, _Counter, _name_of
from ._validate import check_int, check_seconds, exception_types
from .backoff import Backoff, ExponentialBackoff
from .errors import RetryExhaustedError

__all__ = ["Retry", "RetryEvent", "RetryInfo", "RetryMetrics", "retry", "retry_info"]

logger = logging.getLogger("maestro_resilience.retry")

# Earlier failures kept on the final exception; bounded so that endless retries
# cannot pin an unbounded number of tracebacks in memory.
_KEPT_FAILURES = 32
_INFO_ATTRIBUTE = "__maestro_retry_info__"


@dataclass(frozen=True, slots=True)
class RetryInfo:
    """What a retry policy attached to the exception it finally re-raised.

    Attributes:
        attempts: How many attempts were made in total.
        elapsed: Seconds from the first failure until giving up (from the start
            of the first attempt when ``max_total_time`` is set).
        earlier_failures: Exceptions of the earlier failed attempts, oldest first
            (at most the last 32).

    See :func:`retry_info` for an example.
    """

    attempts: int
    elapsed: float
    earlier_failures: tuple[BaseException, ...]


def retry_info(exc: BaseException) -> RetryInfo | None:
    """Return the :class:`RetryInfo` attached to ``exc``, or ``None`` if it was not retried.

    >>> @retry(max_attempts=2, on=(KeyError,))
    ... def lookup() -> int:
    ...     return {}["missing"]
    >>> from maestro_resilience import set_testing
    >>> with set_testing(True):
    ...     try:
    ...         lookup()
    ...     except KeyError as exc:
    ...         info = retry_info(exc)
    >>> info.attempts, [type(e).__name__ for e in info.earlier_failures]
    (2, ['KeyError'])
    """
    info = getattr(exc, _INFO_ATTRIBUTE, None)
    return info if isinstance(info, RetryInfo) else None


@dataclass(frozen=True, slots=True)
class RetryEvent:
    """Passed to the ``on_retry`` hook before each wait.

    Attributes:
        name: Name of the retried function.
        attempt: Number of the attempt that just failed (1-based).
        delay: Seconds the policy is about to wait.
        elapsed: Seconds since the first attempt failed (since it started when
            ``max_total_time`` is set), like :attr:`RetryInfo.elapsed`.
        exception: The exception of the failed attempt, or ``None`` if its
            result was rejected by ``retry_if_result``.
        result: The rejected result (``None`` when ``exception`` is set).

    >>> events = []
    >>> answers = iter([None, 42])
    >>> poll = retry(retry_if_result=lambda r: r is None, on_retry=events.append,
    ...              sleep=lambda seconds: None)
    >>> poll(lambda: next(answers))()
    42
    >>> events[0].attempt, events[0].result, events[0].exception
    (1, None, None)
    """

    name: str
    attempt: int
    delay: float
    elapsed: float
    exception: BaseException | None
    result: object


@dataclass(frozen=True, slots=True)
class RetryMetrics:
    """Counters of a :class:`Retry` policy since creation.

    Calls that succeed at the first attempt are deliberately not counted: that keeps
    the success path free of bookkeeping (a :class:`CircuitBreaker` counts calls).

    Attributes:
        retries: Attempts after the first one.
        recovered: Calls that succeeded after at least one retry.
        gave_up: Calls whose failure the policy handled but did not retry further
            (attempts or budget exhausted, or the error not retryable).

    >>> policy = retry(max_attempts=2, sleep=lambda seconds: None)
    >>> attempts = iter([OSError("flaky"), "ok"])
    >>> def read() -> str:
    ...     item = next(attempts)
    ...     if isinstance(item, Exception):
    ...         raise item
    ...     return item
    >>> policy.call(read)
    'ok'
    >>> policy.metrics
    RetryMetrics(retries=1, recovered=1, gave_up=0)
    """

    retries: int
    recovered: int
    gave_up: int


class Retry(Policy):
    """Retry a failing call with backoff; create it with :func:`retry`.

    >>> retry(max_attempts=5)
    Retry(max_attempts=5, on=(<class 'Exception'>,), backoff=ExponentialBackoff(...), ...)
    """

    __slots__ = (
        "_async_sleep",
        "_clock",
        "_gave_up",
        "_recovered",
        "_retries",
        "_sleep",
        "backoff",
        "max_attempts",
        "max_total_time",
        "name",
        "on",
        "on_retry",
        "respect_retry_after",
        "retry_if",
        "retry_if_result",
    )

    def __init__(
        self,
        max_attempts: int | None = 3,
        *,
        on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
        retry_if: Callable[[BaseException], bool] | None = None,
        retry_if_result: Callable[[Any], bool] | None = None,
        backoff: Backoff | None = None,
        max_total_time: float | None = None,
        respect_retry_after: bool = True,
        on_retry: Callable[[RetryEvent], object] | None = None,
        name: str | None = None,
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        async_sleep: AsyncSleep = asyncio.sleep,
    ) -> None:
        if callable(max_attempts):
            raise TypeError("retry must be called before decorating: write @retry() or @retry(...)")
        if max_attempts is not None:
            check_int("max_attempts", max_attempts, hint=" (1 means no retry) or None for no limit")
        if max_total_time is not None:
            check_seconds("max_total_time", max_total_time, allow_zero=False, hint=" or None")
        types = exception_types("on", on)
        if backoff is not None and not isinstance(backoff, Backoff):
            raise ValueError(
                "backoff must have a delays() method (see maestro_resilience.backoff), "
                f"got {backoff!r}"
            )
        self.max_attempts = max_attempts
        self.on = types
        self.retry_if = retry_if
        self.retry_if_result = retry_if_result
        self.backoff: Backoff = backoff if backoff is not None else ExponentialBackoff()
        self.max_total_time = max_total_time
        self.respect_retry_after = respect_retry_after
        self.on_retry = on_retry
        self.name = name
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._retries = _Counter()
        self._recovered = _Counter()
        self._gave_up = _Counter()

    def __repr__(self) -> str:
        return (
            f"Retry(max_attempts={self.max_attempts!r}, on={self.on!r}, backoff={self.backoff!r}, "
            f"max_total_time={self.max_total_time!r})"
        )

    @property
    def metrics(self) -> RetryMetrics:
        """A snapshot of this policy's counters."""
        return RetryMetrics(
            retries=self._retries.value,
            recovered=self._recovered.value,
            gave_up=self._gave_up.value,
        )

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        catch = self.on
        retry_sync = self._retry_sync
        check = self.retry_if_result
        clock = self._clock
        if check is None and self.max_total_time is None:
            # The common case gets the leanest possible success path.
            def plain(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return fn(*args, **kwargs)
                except catch as exc:
                    error = exc
                # Retry outside the ``except`` block: later failures must not be chained
                # to this one as "during handling of the above exception".
                return retry_sync(fn, args, kwargs, error, None, 0.0)

            return plain

        timed = self.max_total_time is not None

        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            start = clock() if timed else 0.0
            try:
                result = fn(*args, **kwargs)
            except catch as exc:
                error: BaseException | None = exc
                rejected: object = None
            else:
                if check is None or not check(result):
                    return result
                error, rejected = None, result
            return retry_sync(fn, args, kwargs, error, rejected, start)

        return checked

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        catch = self.on
        retry_async = self._retry_async
        check = self.retry_if_result
        clock = self._clock
        timed = self.max_total_time is not None
        if check is None and not timed:

            async def plain(*args: P.args, **kwargs: P.kwargs) -> R:
                try:
                    return await fn(*args, **kwargs)
                except catch as exc:
                    error = exc
                return await retry_async(fn, args, kwargs, error, None, 0.0)

            return plain

        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            start = clock() if timed else 0.0
            try:
                result = await fn(*args, **kwargs)
            except catch as exc:
                error: BaseException | None = exc
                rejected: object = None
            else:
                if check is None or not check(result):
                    return result
                error, rejected = None, result
            return await retry_async(fn, args, kwargs, error, rejected, start)

        return wrapper

    def _retry_sync(
        self,
        fn: Callable[..., R],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        exc: BaseException | None,
        result: Any,
        start: float,
    ) -> R:
        run = _Run(self, fn, start)
        while True:
            delay = run.next_delay(exc, result)
            if delay > 0:
                self._sleep(delay)
            try:
                result = fn(*args, **kwargs)
            except BaseException as error:
                exc, result = error, None
                continue
            exc = None
            if not run.result_rejected(result):
                return result  # type: ignore[no-any-return]

    async def _retry_async(
        self,
        fn: Callable[..., Awaitable[R]],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        exc: BaseException | None,
        result: Any,
        start: float,
    ) -> R:
        run = _Run(self, fn, start)
        while True:
            delay = run.next_delay(exc, result)
            if delay > 0:
                await self._async_sleep(delay)
            try:
                result = await fn(*args, **kwargs)
            except BaseException as error:
                exc, result = error, None
                continue
            exc = None
            if not run.result_rejected(result):
                return result  # type: ignore[no-any-return]


class _Run:
    """The retry decisions of one call after its first attempt failed (shared by sync and async)."""

    __slots__ = (
        "attempt",
        "delays",
        "failures",
        "fn",
        "max_attempts",
        "policy",
        "start",
        "zero_wait",
    )

    def __init__(self, policy: Retry, fn: Callable[..., Any], start: float) -> None:
        mode = _clock._testing_mode()
        self.policy = policy
        self.fn = fn
        self.attempt = 1
        self.delays = policy.backoff.delays()
        self.failures: list[BaseException] = []
        self.max_attempts = policy.max_attempts
        if mode.max_attempts is not None:
            self.max_attempts = min(self.max_attempts or mode.max_attempts, mode.max_attempts)
        self.zero_wait = mode.enabled
        # Without a budget the clock is not read on the success path; start now.
        self.start = start if policy.max_total_time is not None else policy._clock()

    def result_rejected(self, result: object) -> bool:
        check = self.policy.retry_if_result
        if check is not None and check(result):
            return True
        if self.attempt > 1:
            self.policy._recovered.increment()
        return False

    def next_delay(self, exc: BaseException | None, result: object) -> float:
        """Return how long to wait before the next attempt, or raise to give up."""
        policy = self.policy
        if exc is not None and not self._retryable(exc):
            self._give_up(exc)
        if self.max_attempts is not None and self.attempt >= self.max_attempts:
            self._give_up(exc, result)
        delay = next(self.delays, None)
        if delay is None:  # a finite schedule ran out: that ends the retries too
            self._give_up(exc, result)
        if exc is not None and policy.respect_retry_after:
            hint = getattr(exc, "retry_after", None)
            if isinstance(hint, int | float) and not isinstance(hint, bool) and hint > delay:
                delay = float(hint)
        if self.zero_wait:
            delay = 0.0
        elapsed = policy._clock() - self.start
        if policy.max_total_time is not None and elapsed + delay > policy.max_total_time:
            # Waiting would overshoot the budget: give up now rather than sleep past the deadline.
            self._give_up(exc, result)
        event = RetryEvent(
            name=self._name(),
            attempt=self.attempt,
            delay=delay,
            elapsed=elapsed,
            exception=exc,
            result=result,
        )
        if exc is not None:
            self._remember(exc)
        logger.info(
            "retrying %s in %.3f s after attempt %d failed: %s",
            event.name,
            delay,
            self.attempt,
            repr(exc) if exc is not None else f"result {result!r} rejected",
        )
        if policy.on_retry is not None:
            policy.on_retry(event)
        self.attempt += 1
        policy._retries.increment()
        return delay

    def _retryable(self, exc: BaseException) -> bool:
        policy = self.policy
        if isinstance(exc, _NEVER_HANDLED) or not isinstance(exc, policy.on):
            return False
        return policy.retry_if is None or bool(policy.retry_if(exc))

    def _remember(self, exc: BaseException) -> None:
        self.failures.append(exc)
        if len(self.failures) > _KEPT_FAILURES:
            del self.failures[0]

    def _name(self) -> str:
        return self.policy.name or _name_of(self.fn)

    def _give_up(self, exc: BaseException | None, result: object = None) -> NoReturn:
        self.policy._gave_up.increment()
        elapsed = self.policy._clock() - self.start
        if exc is None:
            raise RetryExhaustedError(self._name(), attempts=self.attempt, last_result=result)
        if self.attempt > 1 and getattr(exc, _INFO_ATTRIBUTE, None) is None:
            earlier = tuple(e for e in self.failures if e is not exc)
            try:
                setattr(exc, _INFO_ATTRIBUTE, RetryInfo(self.attempt, elapsed, earlier))
            except (AttributeError, TypeError):  # exceptions with __slots__ cannot carry it
                pass
            exc.add_note(
                f"maestro_resilience.retry: gave up on {self._name()} "
                f"after {self.attempt} attempts ({elapsed:.3f} s)"
            )
        raise exc


def retry(
    max_attempts: int | None = 3,
    *,
    on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    retry_if: Callable[[BaseException], bool] | None = None,
    retry_if_result: Callable[[Any], bool] | None = None,
    backoff: Backoff | None = None,
    max_total_time: float | None = None,
    respect_retry_after: bool = True,
    on_retry: Callable[[RetryEvent], object] | None = None,
    name: str | None = None,
    clock: Clock = time.monotonic,
    sleep: Sleep = time.sleep,
    async_sleep: AsyncSleep = asyncio.sleep,
) -> Retry:
    """Retry a call that fails, waiting according to ``backoff`` between attempts.

    An attempt is retried when it raises an instance of ``on`` for which
    ``retry_if`` (if given) returns true, or when it returns a value for which
    ``retry_if_result`` returns true. :class:`asyncio.CancelledError`,
    :class:`KeyboardInterrupt`, :class:`SystemExit` and :class:`GeneratorExit`
    are never retried.

    When the policy gives up, the caller gets the **last original exception**
    (its :func:`retry_info` gives the attempt count and the earlier failures),
    or :class:`~maestro_resilience.RetryExhaustedError` if the last attempt
    returned a rejected result.

    Args:
        max_attempts: Total attempts including the first (``1`` disables
            retrying; ``None`` means no limit, pair it with ``max_total_time``).
        on: Exception class(es) to retry.
        retry_if: Extra predicate on the exception; retry only if it returns true.
        retry_if_result: Predicate on the return value; retry while it returns true
            (polling).
        backoff: Delay schedule; defaults to ``ExponentialBackoff()`` (0.1 s
            doubling up to 30 s, full jitter). A schedule whose iterator runs
            out ends the retries as if ``max_attempts`` were reached.
        max_total_time: Budget in seconds from the first attempt. The policy
            never sleeps past it: if the next wait would cross it, it gives up.
        respect_retry_after: Wait at least ``exc.retry_after`` seconds when the
            exception carries such a hint (as :class:`CircuitOpenError` and
            :class:`RateLimitExceeded` do; set it on your own HTTP errors).
        on_retry: Called with a :class:`RetryEvent` before each wait.
        name: Name used in logs and errors; defaults to the function's name.
        clock: Monotonic clock used for the budget.
        sleep: Blocking sleep used between sync attempts.
        async_sleep: Awaitable sleep used between async attempts.

    Raises:
        ValueError: If ``max_attempts`` < 1, ``max_total_time`` <= 0, ``on`` is
            not exception classes, or ``backoff`` has no ``delays()`` method.

    >>> from maestro_resilience import ConstantBackoff, FakeClock
    >>> fake = FakeClock()
    >>> answers = iter(["pending", "pending", "done"])
    >>> @retry(max_attempts=5, retry_if_result=lambda status: status != "done",
    ...        backoff=ConstantBackoff(2.0), clock=fake, sleep=fake.sleep)
    ... def job_status() -> str:
    ...     return next(answers)
    >>> job_status(), fake.sleeps
    ('done', [2.0, 2.0])
    """
    return Retry(
        max_attempts,
        on=on,
        retry_if=retry_if,
        retry_if_result=retry_if_result,
        backoff=backoff,
        max_total_time=max_total_time,
        respect_retry_after=respect_retry_after,
        on_retry=on_retry,
        name=name,
        clock=clock,
        sleep=sleep,
        async_sleep=async_sleep,
    )
