"""Rate limiter: token bucket refill, bursts, waiting, rejection, cancellation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from maestro_resilience import FakeClock, RateLimiter, RateLimitExceeded


def limiter(fake: FakeClock, **options: Any) -> RateLimiter:
    return RateLimiter(clock=fake, sleep=fake.sleep, async_sleep=fake.async_sleep, **options)


def test_burst_then_refill_at_the_rate() -> None:
    fake = FakeClock()
    bucket = limiter(fake, rate=10, per=1.0, burst=5)
    assert [bucket.try_acquire() for _ in range(6)] == [True] * 5 + [False]
    fake.advance(0.1)  # one token back
    assert bucket.try_acquire()
    assert not bucket.try_acquire()
    fake.advance(100.0)  # never more than burst
    assert bucket.metrics.available == 5.0


def test_rejects_with_retry_after_when_the_wait_is_too_long() -> None:
    fake = FakeClock()
    bucket = limiter(fake, rate=2, per=1.0, max_wait=0.1, name="api")
    bucket.acquire(2)
    with pytest.raises(RateLimitExceeded, match="'api'") as caught:
        bucket.acquire()
    assert caught.value.retry_after == pytest.approx(0.5)
    assert bucket.metrics.rejected == 1


def test_waits_for_a_token_within_max_wait_and_queues_callers_in_order() -> None:
    fake = FakeClock()
    bucket = limiter(fake, rate=4, per=1.0, burst=1, max_wait=1.0)

    @bucket
    def call(n: int) -> int:
        return n

    assert [call(n) for n in range(3)] == [0, 1, 2]
    assert fake.sleeps == [pytest.approx(0.25), pytest.approx(0.25)]
    assert bucket.metrics.waited == 2
    assert bucket.metrics.acquired == 3


def test_reservations_are_fair_for_concurrent_waiters() -> None:
    clock = FakeClock()
    slept: list[float] = []
    bucket = RateLimiter(rate=1, per=1.0, burst=1, max_wait=10.0, clock=clock, sleep=slept.append)
    for _ in range(4):
        bucket.acquire()  # the fake sleep does not advance time: every caller reserves ahead
    assert slept == [pytest.approx(1.0), pytest.approx(2.0), pytest.approx(3.0)]


def test_async_waiting_and_cancellation_returns_the_reservation() -> None:
    bucket = RateLimiter(rate=1, per=10.0, burst=1, max_wait=60.0)

    async def main() -> None:
        await bucket.acquire_async()
        waiter = asyncio.create_task(bucket.acquire_async())
        await asyncio.sleep(0.01)
        assert bucket.metrics.available < 0  # reserved by the waiter
        waiter.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert bucket.metrics.available >= 0

    asyncio.run(asyncio.wait_for(main(), 10))


def test_async_decorator() -> None:
    fake = FakeClock()
    bucket = limiter(fake, rate=1, burst=1, max_wait=5.0)

    @bucket
    async def ping() -> str:
        return "pong"

    async def main() -> list[str]:
        return [await ping(), await ping()]

    assert asyncio.run(main()) == ["pong", "pong"]
    assert fake.sleeps == [pytest.approx(1.0)]


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"rate": 0}, "rate"),
        ({"rate": -5}, "rate"),
        ({"rate": 1, "per": 0}, "per"),
        ({"rate": 1, "burst": 0}, "burst"),
        ({"rate": 1, "max_wait": -1}, "max_wait"),
    ],
)
def test_bad_configuration_names_the_parameter(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        RateLimiter(**options)


def test_asking_for_more_than_the_burst_is_an_error() -> None:
    with pytest.raises(ValueError, match="tokens"):
        RateLimiter(rate=5, burst=2).acquire(3)
