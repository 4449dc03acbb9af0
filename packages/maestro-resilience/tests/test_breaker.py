"""Circuit breaker: every state transition on a fake clock, rates, probes, concurrency."""

from __future__ import annotations

import asyncio
import inspect
import threading
from typing import Any

import pytest

from maestro_resilience import (
    CircuitBreaker,
    CircuitOpenError,
    CircuitState,
    CountWindow,
    FakeClock,
    StateChange,
    TimeWindow,
)

CLOSED, OPEN, HALF_OPEN = CircuitState.CLOSED, CircuitState.OPEN, CircuitState.HALF_OPEN


def succeed() -> str:
    return "ok"


def fail() -> str:
    raise ConnectionError("down")


def run(breaker: CircuitBreaker, fn: Any = succeed) -> str:
    """Call through the breaker; return 'ok', 'failed' or 'rejected'."""
    try:
        return breaker.call(fn)  # type: ignore[no-any-return]
    except CircuitOpenError:
        return "rejected"
    except ConnectionError:
        return "failed"


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock(start=1000.0)


def test_closed_to_open_after_consecutive_failures(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=3, clock=fake)
    assert [run(breaker, fail) for _ in range(2)] == ["failed", "failed"]
    assert breaker.state is CLOSED
    assert run(breaker, succeed) == "ok"  # a success resets the run
    assert [run(breaker, fail) for _ in range(3)] == ["failed"] * 3
    assert breaker.state is OPEN
    assert run(breaker) == "rejected"
    metrics = breaker.metrics
    assert (metrics.successes, metrics.failures, metrics.rejected) == (1, 5, 1)


def test_open_rejects_with_the_time_until_retry(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30.0, clock=fake, name="pay")
    run(breaker, fail)
    fake.advance(12.0)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.call(succeed)
    assert caught.value.retry_after == pytest.approx(18.0)
    assert caught.value.breaker_name == "pay"
    assert "'pay' is open" in str(caught.value)


def test_open_to_half_open_after_the_reset_timeout(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=30.0, clock=fake)
    run(breaker, fail)
    fake.advance(29.999)
    assert breaker.state is OPEN
    fake.advance(0.001)
    assert breaker.state is HALF_OPEN


def test_half_open_success_threshold_closes(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, reset_timeout=5.0, success_threshold=2, clock=fake
    )
    run(breaker, fail)
    fake.advance(5.0)
    assert run(breaker) == "ok"
    assert breaker.state is HALF_OPEN
    assert run(breaker) == "ok"
    assert breaker.state is CLOSED


def test_half_open_failure_reopens_and_restarts_the_timeout(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=5.0, clock=fake)
    run(breaker, fail)
    fake.advance(5.0)
    assert run(breaker, fail) == "failed"
    assert breaker.state is OPEN
    fake.advance(4.0)
    assert run(breaker) == "rejected"
    fake.advance(1.0)
    assert run(breaker) == "ok"
    assert breaker.state is CLOSED


def test_failure_rate_over_a_count_window_waits_for_minimum_calls(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=None,
        failure_rate_threshold=0.5,
        window=CountWindow(10),
        minimum_calls=4,
        clock=fake,
    )
    for fn in (fail, fail, succeed):
        run(breaker, fn)
    assert breaker.state is CLOSED  # 2/3 failed, but only 3 calls seen
    assert breaker.metrics.failure_rate == pytest.approx(2 / 3)
    run(breaker, fail)  # 3/4 >= 50 %
    assert breaker.state is OPEN


def test_count_window_forgets_old_calls(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=None,
        failure_rate_threshold=0.5,
        window=CountWindow(4),
        minimum_calls=4,
        clock=fake,
    )
    for fn in (fail, succeed, succeed, succeed, succeed, fail):
        run(breaker, fn)
    # window now holds succeed, succeed, succeed, fail: 25 %
    assert breaker.state is CLOSED
    assert breaker.metrics.failure_rate == 0.25
    assert breaker.metrics.window_calls == 4


def test_time_window_drops_calls_older_than_the_window(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=None,
        failure_rate_threshold=0.5,
        window=TimeWindow(10.0, buckets=10),
        minimum_calls=3,
        clock=fake,
    )
    run(breaker, fail)
    run(breaker, fail)
    fake.advance(11.0)  # both failures fell out of the window
    run(breaker, succeed)
    run(breaker, succeed)
    assert breaker.metrics.window_calls == 2
    run(breaker, fail)  # 1 / 3 < 50 %
    assert breaker.state is CLOSED
    run(breaker, fail)  # 2 / 4 >= 50 %
    assert breaker.state is OPEN


