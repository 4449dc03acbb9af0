"""The shared decorator machinery: async detection, metadata, explicit calls."""

from __future__ import annotations

import asyncio
import functools
import inspect
from collections.abc import Callable

import pytest

from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    Policy,
    fallback,
    pipeline,
    retry,
    timeout,
)

POLICIES = [
    pytest.param(lambda: retry(max_attempts=2), id="retry"),
    pytest.param(lambda: CircuitBreaker(), id="breaker"),
    pytest.param(
        lambda: CircuitBreaker(failure_threshold=None, failure_rate_threshold=0.5), id="windowed"
    ),
    pytest.param(lambda: Bulkhead(), id="bulkhead"),
    pytest.param(lambda: timeout(seconds=5), id="timeout"),
    pytest.param(lambda: fallback(value=None), id="fallback"),
    pytest.param(lambda: pipeline(retry(), CircuitBreaker(), Bulkhead()), id="pipeline"),
]


class AsyncCallable:
    async def __call__(self, x: int) -> int:
        return x + 1


async def add(x: int, y: int) -> int:
    return x + y


@pytest.mark.parametrize("make", POLICIES)
def test_async_callables_are_detected_in_every_form(make: Callable[[], Policy]) -> None:
    policy = make()
    for fn, args, expected in [
        (add, (1, 2), 3),
        (functools.partial(add, 10), (5,), 15),
        (AsyncCallable(), (1,), 2),
    ]:
        wrapped = policy(fn)
        assert inspect.iscoroutinefunction(wrapped), fn
        assert asyncio.run(wrapped(*args)) == expected


@pytest.mark.parametrize("make", POLICIES)
def test_sync_functions_stay_sync_and_keep_metadata(make: Callable[[], Policy]) -> None:
    policy = make()

    def multiply(x: int, y: int = 2) -> int:
        """Multiply."""
        return x * y

    wrapped = policy(multiply)
    assert not inspect.iscoroutinefunction(wrapped)
    assert wrapped(3, y=4) == 12
    assert wrapped.__name__ == "multiply"
    assert wrapped.__doc__ == "Multiply."
    assert wrapped.__wrapped__ is multiply
    assert inspect.signature(wrapped) == inspect.signature(multiply)
    assert policy.call(multiply, 5) == 10
    assert asyncio.run(policy.call_async(add, 2, 3)) == 5


def test_forgetting_the_parentheses_is_explained() -> None:
    def fn() -> None:
        pass

    with pytest.raises(TypeError, match=r"@retry\(\)"):
        retry(fn)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"@timeout\(seconds=...\)"):
        timeout(fn)  # type: ignore[arg-type]


def test_decorating_a_non_callable_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="decorates callables"):
        retry()(42)  # type: ignore[arg-type]
