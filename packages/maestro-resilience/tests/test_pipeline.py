"""Pipelines: order (outermost first), reuse across functions, sync and async."""

from __future__ import annotations

import asyncio

import pytest

from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    CircuitOpenError,
    ConstantBackoff,
    FakeClock,
    Policy,
    fallback,
    pipeline,
    retry,
    timeout,
)


class Recorder(Policy):
    """A policy that logs when it is entered, to observe the composition order."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name, self.log = name, log

    def _wrap_sync(self, fn):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.log.append(self.name)
            return fn(*args, **kwargs)

        return wrapper

    def _wrap_async(self, fn):  # type: ignore[no-untyped-def]
        async def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.log.append(self.name)
            return await fn(*args, **kwargs)

        return wrapper


def test_outermost_policy_runs_first_sync_and_async() -> None:
    log: list[str] = []
    composed = pipeline(Recorder("a", log), Recorder("b", log), Recorder("c", log))
    assert composed(lambda: "x")() == "x"

    async def coro() -> str:
        return "y"

    assert asyncio.run(composed(coro)()) == "y"
    assert log == ["a", "b", "c", "a", "b", "c"]


def test_retry_outside_the_breaker_sees_its_rejections_and_honours_retry_after() -> None:
    fake = FakeClock()
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10.0, clock=fake)
    calls: list[int] = []

    @pipeline(
        retry(max_attempts=4, backoff=ConstantBackoff(1.0), clock=fake, sleep=fake.sleep),
        breaker,
    )
    def unstable() -> str:
        calls.append(1)
        if len(calls) <= 2:
            raise ConnectionError
        return "recovered"

    # attempts 1, 2 fail -> breaker opens; attempt 3 is rejected with retry_after 9 s
    # (1 s already slept); the retry waits it out and attempt 4 probes successfully.
    assert unstable() == "recovered"
    assert fake.sleeps == [1.0, 1.0, pytest.approx(9.0)]
    assert breaker.metrics.rejected == 1


def test_fallback_outermost_catches_what_is_left() -> None:
    fake = FakeClock()
    resilient = pipeline(
        fallback(value="cached"),
        retry(
            max_attempts=2,
            respect_retry_after=False,  # else it would wait out the open breaker (30 s)
            clock=fake,
            sleep=fake.sleep,
            async_sleep=fake.async_sleep,
        ),
        CircuitBreaker(failure_threshold=1, clock=fake),
        Bulkhead(max_concurrent=2),
        timeout(seconds=5),
    )

    @resilient
    def down() -> str:
        raise ConnectionError

    @resilient
    async def up() -> str:
        return "live"

    assert down() == "cached"
    assert asyncio.run(up()) == "cached"  # the shared breaker is open now
    with pytest.raises(CircuitOpenError):
        resilient.policies[2].call(lambda: None)


def test_pipeline_keeps_the_function_name_on_every_layer() -> None:
    names = []
    resilient = pipeline(
        retry(max_attempts=2, on_retry=lambda e: names.append(e.name), sleep=lambda s: None)
    )

    @resilient
    def named() -> None:
        if not names:
            raise OSError

    named()
    assert names == [named.__qualname__]


def test_bad_pipelines() -> None:
    with pytest.raises(ValueError, match="at least one"):
        pipeline()
    with pytest.raises(ValueError, match="argument 1 must be a policy"):
        pipeline(retry(), print)  # type: ignore[arg-type]
