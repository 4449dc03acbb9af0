"""The circuit breaker: stop calling a dependency that keeps failing, probe it, recover."""

from __future__ import annotations

import enum
import logging
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass
from typing import Any

from ._clock import Clock
from ._policy import P, Policy, R, _Counter, _name_of
from ._validate import check_fraction, check_int, check_seconds, exception_types
from .errors import CircuitOpenError
from .window import CountWindow, TimeWindow, _CountTracker, _TimeTracker

__all__ = ["BreakerMetrics", "CircuitBreaker", "CircuitState", "StateChange"]

logger = logging.getLogger("maestro_resilience.breaker")


class CircuitState(enum.Enum):
    """The state of a :class:`CircuitBreaker`.

    * ``CLOSED``: calls run; outcomes are counted.
    * ``OPEN``: calls are rejected with :class:`CircuitOpenError` until ``reset_timeout`` passes.
    * ``HALF_OPEN``: at most ``half_open_max_calls`` probe calls run at a time; enough
      successes close the circuit, a failure opens it again.

    >>> CircuitBreaker().state is CircuitState.CLOSED
    True
    """

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


CLOSED = CircuitState.CLOSED
OPEN = CircuitState.OPEN
HALF_OPEN = CircuitState.HALF_OPEN


@dataclass(frozen=True, slots=True)
class StateChange:
    """Passed to state-change listeners.

    Attributes:
        breaker: Name of the breaker.
        old: State before the change.
        new: State after the change.
        at: Clock time of the change (the breaker's ``clock``).
        reason: Human-readable cause, e.g. ``"5 consecutive failures"``.

    >>> changes = []
    >>> breaker = CircuitBreaker(listeners=[changes.append], name="search")
    >>> breaker.open()
    >>> change = changes[0]
    >>> change.breaker, change.old.value, change.new.value, change.reason
    ('search', 'closed', 'open', 'opened manually')
    """

    breaker: str
    old: CircuitState
    new: CircuitState
    at: float
    reason: str


@dataclass(frozen=True, slots=True)
class BreakerMetrics:
    """A snapshot of a breaker's counters (since creation or :meth:`CircuitBreaker.reset`).

    Attributes:
        state: Current state.
        successes: Calls that ran and counted as success.
        failures: Calls that ran and counted as failure.
        ignored: Calls that ran and raised an ignored exception (or were cancelled).
        rejected: Calls rejected without running.
        slow_calls: Calls (successful or not) slower than ``slow_call_duration``.
        state_changes: Number of state transitions.
        consecutive_failures: Current run of failures in the closed state.
        probes_in_flight: Half-open probe calls running now.
        window_calls: Calls in the sliding window (0 without a window).
        failure_rate: Failures / calls in the window, or ``None`` without data.
        slow_call_rate: Slow calls / calls in the window, or ``None`` without data.

    >>> breaker = CircuitBreaker(failure_threshold=None, failure_rate_threshold=0.5)
    >>> breaker.call(len, "abc")
    3
    >>> metrics = breaker.metrics
    >>> metrics.calls, metrics.successes, metrics.window_calls, metrics.failure_rate
    (1, 1, 1, 0.0)
    """

    state: CircuitState
    successes: int
    failures: int
    ignored: int
    rejected: int
    slow_calls: int
    state_changes: int
    consecutive_failures: int
    probes_in_flight: int
    window_calls: int
    failure_rate: float | None
    slow_call_rate: float | None

    @property
    def calls(self) -> int:
        """Calls that ran: ``successes + failures + ignored``."""
        return self.successes + self.failures + self.ignored


