"""Timeout: real cancellation for coroutines, worker threads for sync functions."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from maestro_resilience import CallTimeoutError, ConstantBackoff, FakeClock, retry, timeout
from maestro_resilience._workers import WORKERS

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def test_async_timeout_cancels_the_coroutine() -> None:
    cleaned_up = []

    @timeout(seconds=0.02)
    async def hangs() -> None:
        try:
            await asyncio.sleep(30)
        finally:
            cleaned_up.append(True)

    with pytest.raises(CallTimeoutError) as caught:
        asyncio.run(hangs())
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.seconds == 0.02
    assert cleaned_up == [True]


def test_async_function_own_timeout_error_is_not_rewritten() -> None:
    @timeout(seconds=30)
    async def raises_timeout() -> None:
        raise TimeoutError("upstream said so")

    with pytest.raises(TimeoutError, match="upstream said so") as caught:
        asyncio.run(raises_timeout())
    assert not isinstance(caught.value, CallTimeoutError)


def test_async_result_passes_through() -> None:
    policy = timeout(seconds=30)

    async def answer(x: int) -> int:
        return x + 1

    assert asyncio.run(policy.call_async(answer, 41)) == 42
    assert policy.metrics.calls == 1
    assert policy.metrics.timeouts == 0


def test_sync_timeout_raises_and_the_worker_ends_when_the_function_returns() -> None:
    release = threading.Event()
    finished = threading.Event()
    policy = timeout(seconds=0.02)

    @policy
    def blocks() -> str:
        release.wait(timeout=30)
        finished.set()
        return "late"

    with pytest.raises(CallTimeoutError, match="'.*blocks' did not finish within 0.020 s"):
        blocks()
    assert policy.metrics.timeouts == 1
    assert policy.metrics.abandoned_running == 1  # the caveat: the function runs on
    release.set()
    assert finished.wait(timeout=10)
    deadline = time.monotonic() + 10
    while policy.metrics.abandoned_running and time.monotonic() < deadline:
        time.sleep(0.001)  # the worker records the late return right after `finished`
    assert policy.metrics.abandoned_running == 0


def test_sync_calls_reuse_parked_worker_threads() -> None:
    policy = timeout(seconds=30)

    @policy
    def worker_thread() -> int:
        return threading.get_ident()

    def call_and_let_the_worker_park() -> int:
        parked_before = max(WORKERS.parked(), 1)
        ident = worker_thread()
        deadline = time.monotonic() + 10
        while WORKERS.parked() < parked_before and time.monotonic() < deadline:
            time.sleep(0.001)  # the worker parks itself right after handing back the result
        return ident

    idents = [call_and_let_the_worker_park() for _ in range(50)]
    assert threading.get_ident() not in idents
    # 50 sequential calls, (almost) always the same parked thread; a worker of an
    # earlier test that parks late may be picked up once or twice.
    assert len(set(idents)) <= 3


def test_sync_results_exceptions_and_context_variables_cross_the_thread() -> None:
    policy = timeout(seconds=30)

    @policy
    def current_request() -> str:
        return request_id.get()

    @policy
    def broken() -> None:
        raise KeyError("missing")

    token = request_id.set("req-7")
    try:
        assert current_request() == "req-7"
    finally:
        request_id.reset(token)
    with pytest.raises(KeyError, match="missing"):
        broken()


def test_per_attempt_timeout_composes_with_retry() -> None:
    attempts = []
    fake = FakeClock()

    @retry(
        max_attempts=3,
        on=(TimeoutError,),
        backoff=ConstantBackoff(0.5),
        async_sleep=fake.async_sleep,
    )
    @timeout(seconds=0.02)
    async def slow_then_fast() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            await asyncio.sleep(30)
        return "fast"

    assert asyncio.run(slow_then_fast()) == "fast"
    assert len(attempts) == 3
    assert fake.sleeps == [0.5, 0.5]


def test_seed_usage_keeps_working() -> None:
    from maestro_resilience import CircuitBreaker

    breaker = CircuitBreaker()

    @retry(max_attempts=3)
    @timeout(seconds=5.0)
    @breaker
    def call_external_api() -> str:
        return "pong"

    assert call_external_api() == "pong"


@pytest.mark.parametrize("seconds", [0, -1, float("inf"), float("nan"), True])
def test_bad_seconds(seconds: float) -> None:
    with pytest.raises(ValueError, match="seconds"):
        timeout(seconds=seconds)


def test_cancelling_the_caller_is_not_reported_as_a_timeout() -> None:
    @timeout(seconds=30)
    async def long_running() -> None:
        await asyncio.sleep(30)

    async def main() -> None:
        task = asyncio.create_task(long_running())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 10))


def test_concurrent_sync_calls_get_their_own_results_and_timeouts() -> None:
    policy = timeout(seconds=0.5)  # generous: normal calls must never time out on a busy machine
    release = threading.Event()

    @policy
    def echo(value: tuple[int, int], stuck: bool) -> tuple[int, int]:
        if stuck:
            release.wait(timeout=30)
        return value

    outcomes: dict[tuple[int, int], object] = {}
    lock = threading.Lock()

    def caller(index: int) -> None:
        for n in range(100):
            stuck = n % 50 == 0  # 2 stuck calls per thread
            try:
                result: object = echo((index, n), stuck)
            except CallTimeoutError:
                result = "timed out"
            with lock:
                outcomes[(index, n)] = result

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not [t for t in threads if t.is_alive()]
    for (index, n), result in outcomes.items():
        assert result == ("timed out" if n % 50 == 0 else (index, n))
    assert len(outcomes) == 1600
    assert policy.metrics.timeouts == 32
    release.set()
    deadline = time.monotonic() + 10
    while policy.metrics.abandoned_running and time.monotonic() < deadline:
        time.sleep(0.001)
    assert policy.metrics.abandoned_running == 0


def test_idle_workers_end_their_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from maestro_resilience import _workers

    monkeypatch.setattr(_workers, "IDLE_SECONDS", 0.05)
    ident = timeout(seconds=30)(threading.get_ident)()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not [t for t in threading.enumerate() if t.ident == ident]:
            break
        time.sleep(0.005)
    assert not [t for t in threading.enumerate() if t.ident == ident]
