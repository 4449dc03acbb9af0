"""The bulkhead: cap how many calls run at once, so one slow dependency cannot take every worker."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ._policy import P, Policy, R, _Counter
from ._validate import check_int, check_seconds
from .errors import BulkheadFullError

__all__ = ["Bulkhead", "BulkheadMetrics"]

logger = logging.getLogger("maestro_resilience.bulkhead")


@dataclass(frozen=True, slots=True)
class BulkheadMetrics:
    """A snapshot of a bulkhead's state and counters.

    Attributes:
        max_concurrent: The configured limit.
        active: Calls holding a slot now.
        waiting: Callers waiting for a slot now.
        accepted: Calls that got a slot since creation.
        rejected: Calls rejected with :class:`BulkheadFullError` since creation.

    >>> pool = Bulkhead(max_concurrent=3)
    >>> with pool:
    ...     pool.metrics
    BulkheadMetrics(max_concurrent=3, active=1, waiting=0, accepted=1, rejected=0)
    """

    max_concurrent: int
    active: int
    waiting: int
    accepted: int
    rejected: int


class _ThreadWaiter:
    """A thread waiting for a slot."""

    __slots__ = ("event", "granted")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.granted = False  # set under the bulkhead lock: the slot now belongs to the waiter

    def wake(self) -> bool:
        self.event.set()
        return True


class _TaskWaiter:
    """An asyncio task waiting for a slot, possibly on another thread's event loop."""

    __slots__ = ("future", "granted", "loop")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.granted = False

    def wake(self) -> bool:
        try:
            self.loop.call_soon_threadsafe(_resolve, self.future)
        except RuntimeError:  # its event loop is closed: nobody will take the slot
            return False
        return True


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Bulkhead(Policy):
    """Let at most ``max_concurrent`` calls run at once; others wait up to ``max_wait`` seconds.

    Works for threads and asyncio tasks alike (even mixed, on one instance):
    slots are handed to waiters first come, first served, and a waiter that is
    cancelled or times out never keeps a slot. Also usable as ``with bulkhead:``
    and ``async with bulkhead:``.

    Args:
        max_concurrent: Calls allowed inside at the same time.
        max_wait: Seconds a caller waits for a slot before :class:`BulkheadFullError`
            (``0`` rejects at once, ``None`` waits forever).
        name: Name used in errors.

    Raises:
        ValueError: If ``max_concurrent`` < 1 or ``max_wait`` is negative.

    >>> pool = Bulkhead(max_concurrent=1)
    >>> with pool:
    ...     try:
    ...         pool.call(print, "second caller")
    ...     except BulkheadFullError as exc:
    ...         print(type(exc).__name__)
    BulkheadFullError
    >>> pool.call(print, "slot is free again")
    slot is free again
    """

    def __init__(
        self, max_concurrent: int = 10, max_wait: float | None = 0.0, *, name: str = "bulkhead"
    ) -> None:
        check_int("max_concurrent", max_concurrent)
        if max_wait is not None and max_wait != math.inf:
            check_seconds("max_wait", max_wait, hint=", or None to wait forever")
        self.max_concurrent = max_concurrent
        self.max_wait = None if max_wait is None or math.isinf(max_wait) else float(max_wait)
        self.name = name
        self._lock = threading.Lock()
        self._active = 0
        self._waiters: deque[_ThreadWaiter | _TaskWaiter] = deque()
        self._accepted = 0  # guarded by _lock like _active
        self._rejected = _Counter()

    def __repr__(self) -> str:
        return (
            f"Bulkhead(name={self.name!r}, max_concurrent={self.max_concurrent}, "
            f"max_wait={self.max_wait!r})"
        )

    @property
    def metrics(self) -> BulkheadMetrics:
        """A snapshot of the bulkhead's occupancy and counters."""
        with self._lock:
            return BulkheadMetrics(
                max_concurrent=self.max_concurrent,
                active=self._active,
                waiting=len(self._waiters),
                accepted=self._accepted,
                rejected=self._rejected.value,
            )

    # -- slots ----------------------------------------------------------------------

    def _enter_now(self) -> bool:
        """Take a free slot if nobody is queued before us. Caller holds the lock."""
        if self._active < self.max_concurrent and not self._waiters:
            self._active += 1
            self._accepted += 1
            return True
        return False

    def _full(self, waited: float | None) -> BulkheadFullError:
        self._rejected.increment()
        error = BulkheadFullError(
            self.name, max_concurrent=self.max_concurrent, max_wait=waited or 0.0
        )
        logger.debug("%s", error)
        return error

    def acquire(self) -> None:
        """Take a slot, waiting up to ``max_wait`` seconds (blocking the thread).

        Raises:
            BulkheadFullError: If no slot freed up in time.
        """
        with self._lock:
            if self._enter_now():
                return
            if self.max_wait == 0:
                raise self._full(0.0)
            waiter = _ThreadWaiter()
            self._waiters.append(waiter)
        try:
            waiter.event.wait(self.max_wait)
        except BaseException:  # e.g. KeyboardInterrupt while waiting: never keep the slot
            if self._withdraw(waiter):
                self.release()
            raise
        if not self._withdraw(waiter):
            raise self._full(self.max_wait)

    def _withdraw(self, waiter: _ThreadWaiter | _TaskWaiter) -> bool:
        """Stop waiting; return whether the slot was handed over in the meantime."""
        with self._lock:
            if not waiter.granted:
                self._waiters.remove(waiter)
            return waiter.granted

    async def acquire_async(self) -> None:
        """Take a slot, waiting up to ``max_wait`` seconds without blocking the event loop.

        A task cancelled while waiting gives its place (or the slot it was just
        handed) to the next waiter.

        Raises:
            BulkheadFullError: If no slot freed up in time.
        """
        with self._lock:
            if self._enter_now():
                return
            if self.max_wait == 0:
                raise self._full(0.0)
            task_waiter = _TaskWaiter(asyncio.get_running_loop())
            self._waiters.append(task_waiter)
        try:
            async with asyncio.timeout(self.max_wait):
                await task_waiter.future
        except BaseException as exc:
            granted = self._withdraw(task_waiter)
            if granted and isinstance(exc, TimeoutError):
                return  # the slot arrived just as the wait expired: use it
            if granted:
                self.release()  # cancelled after being handed the slot: pass it on
                raise
            if isinstance(exc, TimeoutError):
                raise self._full(self.max_wait) from None
            raise

    def release(self) -> None:
        """Give a slot back, handing it straight to the longest-waiting caller if any.

        Raises:
            RuntimeError: If called more often than a slot was taken.
        """
        with self._lock:
            if not self._waiters and self._active > 0:
                self._active -= 1
                return
            if self._active <= 0:
                raise RuntimeError(f"bulkhead {self.name!r} released more often than acquired")
            while self._waiters:
                waiter = self._waiters.popleft()
                if waiter.wake():  # hand the slot over: _active stays the same
                    waiter.granted = True
                    self._accepted += 1
                    return
            self._active -= 1

    # -- context managers -------------------------------------------------------------

    def __enter__(self) -> Bulkhead:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    async def __aenter__(self) -> Bulkhead:
        await self.acquire_async()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    # -- wrappers -----------------------------------------------------------------------

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        acquire, release, lock = self.acquire, self.release, self._lock
        bulkhead = self

        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with lock:  # the uncontended case, inlined: a free slot and nobody queued
                entered = bulkhead._active < bulkhead.max_concurrent and not bulkhead._waiters
                if entered:
                    bulkhead._active += 1
                    bulkhead._accepted += 1
            if not entered:
                acquire()
            try:
                return fn(*args, **kwargs)
            finally:
                release()

        return wrapper

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        acquire, release, lock = self.acquire_async, self.release, self._lock
        bulkhead = self

        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            with lock:  # the uncontended case, inlined: a free slot and nobody queued
                entered = bulkhead._active < bulkhead.max_concurrent and not bulkhead._waiters
                if entered:
                    bulkhead._active += 1
                    bulkhead._accepted += 1
            if not entered:
                await acquire()
            try:
                return await fn(*args, **kwargs)
            finally:
                release()

        return wrapper

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` inside a slot.

        Raises:
            BulkheadFullError: If no slot freed up within ``max_wait``.
        """
        self.acquire()
        try:
            return fn(*args, **kwargs)
        finally:
            self.release()