class CircuitBreaker(Policy):
    """Reject calls to a failing dependency until it had time to recover.

    The breaker opens after ``failure_threshold`` consecutive failures, or
    when the failure rate (or slow-call rate) over a sliding ``window``
    reaches its threshold once ``minimum_calls`` calls were seen. While open
    it raises :class:`CircuitOpenError` (with ``retry_after``) without
    calling. After ``reset_timeout`` seconds it turns half-open and lets
    exactly ``half_open_max_calls`` concurrent probe calls through;
    ``success_threshold`` successful probes close it, one failed probe opens
    it again.

    No lock is held while your function runs, so concurrent calls through one
    breaker run in parallel; the closed-state success path takes no lock at
    all with the default consecutive-failure counting.

    Args:
        failure_threshold: Consecutive failures that open the circuit, or
            ``None`` to open on rates only.
        reset_timeout: Seconds the circuit stays open before probing.
        half_open_max_calls: Probe calls allowed to run concurrently when half-open.
        success_threshold: Successful probes needed to close the circuit.
        failure_rate_threshold: Failure fraction in the window (0 < x <= 1) that
            opens the circuit, or ``None``.
        slow_call_duration: Seconds after which a call counts as slow, or ``None``.
        slow_call_rate_threshold: Slow-call fraction in the window that opens
            the circuit (needs ``slow_call_duration``).
        window: :class:`CountWindow` or :class:`TimeWindow` for the rates;
            defaults to ``CountWindow(100)`` when a rate is configured (and is an
            error without one).
        minimum_calls: Calls the window must hold before rates are judged.
        failure_on: Exceptions that count as failures; any other exception
            counts as a success (the dependency answered).
        ignore: Exceptions that count as neither (e.g. validation errors).
            Cancellation (``BaseException`` that is not ``Exception``) is always ignored.
        listeners: Callables receiving a :class:`StateChange` on every transition.
        name: Name used in errors, logs and events.
        clock: Monotonic clock (inject :class:`FakeClock` in tests).

    Raises:
        ValueError: If a threshold, count or duration is out of range, naming it.

    >>> from maestro_resilience import FakeClock
    >>> fake = FakeClock()
    >>> breaker = CircuitBreaker(failure_threshold=2, reset_timeout=10.0, clock=fake, name="db")
    >>> @breaker
    ... def query(ok: bool) -> str:
    ...     if not ok:
    ...         raise ConnectionError("db down")
    ...     return "rows"
    >>> for _ in range(2):
    ...     try:
    ...         query(False)
    ...     except ConnectionError:
    ...         pass
    >>> breaker.state
    <CircuitState.OPEN: 'open'>
    >>> query(True)
    Traceback (most recent call last):
    ...
    maestro_resilience.errors.CircuitOpenError: circuit breaker 'db' is open; ... another 10.000 s
    >>> fake.advance(10.0)
    >>> query(True), breaker.state
    ('rows', <CircuitState.CLOSED: 'closed'>)
    """

    def __init__(
        self,
        failure_threshold: int | None = 5,
        reset_timeout: float = 30.0,
        half_open_max_calls: int = 1,
        *,
        success_threshold: int = 1,
        failure_rate_threshold: float | None = None,
        slow_call_duration: float | None = None,
        slow_call_rate_threshold: float = 1.0,
        window: CountWindow | TimeWindow | None = None,
        minimum_calls: int = 10,
        failure_on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
        ignore: type[BaseException] | tuple[type[BaseException], ...] = (),
        listeners: Iterable[Callable[[StateChange], object]] = (),
        name: str = "circuit-breaker",
        clock: Clock = time.monotonic,
    ) -> None:
        if failure_threshold is not None:
            check_int("failure_threshold", failure_threshold)
        check_seconds("reset_timeout", reset_timeout)
        check_int("half_open_max_calls", half_open_max_calls)
        check_int("success_threshold", success_threshold)
        check_int("minimum_calls", minimum_calls)
        if failure_rate_threshold is not None:
            check_fraction("failure_rate_threshold", failure_rate_threshold)
        if slow_call_duration is not None:
            check_seconds("slow_call_duration", slow_call_duration, allow_zero=False)
        check_fraction("slow_call_rate_threshold", slow_call_rate_threshold)
        if window is not None and not isinstance(window, CountWindow | TimeWindow):
            raise ValueError(f"window must be a CountWindow or a TimeWindow, got {window!r}")
        if (
            failure_threshold is None
            and failure_rate_threshold is None
            and slow_call_duration is None
        ):
            raise ValueError(
                "the breaker could never open: set failure_threshold, "
                "failure_rate_threshold or slow_call_duration"
            )
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_timeout = float(reset_timeout)
        self.half_open_max_calls = half_open_max_calls
        self.success_threshold = success_threshold
        self.failure_rate_threshold = failure_rate_threshold
        self.slow_call_duration = slow_call_duration
        self.slow_call_rate_threshold = slow_call_rate_threshold
        self.minimum_calls = minimum_calls
        self.failure_on = exception_types("failure_on", failure_on, allow_empty=True)
        self.ignore = exception_types("ignore", ignore, allow_empty=True)
        self._clock = clock
        self._timed = slow_call_duration is not None  # only then is every call timed
        self._listeners: list[Callable[[StateChange], object]] = list(listeners)
        uses_window = failure_rate_threshold is not None or slow_call_duration is not None
        if window is not None and not uses_window:
            raise ValueError(
                "window is only used with failure_rate_threshold or slow_call_duration; "
                "set one of them, or leave window out"
            )
        if slow_call_duration is None and slow_call_rate_threshold != 1.0:
            raise ValueError(
                "slow_call_rate_threshold needs slow_call_duration (the seconds after which "
                "a call counts as slow)"
            )
        self.window = (window or CountWindow()) if uses_window else window
        if isinstance(self.window, CountWindow) and minimum_calls > self.window.size:
            raise ValueError(
                f"minimum_calls ({minimum_calls}) must not exceed the window size "
                f"({self.window.size}), or the rates would never be judged"
            )
        self._tracker: _CountTracker | _TimeTracker | None = (
            self.window._tracker() if uses_window and self.window is not None else None
        )
        # The lock guards the fields below; it is only ever held for bookkeeping,
        # never while the protected function runs.
        self._lock = threading.Lock()
        self._state = CLOSED
        self._closed = True  # read without the lock by the fast path
        self._epoch = 0  # bumped on every transition; stale probes are recognised by it
        self._opened_at = 0.0
        self._consecutive = 0
        self._probes = 0
        self._probe_successes = 0
        self._successes = _Counter()
        self._failures = _Counter()
        self._ignored = _Counter()
        self._rejected = _Counter()
        self._slow = _Counter()
        self._changes = _Counter()

    def __repr__(self) -> str:
        return f"CircuitBreaker(name={self.name!r}, state={self._state.value!r})"

    # -- public state -----------------------------------------------------------------

    @property
    def state(self) -> CircuitState:
        """The current state (an open breaker whose timeout passed reports ``HALF_OPEN``)."""
        if self._state is OPEN:
            with self._lock:
                change = self._maybe_half_open(self._clock())
            self._notify(change)
        return self._state

    @property
    def metrics(self) -> BreakerMetrics:
        """A consistent snapshot of the counters and current rates."""
        with self._lock:
            calls, failures, slow = (
                self._tracker.totals(self._clock()) if self._tracker else (0, 0, 0)
            )
            return BreakerMetrics(
                state=self._state,
                successes=self._successes.value,
                failures=self._failures.value,
                ignored=self._ignored.value,
                rejected=self._rejected.value,
                slow_calls=self._slow.value,
                state_changes=self._changes.value,
                consecutive_failures=self._consecutive,
                probes_in_flight=self._probes,
                window_calls=calls,
                failure_rate=failures / calls if calls else None,
                slow_call_rate=slow / calls if calls else None,
            )

    def add_listener(self, listener: Callable[[StateChange], object]) -> None:
        """Call ``listener(StateChange)`` after every transition (outside the lock).

        A listener that raises is logged and does not affect the call.
        """
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[StateChange], object]) -> None:
        """Stop calling ``listener``.

        Raises:
            ValueError: If ``listener`` was not added.
        """
        self._listeners.remove(listener)

    def open(self) -> None:
        """Open the circuit now; it will probe again after ``reset_timeout``."""
        self._force(OPEN, "opened manually")

    def close(self) -> None:
        """Close the circuit now and clear the failure window."""
        self._force(CLOSED, "closed manually")

    def reset(self) -> None:
        """Close the circuit and zero every counter, as if newly created."""
        self._force(CLOSED, "reset manually")
        for counter in (
            self._successes,
            self._failures,
            self._ignored,
            self._rejected,
            self._slow,
            self._changes,
        ):
            counter.reset()

    # -- explicit calls (faster than the base class: no wrapper per call) ------------

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` through the breaker.

        Raises:
            CircuitOpenError: If the circuit is open or all probe slots are busy.
        """
        return self._call_guarded(fn, args, kwargs)

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Await ``fn(*args, **kwargs)`` through the breaker.

        Raises:
            CircuitOpenError: If the circuit is open or all probe slots are busy.
        """
        return await self._call_guarded_async(fn, args, kwargs)

    # -- wrappers ---------------------------------------------------------------------

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        breaker = self
        guarded = self._call_guarded
        on_exception = self._closed_exception
        count_success = self._successes.increment
        if self._tracker is None:
            reset_run = self._reset_consecutive

            def consecutive(*args: P.args, **kwargs: P.kwargs) -> R:
                if breaker._closed:
                    try:
                        result = fn(*args, **kwargs)
                    except BaseException as exc:
                        on_exception(exc, 0.0)
                        raise
                    if breaker._consecutive:
                        reset_run()
                    count_success()
                    return result
                return guarded(fn, args, kwargs)

            return consecutive

        clock = self._clock
        on_success = self._closed_success
        timed = self._timed

        def windowed(*args: P.args, **kwargs: P.kwargs) -> R:
            if breaker._closed:
                start = clock() if timed else 0.0
                try:
                    result = fn(*args, **kwargs)
                except BaseException as exc:
                    on_exception(exc, start)
                    raise
                on_success(start)
                return result
            return guarded(fn, args, kwargs)

        return windowed

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        breaker = self
        guarded = self._call_guarded_async
        on_exception = self._closed_exception
        if self._tracker is None:
            count_success = self._successes.increment
            reset_run = self._reset_consecutive

            async def consecutive(*args: P.args, **kwargs: P.kwargs) -> R:
                if breaker._closed:
                    try:
                        result = await fn(*args, **kwargs)
                    except BaseException as exc:
                        on_exception(exc, 0.0)
                        raise
                    if breaker._consecutive:
                        reset_run()
                    count_success()
                    return result
                return await guarded(fn, args, kwargs)

            return consecutive

        clock = self._clock
        on_success = self._closed_success
        timed = self._timed

        async def windowed(*args: P.args, **kwargs: P.kwargs) -> R:
            if breaker._closed:
                start = clock() if timed else 0.0
                try:
                    result = await fn(*args, **kwargs)
                except BaseException as exc:
                    on_exception(exc, start)
                    raise
                on_success(start)
                return result
            return await guarded(fn, args, kwargs)

        return windowed

    def _call_guarded(
        self, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        probe, epoch = self._admit()
        start = self._clock()
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:
            self._finish(probe, epoch, exc, start)
            raise
        self._finish(probe, epoch, None, start)
        return result

    async def _call_guarded_async(
        self, fn: Callable[..., Awaitable[R]], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> R:
        probe, epoch = self._admit()
        start = self._clock()
        try:
            result = await fn(*args, **kwargs)
        except BaseException as exc:
            self._finish(probe, epoch, exc, start)
            raise
        self._finish(probe, epoch, None, start)
        return result

    # -- bookkeeping (each method holds the lock briefly, never across a call) --------

    def _admit(self) -> tuple[bool, int]:
        """Let a call through or raise; return (is it a half-open probe, epoch)."""
        change = None
        rejection: CircuitOpenError | None = None
        with self._lock:
            if self._state is OPEN:
                now = self._clock()
                change = self._maybe_half_open(now)
                if change is None:
                    remaining = max(self._opened_at + self.reset_timeout - now, 0.0)
                    rejection = CircuitOpenError(self.name, remaining)
            if rejection is None and self._state is HALF_OPEN:
                if self._probes >= self.half_open_max_calls:
                    rejection = CircuitOpenError(self.name, 0.0, half_open=True)
                else:
                    self._probes += 1
            admitted = (self._state is HALF_OPEN, self._epoch)
        self._notify(change)
        if rejection is not None:
            self._rejected.increment()
            if logger.isEnabledFor(logging.DEBUG):
                logger.debug("%s", rejection)
            raise rejection
        return admitted

    def _classify(self, exc: BaseException | None) -> bool | None:
        """True: failure, False: success, None: ignored."""
        if exc is None:
            return False
        if isinstance(exc, self.ignore):
            return None
        if isinstance(exc, self.failure_on):
            return True
        return None if not isinstance(exc, Exception) else False

    def _is_slow(self, start: float, now: float) -> bool:
        return self._timed and now - start >= self.slow_call_duration  # type: ignore[operator]

    def _count(self, failed: bool | None, slow: bool) -> None:
        if failed is None:
            self._ignored.increment()
        elif failed:
            self._failures.increment()
        else:
            self._successes.increment()
        if slow:
            self._slow.increment()

    def _reset_consecutive(self) -> None:
        with self._lock:
            if self._state is CLOSED:
                self._consecutive = 0

    def _closed_success(self, start: float) -> None:
        now = self._clock()
        self._successes.increment()
        if self._timed and now - start >= self.slow_call_duration:  # type: ignore[operator]
            self._slow.increment()
            with self._lock:
                change = self._record_closed(False, True, now) if self._closed else None
            self._notify(change)
            return
        with self._lock:
            if self._closed:
                # A fast success cannot raise a rate: record it without re-evaluating.
                self._consecutive = 0
                self._tracker.record_success(now)  # type: ignore[union-attr]

    def _closed_exception(self, exc: BaseException, start: float) -> None:
        failed = self._classify(exc)
        now = self._clock()
        slow = self._tracker is not None and self._is_slow(start, now)
        self._count(failed, slow)
        if failed is None:
            return
        with self._lock:
            change = self._record_closed(failed, slow, now) if self._state is CLOSED else None
        self._notify(change)

    def _finish(self, probe: bool, epoch: int, exc: BaseException | None, start: float) -> None:
        now = self._clock()
        failed = self._classify(exc)
        slow = self._is_slow(start, now)
        self._count(failed, slow)
        change = None
        with self._lock:
            if epoch != self._epoch:
                pass  # the state moved on while this call ran: its outcome is stale
            elif probe:
                self._probes -= 1
                if failed is None:
                    pass
                elif failed or slow:
                    change = self._transition(
                        OPEN,
                        now,
                        "a half-open probe call failed"
                        if failed
                        else "a half-open probe call was slow",
                    )
                else:
                    self._probe_successes += 1
                    if self._probe_successes >= self.success_threshold:
                        change = self._transition(
                            CLOSED, now, f"{self._probe_successes} probe calls succeeded"
                        )
            elif failed is not None and self._state is CLOSED:
                change = self._record_closed(failed, slow, now)
        self._notify(change)

    def _record_closed(self, failed: bool, slow: bool, now: float) -> StateChange | None:
        if failed:
            self._consecutive += 1
            if self.failure_threshold is not None and self._consecutive >= self.failure_threshold:
                return self._transition(OPEN, now, f"{self._consecutive} consecutive failures")
        else:
            self._consecutive = 0
        tracker = self._tracker
        if tracker is None:
            return None
        tracker.record(now, failed, slow)
        calls, failures, slow_calls = tracker.totals(now)
        if calls < self.minimum_calls:
            return None
        if (
            self.failure_rate_threshold is not None
            and failures / calls >= self.failure_rate_threshold
        ):
            return self._transition(
                OPEN, now, f"failure rate {failures / calls:.0%} over {calls} calls"
            )
        if (
            self.slow_call_duration is not None
            and slow_calls / calls >= self.slow_call_rate_threshold
        ):
            return self._transition(
                OPEN, now, f"slow-call rate {slow_calls / calls:.0%} over {calls} calls"
            )
        return None

    def _maybe_half_open(self, now: float) -> StateChange | None:
        if self._state is OPEN and now - self._opened_at >= self.reset_timeout:
            return self._transition(
                HALF_OPEN, now, f"reset timeout of {self.reset_timeout:g} s elapsed"
            )
        return None

    def _transition(self, new: CircuitState, now: float, reason: str) -> StateChange:
        old = self._state
        self._state = new
        self._closed = new is CLOSED
        self._epoch += 1
        self._probes = 0
        self._probe_successes = 0
        if new is OPEN:
            self._opened_at = now
        elif new is CLOSED:
            self._consecutive = 0
            if self._tracker is not None:
                self._tracker.clear()
        self._changes.increment()
        return StateChange(self.name, old, new, now, reason)

    def _force(self, new: CircuitState, reason: str) -> None:
        with self._lock:
            now = self._clock()
            if new is CLOSED:
                self._consecutive = 0
                if self._tracker is not None:
                    self._tracker.clear()
            change = (
                self._transition(new, now, reason)
                if self._state is not new or new is OPEN
                else None
            )
        self._notify(change)

    def _notify(self, change: StateChange | None) -> None:
        if change is None:
            return
        level = logging.WARNING if change.new is OPEN else logging.INFO
        logger.log(
            level,
            "circuit breaker %r: %s -> %s (%s)",
            change.breaker,
            change.old.value,
            change.new.value,
            change.reason,
        )
        for listener in tuple(self._listeners):
            try:
                listener(change)
            except Exception:
                logger.exception(
                    "state-change listener %s of circuit breaker %r failed",
                    _name_of(listener),
                    self.name,
                )
