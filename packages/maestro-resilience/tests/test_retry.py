"""Retry: what is retried, what the caller gets when attempts run out, budget, hints, hooks."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest

from maestro_resilience import (
    CircuitOpenError,
    ConstantBackoff,
    ExponentialBackoff,
    FakeClock,
    RetryEvent,
    RetryExhaustedError,
    is_testing,
    retry,
    retry_info,
    set_testing,
)


class Flaky:
    """Fails with the given exceptions in order, then returns ``"ok"``."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "ok"


def fake_retry(fake: FakeClock, **options: Any) -> Any:
    options.setdefault("backoff", ConstantBackoff(1.0))
    return retry(clock=fake, sleep=fake.sleep, async_sleep=fake.async_sleep, **options)


def test_retries_until_success_and_waits_the_backoff_between_attempts() -> None:
    fake = FakeClock()
    flaky = Flaky(ConnectionError("1"), ConnectionError("2"))
    policy = fake_retry(fake, max_attempts=3, on=(ConnectionError,))
    assert policy(flaky)() == "ok"
    assert flaky.calls == 3
    assert fake.sleeps == [1.0, 1.0]
    assert policy.metrics.retries == 2
    assert policy.metrics.recovered == 1


def test_gives_up_with_the_last_original_exception_and_the_earlier_failures() -> None:
    fake = FakeClock()
    first, second, last = KeyError("a"), KeyError("b"), KeyError("c")
    decorated = fake_retry(fake, max_attempts=3, on=(KeyError,))(Flaky(first, second, last))
    with pytest.raises(KeyError) as caught:
        decorated()
    assert caught.value is last
    info = retry_info(caught.value)
    assert info is not None
    assert info.attempts == 3
    assert info.earlier_failures == (first, second)
    assert info.elapsed == pytest.approx(2.0)
    assert "after 3 attempts" in caught.value.__notes__[-1]
    # Attempts are not chained to each other as "during handling of ...".
    assert caught.value.__context__ is None


def test_async_gives_up_with_the_unchained_last_exception() -> None:
    fake = FakeClock()
    errors = [ConnectionError(n) for n in range(3)]

    @fake_retry(fake, max_attempts=3)
    async def down() -> None:
        raise errors.pop(0)

    with pytest.raises(ConnectionError) as caught:
        asyncio.run(down())
    assert caught.value.args == (2,)
    assert caught.value.__context__ is None
    info = retry_info(caught.value)
    assert info is not None and [e.args for e in info.earlier_failures] == [(0,), (1,)]


def test_exceptions_outside_on_propagate_at_once() -> None:
    fake = FakeClock()
    flaky = Flaky(ValueError("bad input"))
    with pytest.raises(ValueError, match="bad input") as caught:
        fake_retry(fake, max_attempts=5, on=(ConnectionError,))(flaky)()
    assert flaky.calls == 1
    assert retry_info(caught.value) is None
    assert fake.sleeps == []


def test_exception_predicate_filters_retries() -> None:
    fake = FakeClock()

    class HTTPError(Exception):
        def __init__(self, status: int) -> None:
            super().__init__(status)
            self.status = status

    transient = Flaky(HTTPError(503), HTTPError(404))
    policy = fake_retry(fake, max_attempts=5, on=HTTPError, retry_if=lambda e: e.status >= 500)
    with pytest.raises(HTTPError) as caught:
        policy(transient)()
    assert caught.value.status == 404
    assert transient.calls == 2
    assert retry_info(caught.value) is not None


@pytest.mark.parametrize(
    "never_retried",
    [asyncio.CancelledError(), KeyboardInterrupt(), SystemExit(1), GeneratorExit()],
    ids=lambda e: type(e).__name__,
)
def test_cancellation_and_exit_are_never_retried_even_with_on_base_exception(
    never_retried: BaseException,
) -> None:
    fake = FakeClock()
    flaky = Flaky(never_retried)
    with pytest.raises(type(never_retried)):
        fake_retry(fake, max_attempts=5, on=BaseException)(flaky)()
    assert flaky.calls == 1


