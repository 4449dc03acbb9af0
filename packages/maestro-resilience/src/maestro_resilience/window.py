"""Sliding windows over which a circuit breaker measures failure and slow-call rates.

A window object only holds configuration and can be shared; each breaker keeps
its own counts.
"""

from __future__ import annotations

from ._validate import check_int, check_seconds

__all__ = ["CountWindow", "TimeWindow"]

_FAILED = 1
_SLOW = 2


class CountWindow:
    """The outcomes of the last ``size`` calls.

    >>> CountWindow(50)
    CountWindow(size=50)
    """

    __slots__ = ("size",)

    def __init__(self, size: int = 100) -> None:
        check_int("size", size, hint=" (number of calls in the window)")
        self.size = size

    def __repr__(self) -> str:
        return f"CountWindow(size={self.size})"

    def _tracker(self) -> _CountTracker:
        return _CountTracker(self.size)


class TimeWindow:
    """The outcomes of the calls that finished in the last ``seconds``.

    Calls are aggregated into ``buckets`` equal slices of the window, so memory
    stays constant however many calls there are; the window slides one bucket
    at a time.

    >>> TimeWindow(60.0)
    TimeWindow(seconds=60.0, buckets=10)
    """

    __slots__ = ("buckets", "seconds")

    def __init__(self, seconds: float = 60.0, buckets: int = 10) -> None:
        check_seconds("seconds", seconds, allow_zero=False)
        check_int("buckets", buckets)
        self.seconds = float(seconds)
        self.buckets = buckets

    def __repr__(self) -> str:
        return f"TimeWindow(seconds={self.seconds!r}, buckets={self.buckets})"

    def _tracker(self) -> _TimeTracker:
        return _TimeTracker(self.seconds, self.buckets)


class _CountTracker:
    """Ring buffer of outcome flags with running totals. Callers hold the breaker's lock."""

    __slots__ = ("_filled", "_next", "_outcomes", "failures", "slow")

    def __init__(self, size: int) -> None:
        self._outcomes = bytearray(size)
        self._next = 0
        self._filled = 0
        self.failures = 0
        self.slow = 0

    def record(self, now: float, failed: bool, slow: bool) -> None:
        outcomes = self._outcomes
        index = self._next
        if self._filled == len(outcomes):
            evicted = outcomes[index]
            self.failures -= evicted & _FAILED
            self.slow -= (evicted & _SLOW) >> 1
        else:
            self._filled += 1
        outcomes[index] = (_FAILED if failed else 0) | (_SLOW if slow else 0)
        self.failures += failed
        self.slow += slow
        self._next = (index + 1) % len(outcomes)

    def record_success(self, now: float) -> None:
        outcomes = self._outcomes
        index = self._next
        if self._filled == len(outcomes):
            evicted = outcomes[index]
            if evicted:
                self.failures -= evicted & _FAILED
                self.slow -= (evicted & _SLOW) >> 1
                outcomes[index] = 0
        else:
            self._filled += 1  # slots past _filled are still zero
        index += 1
        self._next = 0 if index == len(outcomes) else index

    def totals(self, now: float) -> tuple[int, int, int]:
        return self._filled, self.failures, self.slow

    def clear(self) -> None:
        self._outcomes = bytearray(len(self._outcomes))
        self._next = self._filled = self.failures = self.slow = 0


class _TimeTracker:
    """Per-bucket counts keyed by bucket number. Callers hold the breaker's lock."""

    __slots__ = ("_calls", "_failures", "_ids", "_slow", "_width")

    def __init__(self, seconds: float, buckets: int) -> None:
        self._width = seconds / buckets
        self._ids = [-1] * buckets
        self._calls = [0] * buckets
        self._failures = [0] * buckets
        self._slow = [0] * buckets

    def record(self, now: float, failed: bool, slow: bool) -> None:
        bucket = int(now // self._width)
        slot = bucket % len(self._ids)
        if self._ids[slot] != bucket:  # the slot still holds an expired bucket: recycle it
            self._ids[slot] = bucket
            self._calls[slot] = self._failures[slot] = self._slow[slot] = 0
        self._calls[slot] += 1
        self._failures[slot] += failed
        self._slow[slot] += slow

    def record_success(self, now: float) -> None:
        bucket = int(now // self._width)
        slot = bucket % len(self._ids)
        if self._ids[slot] != bucket:
            self._ids[slot] = bucket
            self._calls[slot] = self._failures[slot] = self._slow[slot] = 0
        self._calls[slot] += 1

    def totals(self, now: float) -> tuple[int, int, int]:
        oldest = int(now // self._width) - len(self._ids)
        calls = failures = slow = 0
        for slot, bucket in enumerate(self._ids):
            if bucket > oldest:
                calls += self._calls[slot]
                failures += self._failures[slot]
                slow += self._slow[slot]
        return calls, failures, slow

    def clear(self) -> None:
        buckets = len(self._ids)
        self._ids = [-1] * buckets
        self._calls = [0] * buckets
        self._failures = [0] * buckets
        self._slow = [0] * buckets
