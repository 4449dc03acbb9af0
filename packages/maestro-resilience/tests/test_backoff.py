"""Property-based checks of every backoff schedule: bounds, caps and the retry budget."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from maestro_resilience import (
    Backoff,
    ConstantBackoff,
    DecorrelatedJitterBackoff,
    ExponentialBackoff,
    FakeClock,
    Jitter,
    retry,
)

# Sub-microsecond delays are meaningless and only add float rounding noise.
seconds = st.just(0.0) | st.floats(min_value=1e-6, max_value=100.0)
positive_seconds = st.floats(min_value=1e-3, max_value=100.0)
multipliers = st.floats(min_value=1.0, max_value=10.0)
seeds = st.integers(min_value=0, max_value=2**32)
counts = st.integers(min_value=1, max_value=200)


def take(schedule: Backoff, n: int) -> list[float]:
    return list(itertools.islice(schedule.delays(), n))


@given(initial=seconds, extra=seconds, multiplier=multipliers, n=counts)
def test_exponential_without_jitter_grows_geometrically_up_to_the_cap(
    initial: float, extra: float, multiplier: float, n: int
) -> None:
    cap = initial + extra
    delays = take(ExponentialBackoff(initial, multiplier, cap, jitter="none"), n)
    for index, delay in enumerate(delays):
        assert delay == pytest.approx(min(cap, initial * multiplier**index), rel=1e-9)
    assert delays == sorted(delays)  # never shrinks


@given(initial=seconds, extra=seconds, multiplier=multipliers, n=counts, seed=seeds)
def test_full_jitter_stays_between_zero_and_the_capped_exponential(
    initial: float, extra: float, multiplier: float, n: int, seed: int
) -> None:
    cap = initial + extra
    schedule = ExponentialBackoff(initial, multiplier, cap, Jitter.FULL, random.Random(seed))
    for index, delay in enumerate(take(schedule, n)):
        assert 0.0 <= delay <= min(cap, initial * multiplier**index) * (1 + 1e-9)


@given(initial=seconds, extra=seconds, multiplier=multipliers, n=counts, seed=seeds)
def test_equal_jitter_stays_in_the_upper_half(
    initial: float, extra: float, multiplier: float, n: int, seed: int
) -> None:
    cap = initial + extra
    schedule = ExponentialBackoff(initial, multiplier, cap, Jitter.EQUAL, random.Random(seed))
    for index, delay in enumerate(take(schedule, n)):
        ceiling = min(cap, initial * multiplier**index)
        assert ceiling / 2 * (1 - 1e-9) <= delay <= ceiling * (1 + 1e-9)


@given(initial=positive_seconds, extra=seconds, n=counts, seed=seeds)
def test_decorrelated_jitter_stays_between_initial_and_the_cap(
    initial: float, extra: float, n: int, seed: int
) -> None:
    cap = initial + extra
    delays = take(DecorrelatedJitterBackoff(initial, cap, random.Random(seed)), n)
    previous = initial
    for delay in delays:
        assert initial <= delay <= cap
        assert delay <= max(previous * 3, initial) * (1 + 1e-9)
        previous = delay


@given(delay=seconds, n=counts)
def test_constant_is_constant(delay: float, n: int) -> None:
    assert take(ConstantBackoff(delay), n) == [delay] * n


def test_the_schedule_survives_huge_attempt_counts_without_overflow() -> None:
    delays = take(ExponentialBackoff(1.0, 10.0, 60.0, jitter="none"), 5000)
    assert delays[-1] == 60.0


def test_same_seed_same_delays() -> None:
    first = take(ExponentialBackoff(rng=random.Random(3)), 20)
    second = take(ExponentialBackoff(rng=random.Random(3)), 20)
    assert first == second


@settings(max_examples=200, deadline=None)
@given(
    budget=st.floats(min_value=0.01, max_value=100.0),
    initial=st.floats(min_value=0.0, max_value=50.0),
    multiplier=multipliers,
    jitter=st.sampled_from(list(Jitter)),
    seed=seeds,
    attempt_cost=st.floats(min_value=0.05, max_value=5.0),  # fake time must move
)
def test_retry_never_sleeps_past_its_budget(
    budget: float, initial: float, multiplier: float, jitter: Jitter, seed: int, attempt_cost: float
) -> None:
    fake = FakeClock()
    calls = 0

    def always_fails() -> None:
        nonlocal calls
        calls += 1
        fake.advance(attempt_cost)  # attempts take time too
        raise ConnectionError

    schedule = ExponentialBackoff(initial, multiplier, initial + 60.0, jitter, random.Random(seed))
    policy = retry(
        max_attempts=None,
        max_total_time=budget,
        backoff=schedule,
        clock=fake,
        sleep=fake.sleep,
    )
    with pytest.raises(ConnectionError):
        policy(always_fails)()
    # Every sleep started and ended inside the budget; only the attempt itself may run over.
    assert sum(fake.sleeps) + attempt_cost * (calls - 1) <= budget + 1e-9
    assert len(fake.sleeps) <= calls - 1  # zero delays do not call sleep at all


@pytest.mark.parametrize(
    ("factory", "parameter"),
    [
        (lambda: ExponentialBackoff(initial=-1), "initial"),
        (lambda: ExponentialBackoff(initial=float("nan")), "initial"),
        (lambda: ExponentialBackoff(multiplier=0.5), "multiplier"),
        (lambda: ExponentialBackoff(initial=5, max_delay=1), "max_delay"),
        (lambda: ExponentialBackoff(jitter="wild"), "jitter"),
        (lambda: DecorrelatedJitterBackoff(initial=0), "initial"),
        (lambda: DecorrelatedJitterBackoff(initial=2, max_delay=1), "max_delay"),
        (lambda: ConstantBackoff(-0.1), "delay"),
    ],
)
def test_bad_schedules_name_the_parameter(factory: Callable[[], Backoff], parameter: str) -> None:
    with pytest.raises(ValueError, match=parameter):
        factory()
