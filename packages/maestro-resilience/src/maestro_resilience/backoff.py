"""Backoff schedules: how long :func:`~maestro_resilience.retry` waits between attempts.

A schedule is any object with a ``delays()`` method returning a fresh iterator
of delays in seconds (one per retry); when a finite iterator runs out, the retry
policy gives up as if it had reached ``max_attempts``. The built-in ones are small
immutable objects that never run out, safe to share between functions and threads.
"""

from __future__ import annotations

import enum
import math
import random
from collections.abc import Iterator
from typing import Protocol, runtime_checkable

from ._validate import check_seconds

__all__ = [
    "Backoff",
    "ConstantBackoff",
    "DecorrelatedJitterBackoff",
    "ExponentialBackoff",
    "Jitter",
]


@runtime_checkable
class Backoff(Protocol):
    """Anything that yields the delays between attempts.

    >>> class Fixed:
    ...     def delays(self):
    ...         return iter([1.0, 2.0, 3.0])
    >>> isinstance(Fixed(), Backoff)
    True
    """

    def delays(self) -> Iterator[float]:
        """Return a new iterator of delays in seconds, one per retry.

        A finite iterator ends the retries when it runs out.
        """
        ...


class Jitter(enum.StrEnum):
    """How :class:`ExponentialBackoff` randomises each delay ``d``.

    * ``NONE``: exactly ``d``.
    * ``FULL``: uniform in ``[0, d]`` (spreads retries best; AWS "full jitter").
    * ``EQUAL``: uniform in ``[d/2, d]`` (never retries too early).

    >>> Jitter("full") is Jitter.FULL
    True
    """

    NONE = "none"
    FULL = "full"
    EQUAL = "equal"


class ExponentialBackoff:
    """Delays ``initial * multiplier**n`` capped at ``max_delay``, with jitter.

    Args:
        initial: Delay before the first retry, before jitter (seconds).
        multiplier: Growth factor per retry (>= 1).
        max_delay: Upper bound of every delay (seconds).
        jitter: A :class:`Jitter` or its name (``"none"``, ``"full"``, ``"equal"``).
        rng: Random source; pass ``random.Random(seed)`` for reproducible delays.

    Raises:
        ValueError: If a duration is negative or not finite, ``multiplier`` < 1,
            ``max_delay`` < ``initial`` or ``jitter`` is unknown.

    >>> schedule = ExponentialBackoff(initial=1.0, max_delay=5.0, jitter="none")
    >>> delays = schedule.delays()
    >>> [next(delays) for _ in range(5)]
    [1.0, 2.0, 4.0, 5.0, 5.0]
    """

    __slots__ = ("initial", "jitter", "max_delay", "multiplier", "rng")

    def __init__(
        self,
        initial: float = 0.1,
        multiplier: float = 2.0,
        max_delay: float = 30.0,
        jitter: Jitter | str = Jitter.FULL,
        rng: random.Random | None = None,
    ) -> None:
        check_seconds("initial", initial)
        check_seconds("max_delay", max_delay)
        if not (isinstance(multiplier, int | float) and 1 <= multiplier < math.inf):
            raise ValueError(f"multiplier must be a finite number >= 1, got {multiplier!r}")
        if max_delay < initial:
            raise ValueError(f"max_delay ({max_delay!r}) must be >= initial ({initial!r})")
        try:
            self.jitter = Jitter(jitter)
        except ValueError:
            choices = ", ".join(repr(j.value) for j in Jitter)
            raise ValueError(f"jitter must be one of {choices}, got {jitter!r}") from None
        self.initial = float(initial)
        self.multiplier = float(multiplier)
        self.max_delay = float(max_delay)
        self.rng = rng or random.Random()

    def __repr__(self) -> str:
        return (
            f"ExponentialBackoff(initial={self.initial!r}, multiplier={self.multiplier!r}, "
            f"max_delay={self.max_delay!r}, jitter={self.jitter.value!r})"
        )

    def delays(self) -> Iterator[float]:
        """Yield one delay per retry, forever (the retry policy decides when to stop)."""
        base = self.initial
        uniform = self.rng.uniform
        while True:
            capped = min(base, self.max_delay)
            if self.jitter is Jitter.FULL:
                yield uniform(0.0, capped)
            elif self.jitter is Jitter.EQUAL:
                yield capped / 2 + uniform(0.0, capped / 2)
            else:
                yield capped
            if base < self.max_delay:  # stop growing once capped: no float overflow
                base *= self.multiplier


class DecorrelatedJitterBackoff:
    """AWS "decorrelated jitter": each delay is uniform in ``[initial, 3 * previous]``, capped.

    Spreads concurrent clients apart better than plain exponential backoff
    while still growing roughly exponentially.

    Args:
        initial: Smallest delay and the first upper bound (seconds, > 0).
        max_delay: Upper bound of every delay (seconds).
        rng: Random source; pass ``random.Random(seed)`` for reproducible delays.

    Raises:
        ValueError: If ``initial`` <= 0, or ``max_delay`` < ``initial``.

    >>> import random
    >>> schedule = DecorrelatedJitterBackoff(initial=0.5, max_delay=4.0, rng=random.Random(7))
    >>> delays = schedule.delays()
    >>> all(0.5 <= next(delays) <= 4.0 for _ in range(100))
    True
    """

    __slots__ = ("initial", "max_delay", "rng")

    def __init__(
        self,
        initial: float = 0.1,
        max_delay: float = 30.0,
        rng: random.Random | None = None,
    ) -> None:
        check_seconds("initial", initial)
        check_seconds("max_delay", max_delay)
        if initial <= 0:
            raise ValueError(f"initial must be > 0 for decorrelated jitter, got {initial!r}")
        if max_delay < initial:
            raise ValueError(f"max_delay ({max_delay!r}) must be >= initial ({initial!r})")
        self.initial = float(initial)
        self.max_delay = float(max_delay)
        self.rng = rng or random.Random()

    def __repr__(self) -> str:
        return f"DecorrelatedJitterBackoff(initial={self.initial!r}, max_delay={self.max_delay!r})"

    def delays(self) -> Iterator[float]:
        """Yield one delay per retry, forever."""
        previous = self.initial
        while True:
            previous = min(self.max_delay, self.rng.uniform(self.initial, previous * 3))
            yield previous


class ConstantBackoff:
    """The same delay before every retry.

    >>> delays = ConstantBackoff(0.5).delays()
    >>> next(delays), next(delays)
    (0.5, 0.5)
    """

    __slots__ = ("delay",)

    def __init__(self, delay: float = 1.0) -> None:
        check_seconds("delay", delay)
        self.delay = float(delay)

    def __repr__(self) -> str:
        return f"ConstantBackoff({self.delay!r})"

    def delays(self) -> Iterator[float]:
        """Yield ``delay`` forever."""
        while True:
            yield self.delay
