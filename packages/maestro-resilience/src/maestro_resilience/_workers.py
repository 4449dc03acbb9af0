"""Reusable daemon threads for sync timeouts.

Starting a thread costs about 0.1 ms; handing a call to a parked one costs a few
microseconds. A worker whose caller timed out keeps running the function (Python
cannot stop a thread) and is simply not parked until the function returns.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

# How long a parked worker waits for the next call before its thread ends, and how
# many workers may be parked: bounded, so that a burst of calls leaves nothing behind.
IDLE_SECONDS = 30.0
MAX_PARKED = 16


class _Worker:
    __slots__ = ("_job", "_pool", "_wake")

    def __init__(self, pool: WorkerPool, job: Callable[[], None]) -> None:
        self._pool = pool
        self._job: Callable[[], None] | None = job
        self._wake = threading.Event()
        threading.Thread(target=self._serve, name="maestro-timeout-worker", daemon=True).start()

    def hand(self, job: Callable[[], None]) -> None:
        self._job = job
        self._wake.set()

    def _serve(self) -> None:
        while True:
            job, self._job = self._job, None
            if job is not None:
                job()  # never raises: the job stores its outcome for the caller
                job = None  # do not keep the call's arguments alive while parked
            if not self._pool._park(self):
                return
            self._wake.wait(IDLE_SECONDS)
            if self._pool._retire(self):
                return
            self._wake.wait()  # a caller took this worker: its job is on the way


class WorkerPool:
    """Runs jobs on parked worker threads, starting a new one when none is parked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._parked: list[_Worker] = []

    def run(self, job: Callable[[], None]) -> None:
        """Run ``job()`` in a worker thread and return at once."""
        with self._lock:
            worker = self._parked.pop() if self._parked else None
        if worker is None:
            _Worker(self, job)
        else:
            worker.hand(job)

    def parked(self) -> int:
        """How many idle workers are waiting for a job."""
        with self._lock:
            return len(self._parked)

    def _park(self, worker: _Worker) -> bool:
        with self._lock:
            if len(self._parked) >= MAX_PARKED:
                return False
            worker._wake.clear()
            self._parked.append(worker)
            return True

    def _retire(self, worker: _Worker) -> bool:
        """After an idle wait: end the worker if nobody took it meanwhile."""
        with self._lock:
            if worker in self._parked:
                self._parked.remove(worker)
                return True
            return False

    def _forget_after_fork(self) -> None:
        # The parked threads do not exist in a forked child.
        self._lock = threading.Lock()
        self._parked = []


WORKERS = WorkerPool()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=WORKERS._forget_after_fork)
