"""Pipelines: several policies applied as one, outermost first."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from ._policy import P, Policy, R

__all__ = ["Pipeline", "pipeline"]


class Pipeline(Policy):
    """Policies composed outermost first; create it with :func:`pipeline`.

    >>> from maestro_resilience import fallback, timeout
    >>> pipeline(fallback(value=None), timeout(seconds=1.0)).policies
    (Fallback(value=None, on=(<class 'Exception'>,)), Timeout(seconds=1.0))
    """

    __slots__ = ("policies",)

    def __init__(self, *policies: Policy) -> None:
        if not policies:
            raise ValueError("pipeline needs at least one policy")
        for position, policy in enumerate(policies):
            if not isinstance(policy, Policy):
                raise ValueError(
                    f"pipeline argument {position} must be a policy "
                    f"(retry(...), CircuitBreaker(...), ...), got {policy!r}"
                )
        self.policies: tuple[Policy, ...] = policies

    def __repr__(self) -> str:
        return f"pipeline({', '.join(map(repr, self.policies))})"

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        wrapped = fn
        for policy in reversed(self.policies):
            # Keep the original name on every layer so logs and errors name the user's function.
            wrapped = functools.update_wrapper(policy._wrap_sync(wrapped), fn)
        return wrapped

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        wrapped: Callable[P, Awaitable[R]] = fn
        for policy in reversed(self.policies):
            wrapped = functools.update_wrapper(policy._wrap_async(wrapped), fn)
        return wrapped  # type: ignore[return-value]


def pipeline(*policies: Policy) -> Pipeline:
    """Compose policies into one, **outermost first**.

    ``pipeline(a, b, c)(fn)`` behaves like ``a(b(c(fn)))``: ``a`` sees what
    ``b`` raises, and so on. The usual order, as in Polly and resilience4j, is::

        pipeline(fallback(...), retry(...), CircuitBreaker(...),
                 RateLimiter(...), Bulkhead(...), timeout(...))

    so each retry attempt goes through the breaker (which can then reject it
    quickly with a ``retry_after`` hint that the retry honours) and gets its own
    timeout. A pipeline is a policy: reuse it on many functions, sync or
    async, or nest it in another pipeline. Stateful policies (breaker,
    bulkhead, rate limiter) are shared by every function the pipeline decorates.

    Raises:
        ValueError: If called without policies or with something that is not a policy.

    >>> from maestro_resilience import CircuitBreaker, fallback, retry, set_testing
    >>> resilient = pipeline(fallback(value="offline"), retry(max_attempts=2), CircuitBreaker())
    >>> @resilient
    ... def fetch() -> str:
    ...     raise ConnectionError("no route to host")
    >>> with set_testing(True):
    ...     fetch()
    'offline'
    """
    return Pipeline(*policies)