def test_slow_call_rate_opens(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=None,
        slow_call_duration=2.0,
        slow_call_rate_threshold=0.5,
        minimum_calls=2,
        clock=fake,
    )

    def slow() -> str:
        fake.advance(3.0)
        return "late"

    assert run(breaker, slow) == "late"
    assert breaker.state is CLOSED
    assert run(breaker, succeed) == "ok"  # 1 of 2 slow: 50 %
    assert breaker.state is OPEN
    assert breaker.metrics.slow_calls == 1


def test_slow_probe_reopens(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, slow_call_duration=1.0, clock=fake)
    run(breaker, fail)
    fake.advance(30.0)

    def slow() -> str:
        fake.advance(2.0)
        return "late"

    assert run(breaker, slow) == "late"
    assert breaker.state is OPEN


def test_ignored_and_non_failure_exceptions(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=1, failure_on=(ConnectionError,), ignore=(PermissionError,), clock=fake
    )

    def denied() -> str:
        raise PermissionError

    def invalid() -> str:
        raise ValueError

    with pytest.raises(PermissionError):
        breaker.call(denied)
    with pytest.raises(ValueError):
        breaker.call(invalid)
    assert breaker.state is CLOSED
    metrics = breaker.metrics
    assert (metrics.ignored, metrics.successes, metrics.failures) == (1, 1, 0)
    run(breaker, fail)
    assert breaker.state is OPEN


def test_cancellation_is_ignored_and_frees_the_probe_slot(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=1, reset_timeout=1.0, clock=fake)
    run(breaker, fail)
    fake.advance(1.0)

    async def cancelled() -> None:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(breaker.call_async(cancelled))
    assert breaker.state is HALF_OPEN
    assert breaker.metrics.probes_in_flight == 0
    assert run(breaker) == "ok"


def test_listeners_see_every_transition_and_a_failing_listener_is_contained(
    fake: FakeClock,
) -> None:
    changes: list[StateChange] = []

    def broken(change: StateChange) -> None:
        raise RuntimeError("listener bug")

    breaker = CircuitBreaker(
        failure_threshold=1, reset_timeout=1.0, listeners=[changes.append, broken], clock=fake
    )
    run(breaker, fail)
    fake.advance(1.0)
    run(breaker)
    breaker.remove_listener(broken)
    assert [(c.old, c.new) for c in changes] == [
        (CLOSED, OPEN),
        (OPEN, HALF_OPEN),
        (HALF_OPEN, CLOSED),
    ]
    assert changes[0].reason == "1 consecutive failures"
    assert changes[1].at == 1001.0
    with pytest.raises(ValueError):
        breaker.remove_listener(broken)


def test_manual_open_close_reset(fake: FakeClock) -> None:
    breaker = CircuitBreaker(reset_timeout=10.0, clock=fake)
    breaker.open()
    assert breaker.state is OPEN
    assert run(breaker) == "rejected"
    breaker.close()
    assert breaker.state is CLOSED
    assert run(breaker) == "ok"
    breaker.reset()
    metrics = breaker.metrics
    assert (metrics.successes, metrics.rejected, metrics.state_changes) == (0, 0, 0)


def test_half_open_admits_exactly_the_probe_limit_concurrently(fake: FakeClock) -> None:
    limit = 3
    breaker = CircuitBreaker(
        failure_threshold=1,
        reset_timeout=1.0,
        half_open_max_calls=limit,
        success_threshold=5,
        clock=fake,
    )
    run(breaker, fail)
    fake.advance(1.0)
    inside = threading.Barrier(limit + 1)
    release = threading.Event()

    def probe() -> str:
        inside.wait(timeout=10)
        release.wait(timeout=10)
        return "ok"

    threads = [threading.Thread(target=breaker.call, args=(probe,)) for _ in range(limit)]
    for thread in threads:
        thread.start()
    inside.wait(timeout=10)  # all `limit` probes are inside the function now
    assert breaker.metrics.probes_in_flight == limit
    assert run(breaker) == "rejected"
    with pytest.raises(CircuitOpenError, match="probe slots are busy") as caught:
        breaker.call(succeed)
    assert caught.value.retry_after == 0.0
    release.set()
    for thread in threads:
        thread.join(timeout=10)
    assert breaker.metrics.probes_in_flight == 0
    assert breaker.state is HALF_OPEN  # 3 successes < success_threshold 5
    assert run(breaker) == "ok"
    assert run(breaker) == "ok"
    assert breaker.state is CLOSED


