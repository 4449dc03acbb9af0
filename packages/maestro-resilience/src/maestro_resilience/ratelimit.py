"""The rate limiter: a token bucket that waits briefly or rejects."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from ._clock import AsyncSleep, Clock, Sleep
from ._policy import P, Policy, R
from ._validate import check_int, check_positive, check_seconds
from .errors import RateLimitExceeded

__all__ = ["RateLimiter", "RateLimiterMetrics"]

logger = logging.getLogger("maestro_resilience.ratelimit")


@dataclass(frozen=True, slots=True)
class RateLimiterMetrics:
    """A snapshot of a rate limiter.

    Attributes:
        available: Tokens available now (negative while waiters hold reservations).
        acquired: Tokens granted since creation.
        rejected: Requests rejected with :class:`RateLimitExceeded`.
        waited: Requests that had to wait for their tokens.

    >>> from maestro_resilience import FakeClock
    >>> limiter = RateLimiter(rate=5, clock=FakeClock())
    >>> limiter.acquire(2)
    >>> limiter.metrics
    RateLimiterMetrics(available=3.0, acquired=2, rejected=0, waited=0)
    """

    available: float
    acquired: int
    rejected: int
    waited: int


class RateLimiter(Policy):
    """Allow ``rate`` calls per ``per`` seconds on average, with bursts of up to ``burst``.

    A token bucket holding at most ``burst`` tokens, refilled continuously.
    Each call takes a token; if none is left, the caller waits for it when
    that takes at most ``max_wait`` seconds, otherwise
    :class:`RateLimitExceeded` is raised (with ``retry_after``). Waiting callers
    reserve their token first, so they are served in order and never starve;
    no lock is held while waiting.

    Args:
        rate: Tokens added per ``per`` seconds.
        per: Length of the rate period in seconds.
        burst: Bucket size (calls allowed back to back); defaults to
            ``ceil(rate)``. The bucket starts full.
        max_wait: Longest a caller waits for a token (``0``: reject at once).
        name: Name used in errors.
        clock: Monotonic clock; with ``sleep`` and ``async_sleep``, injectable
            for tests (:class:`FakeClock`).

    Raises:
        ValueError: If ``rate``, ``per`` or ``burst`` is not positive, or
            ``max_wait`` is negative.

    >>> from maestro_resilience import FakeClock
    >>> fake = FakeClock()
    >>> limiter = RateLimiter(rate=2, per=1.0, clock=fake, sleep=fake.sleep)
    >>> limiter.try_acquire(), limiter.try_acquire(), limiter.try_acquire()
    (True, True, False)
    >>> fake.advance(0.5)
    >>> limiter.try_acquire()
    True
    """

    def __init__(
        self,
        rate: float,
        per: float = 1.0,
        burst: int | None = None,
        max_wait: float = 0.0,
        *,
        name: str = "rate-limiter",
        clock: Clock = time.monotonic,
        sleep: Sleep = time.sleep,
        async_sleep: AsyncSleep = asyncio.sleep,
    ) -> None:
        rate = check_positive("rate", rate, hint=" (tokens per period)")
        per = check_seconds("per", per, allow_zero=False)
        if burst is None:
            burst = max(1, math.ceil(rate))
        check_int("burst", burst, hint=" (bucket size)")
        check_seconds("max_wait", max_wait)
        self.rate = rate
        self.per = per
        self.burst = burst
        self.max_wait = float(max_wait)
        self.name = name
        self._fill_per_second = rate / per
        self._clock = clock
        self._sleep = sleep
        self._async_sleep = async_sleep
        self._lock = threading.Lock()
        self._tokens = float(burst)
        self._updated = clock()
        # Counters guarded by _lock, like the bucket.
        self._acquired = 0
        self._rejected = 0
        self._waited = 0

    def __repr__(self) -> str:
        return (
            f"RateLimiter(rate={self.rate!r}, per={self.per!r}, burst={self.burst}, "
            f"max_wait={self.max_wait!r})"
        )

    @property
    def metrics(self) -> RateLimiterMetrics:
        """A snapshot of the bucket and counters."""
        with self._lock:
            self._refill(self._clock())
            return RateLimiterMetrics(self._tokens, self._acquired, self._rejected, self._waited)

    def _refill(self, now: float) -> None:
        elapsed = now - self._updated
        if elapsed > 0:
            self._tokens = min(float(self.burst), self._tokens + elapsed * self._fill_per_second)
            self._updated = now

    def _check_tokens(self, tokens: int) -> None:
        if not isinstance(tokens, int) or isinstance(tokens, bool) or not 1 <= tokens <= self.burst:
            raise ValueError(
                f"tokens must be an int between 1 and burst ({self.burst}), got {tokens!r}"
            )

    def _reserve(self, tokens: int, max_wait: float) -> float:
        """Take ``tokens`` now or reserve them; return the seconds to wait, or raise."""
        with self._lock:
            self._refill(self._clock())
            available = self._tokens
            if available >= tokens:
                self._tokens = available - tokens
                self._acquired += tokens
                return 0.0
            wait = (tokens - available) / self._fill_per_second
            if wait > max_wait:
                self._rejected += 1
                error = RateLimitExceeded(self.name, wait)
                logger.debug("%s", error)
                raise error
            self._tokens = available - tokens  # negative: a reservation later callers queue behind
            self._acquired += tokens
            self._waited += 1
            return wait

    def _refund(self, tokens: int) -> None:
        with self._lock:
            self._tokens = min(float(self.burst), self._tokens + tokens)
            self._acquired -= tokens

    def try_acquire(self, tokens: int = 1) -> bool:
        """Take ``tokens`` if available right now; never waits or raises for lack of tokens.

        Raises:
            ValueError: If ``tokens`` is not between 1 and ``burst``.
        """
        if tokens != 1:
            self._check_tokens(tokens)
        try:
            self._reserve(tokens, 0.0)
        except RateLimitExceeded:
            return False
        return True

    def acquire(self, tokens: int = 1) -> None:
        """Take ``tokens``, sleeping up to ``max_wait`` seconds for them.

        Raises:
            RateLimitExceeded: If the tokens would take longer than ``max_wait``.
            ValueError: If ``tokens`` is not between 1 and ``burst``.
        """
        if tokens != 1:
            self._check_tokens(tokens)
        wait = self._reserve(tokens, self.max_wait)
        if wait > 0:
            self._wait(wait, tokens)

    def _wait(self, seconds: float, tokens: int) -> None:
        try:
            self._sleep(seconds)
        except BaseException:
            self._refund(tokens)
            raise

    async def acquire_async(self, tokens: int = 1) -> None:
        """Like :meth:`acquire`, but awaits; a cancelled waiter returns its reservation.

        Raises:
            RateLimitExceeded: If the tokens would take longer than ``max_wait``.
            ValueError: If ``tokens`` is not between 1 and ``burst``.
        """
        if tokens != 1:
            self._check_tokens(tokens)
        wait = self._reserve(tokens, self.max_wait)
        if wait > 0:
            try:
                await self._async_sleep(wait)
            except BaseException:
                self._refund(tokens)
                raise

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        reserve, wait_for, max_wait = self._reserve, self._wait, self.max_wait

        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            wait = reserve(1, max_wait)
            if wait > 0:
                wait_for(wait, 1)
            return fn(*args, **kwargs)

        return wrapper

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        acquire = self.acquire_async

        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            await acquire()
            return await fn(*args, **kwargs)

        return wrapper

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` once a token is available.

        Raises:
            RateLimitExceeded: If no token is available within ``max_wait``.
        """
        self.acquire()
        return fn(*args, **kwargs)