def test_result_predicate_polls_until_accepted() -> None:
    fake = FakeClock()
    statuses = iter(["queued", "running", "done"])
    poll = fake_retry(fake, max_attempts=10, retry_if_result=lambda s: s != "done")(
        lambda: next(statuses)
    )
    assert poll() == "done"
    assert fake.sleeps == [1.0, 1.0]


def test_result_predicate_exhaustion_raises_retry_exhausted_with_the_last_result() -> None:
    fake = FakeClock()
    results = iter(range(100))
    poll = fake_retry(fake, max_attempts=4, retry_if_result=lambda n: n < 50)(lambda: next(results))
    with pytest.raises(RetryExhaustedError) as caught:
        poll()
    assert caught.value.attempts == 4
    assert caught.value.last_result == 3


def test_budget_is_never_overshot() -> None:
    fake = FakeClock()
    flaky = Flaky(*[OSError(str(i)) for i in range(100)])
    policy = fake_retry(fake, max_attempts=None, max_total_time=10.0, backoff=ConstantBackoff(3.0))
    with pytest.raises(OSError) as caught:
        policy(flaky)()
    # 0, 3, 6, 9 -> sleeping 3 more would end at 12 > 10: give up at 9 s.
    assert fake() == 9.0
    assert sum(fake.sleeps) <= 10.0
    info = retry_info(caught.value)
    assert info is not None and info.attempts == 4


def test_retry_after_hint_is_honoured() -> None:
    fake = FakeClock()
    flaky = Flaky(CircuitOpenError("upstream", retry_after=7.5))
    assert fake_retry(fake, max_attempts=2, backoff=ConstantBackoff(0.5))(flaky)() == "ok"
    assert fake.sleeps == [7.5]


def test_retry_after_hint_can_be_ignored() -> None:
    fake = FakeClock()
    flaky = Flaky(CircuitOpenError("upstream", retry_after=7.5))
    policy = fake_retry(fake, max_attempts=2, respect_retry_after=False)
    assert policy(flaky)() == "ok"
    assert fake.sleeps == [1.0]


def test_retry_after_hint_beyond_the_budget_gives_up_without_sleeping() -> None:
    fake = FakeClock()
    flaky = Flaky(CircuitOpenError("upstream", retry_after=60.0))
    with pytest.raises(CircuitOpenError):
        fake_retry(fake, max_attempts=3, max_total_time=30.0)(flaky)()
    assert fake.sleeps == []


def test_on_retry_hook_receives_each_event() -> None:
    fake = FakeClock()
    events: list[RetryEvent] = []
    error = TimeoutError("slow")
    fake_retry(fake, max_attempts=3, on_retry=events.append)(Flaky(error))()
    assert len(events) == 1
    assert events[0].attempt == 1
    assert events[0].exception is error
    assert events[0].delay == 1.0
    assert events[0].name == "Flaky"  # named after the callable


def test_async_functions_are_retried_with_the_async_sleep() -> None:
    fake = FakeClock()
    attempts: list[int] = []

    @fake_retry(fake, max_attempts=3, on=(ConnectionError,))
    async def fetch(x: int) -> int:
        attempts.append(x)
        if len(attempts) < 3:
            raise ConnectionError
        return x * 2

    assert asyncio.run(fetch(21)) == 42
    assert attempts == [21, 21, 21]
    assert fake.sleeps == [1.0, 1.0]


def test_async_gives_up_with_last_exception_and_result_predicate() -> None:
    fake = FakeClock()

    @fake_retry(fake, max_attempts=2, retry_if_result=lambda r: r is None)
    async def empty() -> None:
        return None

    with pytest.raises(RetryExhaustedError):
        asyncio.run(empty())


def test_async_cancellation_during_backoff_propagates() -> None:
    @retry(max_attempts=5, backoff=ConstantBackoff(60.0))
    async def always_fails() -> None:
        raise ConnectionError

    async def main() -> None:
        task = asyncio.create_task(always_fails())
        await asyncio.sleep(0.01)  # the task is now sleeping 60 s between attempts
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(main(), 10))