def test_no_lock_is_held_while_the_function_runs() -> None:
    # Two calls meet inside the protected function: impossible if the breaker serialised them.
    breaker = CircuitBreaker()
    meeting = threading.Barrier(2)

    @breaker
    def rendezvous() -> bool:
        meeting.wait(timeout=10)
        return True

    results: list[bool] = []
    threads = [threading.Thread(target=lambda: results.append(rendezvous())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == [True, True]


def test_async_decorator_and_call_async(fake: FakeClock) -> None:
    breaker = CircuitBreaker(failure_threshold=2, reset_timeout=5.0, clock=fake)

    @breaker
    async def fetch(ok: bool) -> str:
        await asyncio.sleep(0)
        if not ok:
            raise ConnectionError
        return "data"

    async def scenario() -> list[str]:
        outcomes = []
        for ok in (True, False, False, True):
            try:
                outcomes.append(await fetch(ok))
            except ConnectionError:
                outcomes.append("failed")
            except CircuitOpenError:
                outcomes.append("rejected")
        fake.advance(5.0)
        outcomes.append(await breaker.call_async(fetch.__wrapped__, True))  # type: ignore[attr-defined]
        return outcomes

    assert asyncio.run(scenario()) == ["data", "failed", "failed", "rejected", "data"]
    assert breaker.state is CLOSED
    assert inspect.iscoroutinefunction(fetch)


def test_windowed_async_path_records_outcomes(fake: FakeClock) -> None:
    breaker = CircuitBreaker(
        failure_threshold=None, failure_rate_threshold=1.0, minimum_calls=2, clock=fake
    )

    @breaker
    async def broken() -> None:
        raise ConnectionError

    for _ in range(2):
        with pytest.raises(ConnectionError):
            asyncio.run(broken())
    assert breaker.state is OPEN


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"failure_threshold": 0}, "failure_threshold"),
        ({"failure_threshold": -3}, "failure_threshold"),
        ({"reset_timeout": -1.0}, "reset_timeout"),
        ({"reset_timeout": float("inf")}, "reset_timeout"),
        ({"half_open_max_calls": 0}, "half_open_max_calls"),
        ({"success_threshold": 0}, "success_threshold"),
        ({"failure_rate_threshold": 1.5}, "failure_rate_threshold"),
        ({"failure_rate_threshold": 0.0}, "failure_rate_threshold"),
        ({"failure_rate_threshold": -0.1}, "failure_rate_threshold"),
        ({"slow_call_duration": 0}, "slow_call_duration"),
        ({"slow_call_rate_threshold": 2}, "slow_call_rate_threshold"),
        ({"minimum_calls": 0}, "minimum_calls"),
        ({"window": 10}, "window"),
        ({"failure_on": "ConnectionError"}, "failure_on"),
        ({"ignore": (ValueError, 3)}, "ignore"),
        ({"failure_threshold": None}, "could never open"),
        (
            {"failure_rate_threshold": 0.5, "window": CountWindow(5), "minimum_calls": 6},
            "minimum_calls",
        ),
        # Settings that would be silently ignored; a small window without a rate used to
        # be blamed on minimum_calls.
        ({"window": CountWindow(5)}, "window is only used with failure_rate_threshold"),
        ({"window": TimeWindow(60.0)}, "window is only used with failure_rate_threshold"),
        ({"slow_call_rate_threshold": 0.5}, "slow_call_rate_threshold needs slow_call_duration"),
        ({"failure_rate_threshold": 0.5, "minimum_calls": 101}, "minimum_calls"),
    ],
)
def test_bad_configuration_names_the_parameter(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        CircuitBreaker(**options)


@pytest.mark.parametrize(
    ("factory", "parameter"),
    [
        (lambda: CountWindow(0), "size"),
        (lambda: TimeWindow(0), "seconds"),
        (lambda: TimeWindow(5, 0), "buckets"),
    ],
)
def test_bad_windows_name_the_parameter(factory: Any, parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        factory()


def test_circuit_open_error_pickles() -> None:
    import pickle

    error = CircuitOpenError("db", 3.0)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.breaker_name, clone.retry_after, str(clone)) == ("db", 3.0, str(error))
