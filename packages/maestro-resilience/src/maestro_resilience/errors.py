"""Exceptions raised by the policies.

All of them derive from :class:`ResilienceError`, so ``except ResilienceError``
catches every rejection made by this package (never an error of your own code).
Rejections that tell you when to try again carry a ``retry_after`` attribute in
seconds, which :func:`~maestro_resilience.retry` honours as a hint.
"""

from __future__ import annotations

__all__ = [
    "BulkheadFullError",
    "CallTimeoutError",
    "CircuitOpenError",
    "RateLimitExceeded",
    "ResilienceError",
    "RetryExhaustedError",
]


class ResilienceError(Exception):
    """Base class of every error raised by a maestro-resilience policy.

    >>> issubclass(CircuitOpenError, ResilienceError)
    True
    """


class CircuitOpenError(ResilienceError):
    """The circuit breaker rejected the call without running it.

    Attributes:
        breaker_name: Name of the breaker that rejected the call.
        retry_after: Seconds until the breaker lets a probe call through
            (``0.0`` when it is half-open and all probe slots are busy).

    >>> err = CircuitOpenError("payments", retry_after=12.5)
    >>> err.retry_after
    12.5
    >>> print(err)
    circuit breaker 'payments' is open; calls are rejected for another 12.500 s
    """

    def __init__(self, breaker_name: str, retry_after: float, *, half_open: bool = False) -> None:
        self.breaker_name = breaker_name
        self.retry_after = retry_after
        if half_open:
            message = (
                f"circuit breaker {breaker_name!r} is half-open and all probe slots are busy; "
                "retry once the probe calls finish"
            )
        else:
            message = (
                f"circuit breaker {breaker_name!r} is open; "
                f"calls are rejected for another {retry_after:.3f} s"
            )
        super().__init__(message)

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_circuit_open, (self.breaker_name, self.retry_after, str(self)))


def _rebuild_circuit_open(name: str, retry_after: float, message: str) -> CircuitOpenError:
    err = CircuitOpenError(name, retry_after)
    err.args = (message,)
    return err


class BulkheadFullError(ResilienceError):
    """The bulkhead had no free slot within ``max_wait`` seconds.

    Attributes:
        bulkhead_name: Name of the bulkhead that rejected the call.
        max_concurrent: The bulkhead's concurrency limit.
        max_wait: How long the caller waited for a slot, in seconds.

    >>> print(BulkheadFullError("db", max_concurrent=4, max_wait=0.0))
    bulkhead 'db' is full (4 concurrent calls) and no slot freed up within 0.000 s; ...
    """

    def __init__(self, bulkhead_name: str, *, max_concurrent: int, max_wait: float) -> None:
        self.bulkhead_name = bulkhead_name
        self.max_concurrent = max_concurrent
        self.max_wait = max_wait
        super().__init__(
            f"bulkhead {bulkhead_name!r} is full ({max_concurrent} concurrent calls) "
            f"and no slot freed up within {max_wait:.3f} s; "
            "raise max_concurrent or max_wait, or shed load"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (
            _rebuild_bulkhead_full,
            (self.bulkhead_name, self.max_concurrent, self.max_wait),
        )


def _rebuild_bulkhead_full(name: str, max_concurrent: int, max_wait: float) -> BulkheadFullError:
    return BulkheadFullError(name, max_concurrent=max_concurrent, max_wait=max_wait)


class RateLimitExceeded(ResilienceError):
    """The rate limiter had no token within ``max_wait`` seconds.

    Attributes:
        limiter_name: Name of the rate limiter that rejected the call.
        retry_after: Seconds until enough tokens will be available.

    >>> print(RateLimitExceeded("api", retry_after=0.25))
    rate limiter 'api' has no token available; the next one is due in 0.250 s
    """

    def __init__(self, limiter_name: str, retry_after: float) -> None:
        self.limiter_name = limiter_name
        self.retry_after = retry_after
        super().__init__(
            f"rate limiter {limiter_name!r} has no token available; "
            f"the next one is due in {retry_after:.3f} s"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (RateLimitExceeded, (self.limiter_name, self.retry_after))


class CallTimeoutError(ResilienceError, TimeoutError):
    """The call did not finish within the timeout.

    It is also a :class:`TimeoutError`, so existing ``except TimeoutError``
    handlers keep working.

    Attributes:
        seconds: The timeout that expired.

    >>> err = CallTimeoutError("fetch", 2.0)
    >>> isinstance(err, TimeoutError)
    True
    >>> print(err)
    'fetch' did not finish within 2.000 s
    """

    def __init__(self, function_name: str, seconds: float) -> None:
        self.function_name = function_name
        self.seconds = seconds
        super().__init__(f"{function_name!r} did not finish within {seconds:.3f} s")

    def __reduce__(self) -> tuple[object, ...]:
        return (CallTimeoutError, (self.function_name, self.seconds))


class RetryExhaustedError(ResilienceError):
    """Every attempt returned a result that the ``retry_if_result`` predicate rejected.

    (When attempts end with an exception, :func:`~maestro_resilience.retry`
    re-raises that original exception instead; see
    :func:`~maestro_resilience.retry_info`.)

    Attributes:
        attempts: How many attempts were made.
        last_result: The result of the final attempt.

    >>> err = RetryExhaustedError("poll", attempts=3, last_result="pending")
    >>> err.last_result
    'pending'
    >>> print(err)
    'poll' gave up after 3 attempts: the result predicate still rejected the last result 'pending'
    """

    def __init__(self, function_name: str, *, attempts: int, last_result: object) -> None:
        self.function_name = function_name
        self.attempts = attempts
        self.last_result = last_result
        super().__init__(
            f"{function_name!r} gave up after {attempts} attempts: "
            f"the result predicate still rejected the last result {last_result!r}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild_retry_exhausted, (self.function_name, self.attempts, self.last_result))


def _rebuild_retry_exhausted(name: str, attempts: int, last_result: object) -> RetryExhaustedError:
    return RetryExhaustedError(name, attempts=attempts, last_result=last_result)