def test_testing_switch_makes_waits_zero_and_caps_attempts() -> None:
    sleeps: list[float] = []
    flaky = Flaky(*[OSError() for _ in range(10)])
    policy = retry(max_attempts=10, backoff=ExponentialBackoff(initial=5.0), sleep=sleeps.append)
    with set_testing(True, max_attempts=2), pytest.raises(OSError):
        policy(flaky)()
    assert flaky.calls == 2
    assert sleeps == []


def test_set_testing_rejects_bad_attempts_and_restores() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        set_testing(True, max_attempts=0)
    with set_testing(True, max_attempts=1):
        assert is_testing()
    assert not is_testing()
    set_testing(True)
    set_testing(False)
    fake = FakeClock()
    fake_retry(fake, max_attempts=2)(Flaky(OSError()))()
    assert fake.sleeps == [1.0]


@pytest.mark.parametrize(
    ("options", "parameter"),
    [
        ({"max_attempts": 0}, "max_attempts"),
        ({"max_attempts": -1}, "max_attempts"),
        ({"max_attempts": 2.5}, "max_attempts"),
        ({"max_total_time": 0}, "max_total_time"),
        ({"on": ValueError()}, "on"),
        ({"on": ()}, "on"),
        ({"backoff": 3}, "backoff"),
    ],
)
def test_bad_configuration_names_the_parameter(options: dict[str, Any], parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        retry(**options)


def test_decorated_function_keeps_its_metadata() -> None:
    @retry(max_attempts=2)
    def documented(a: int, b: str = "x") -> str:
        """Docstring."""
        return f"{a}{b}"

    assert documented.__name__ == "documented"
    assert documented.__doc__ == "Docstring."
    assert documented(1, b="y") == "1y"
    assert inspect.iscoroutinefunction(retry()(asyncio.sleep)) is True


def test_explicit_call_forms() -> None:
    fake = FakeClock()
    policy = fake_retry(fake, max_attempts=3)
    assert policy.call(Flaky(OSError())) == "ok"

    async def double(x: int) -> int:
        return 2 * x

    assert asyncio.run(policy.call_async(double, 4)) == 8


class _ThreeDelays:
    """A finite schedule, as the Backoff protocol allows."""

    def delays(self) -> Any:
        return iter([1.0, 2.0, 4.0])


def test_a_finite_schedule_that_runs_out_gives_up_with_the_last_exception() -> None:
    fake = FakeClock()
    flaky = Flaky(*[ConnectionError(str(n)) for n in range(10)])
    policy = retry(max_attempts=10, backoff=_ThreeDelays(), clock=fake, sleep=fake.sleep)
    with pytest.raises(ConnectionError) as caught:
        policy(flaky)()
    assert caught.value.args == ("3",)  # the last attempt's own exception
    assert flaky.calls == 4
    assert fake.sleeps == [1.0, 2.0, 4.0]
    info = retry_info(caught.value)
    assert info is not None and info.attempts == 4
    assert policy.metrics.gave_up == 1


def test_a_finite_schedule_ends_async_retries_and_result_polling_too() -> None:
    fake = FakeClock()

    @retry(
        max_attempts=None,
        backoff=_ThreeDelays(),
        clock=fake,
        sleep=fake.sleep,
        async_sleep=fake.async_sleep,
    )
    async def down() -> None:
        raise ConnectionError("down")

    with pytest.raises(ConnectionError, match="down"):
        asyncio.run(down())
    assert fake.sleeps == [1.0, 2.0, 4.0]

    poll = retry(max_attempts=None, retry_if_result=lambda s: s != "done", backoff=_ThreeDelays())
    with set_testing(True), pytest.raises(RetryExhaustedError) as caught:
        poll(lambda: "running")()
    assert caught.value.attempts == 4


def test_event_elapsed_counts_from_the_first_failure_or_from_the_start_with_a_budget() -> None:
    fake = FakeClock()
    events: list[RetryEvent] = []

    def slow_failure() -> None:
        fake.advance(5.0)  # the attempt itself takes 5 s
        raise OSError("down")

    for budget, expected in ((None, 0.0), (100.0, 5.0)):
        policy = fake_retry(fake, max_attempts=2, max_total_time=budget, on_retry=events.append)
        with pytest.raises(OSError):
            policy(slow_failure)()
        assert events[-1].elapsed == expected
