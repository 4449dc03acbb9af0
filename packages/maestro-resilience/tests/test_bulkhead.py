"""Bulkhead: limits, waiting, handing slots over, cancellation, threads and asyncio."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from maestro_resilience import Bulkhead, BulkheadFullError, BulkheadMetrics


def test_rejects_at_once_when_full_and_max_wait_is_zero() -> None:
    bulkhead = Bulkhead(max_concurrent=2, name="db")
    bulkhead.acquire()
    bulkhead.acquire()
    with pytest.raises(BulkheadFullError, match="'db' is full") as caught:
        bulkhead.call(lambda: None)
    assert caught.value.max_concurrent == 2
    bulkhead.release()
    assert bulkhead.call(lambda: "in") == "in"
    metrics = bulkhead.metrics
    assert (metrics.active, metrics.accepted, metrics.rejected) == (1, 3, 1)


def test_a_waiting_thread_gets_the_slot_when_it_is_released() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=30.0)
    bulkhead.acquire()
    got_in = threading.Event()

    def waiter() -> None:
        with bulkhead:
            got_in.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    while bulkhead.metrics.waiting == 0:  # until the waiter is queued
        threading.Event().wait(0.001)
    assert not got_in.is_set()
    bulkhead.release()
    assert got_in.wait(timeout=10)
    thread.join(timeout=10)
    assert bulkhead.metrics.active == 0


def test_a_thread_gives_up_after_max_wait() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=0.05)
    with bulkhead:
        with pytest.raises(BulkheadFullError) as caught:
            bulkhead.acquire()
    assert caught.value.max_wait == 0.05
    assert bulkhead.metrics == BulkheadMetrics(
        max_concurrent=1, active=0, waiting=0, accepted=1, rejected=1
    )


def test_release_without_acquire_is_an_error() -> None:
    with pytest.raises(RuntimeError, match="released more often"):
        Bulkhead().release()


def test_async_tasks_wait_their_turn_and_never_exceed_the_limit() -> None:
    bulkhead = Bulkhead(max_concurrent=3, max_wait=None)
    inside = 0
    peak = 0

    @bulkhead
    async def work() -> None:
        nonlocal inside, peak
        inside += 1
        peak = max(peak, inside)
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        inside -= 1

    async def main() -> None:
        await asyncio.gather(*(work() for _ in range(50)))

    asyncio.run(asyncio.wait_for(main(), 20))
    assert peak == 3
    assert bulkhead.metrics.accepted == 50
    assert bulkhead.metrics.active == 0


def test_async_waiter_times_out_with_bulkhead_full() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=0.02)

    async def main() -> None:
        async with bulkhead:
            with pytest.raises(BulkheadFullError):
                await bulkhead.acquire_async()
        assert bulkhead.metrics.waiting == 0

    asyncio.run(main())


def test_a_cancelled_async_waiter_frees_its_place() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=None)

    async def main() -> None:
        await bulkhead.acquire_async()
        waiting = asyncio.create_task(bulkhead.acquire_async())
        await asyncio.sleep(0)
        assert bulkhead.metrics.waiting == 1
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        assert bulkhead.metrics.waiting == 0
        bulkhead.release()
        assert bulkhead.metrics.active == 0
        await asyncio.wait_for(bulkhead.acquire_async(), 5)  # the slot is really free
        bulkhead.release()

    asyncio.run(main())


def test_a_waiter_cancelled_right_after_being_handed_the_slot_passes_it_on() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=None)

    async def main() -> None:
        await bulkhead.acquire_async()
        first = asyncio.create_task(bulkhead.acquire_async())
        second = asyncio.create_task(bulkhead.acquire_async())
        await asyncio.sleep(0)
        bulkhead.release()  # hands the slot to `first`, whose wake-up is only scheduled
        first.cancel()  # ... and it is cancelled before it runs
        with pytest.raises(asyncio.CancelledError):
            await first
        await asyncio.wait_for(second, 5)  # the slot went on to `second`
        assert bulkhead.metrics.active == 1
        bulkhead.release()

    asyncio.run(main())
    assert bulkhead.metrics.active == 0


def test_threads_and_tasks_share_one_bulkhead() -> None:
    bulkhead = Bulkhead(max_concurrent=1, max_wait=30.0)
    bulkhead.acquire()  # held by this thread

    async def task_side() -> str:
        async with bulkhead:
            return "task got in"

    result: list[str] = []
    loop_thread = threading.Thread(target=lambda: result.append(asyncio.run(task_side())))
    loop_thread.start()
    while bulkhead.metrics.waiting == 0:
        threading.Event().wait(0.001)
    bulkhead.release()
    loop_thread.join(timeout=10)
    assert result == ["task got in"]


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"max_concurrent": 0}, "max_concurrent"),
        ({"max_concurrent": 1.5}, "max_concurrent"),
        ({"max_wait": -1}, "max_wait"),
        ({"max_wait": float("nan")}, "max_wait"),
    ],
)
def test_bad_configuration_names_the_parameter(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        Bulkhead(**options)
