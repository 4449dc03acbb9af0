"""Concurrency torture: 16 threads and 1,000 asyncio tasks hammer one breaker and one bulkhead.

Invariants checked: the bulkhead never lets more than its limit in, half-open
probes never exceed their limit, every counter adds up with what the callers
saw, and nothing deadlocks (every worker finishes within a generous timeout).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections import Counter

from maestro_resilience import (
    Bulkhead,
    BulkheadFullError,
    CircuitBreaker,
    CircuitOpenError,
    StateChange,
    pipeline,
)

THREADS = 16
CALLS_PER_THREAD = 1500
TASKS = 1000
CALLS_PER_TASK = 5
MAX_CONCURRENT = 4
PROBES = 2


class Observed:
    """What the protected function and its callers saw, counted independently of the policies."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.peak_inside = 0
        self.peak_probes = 0
        self.outcomes: Counter[str] = Counter()

    def enter(self, breaker: CircuitBreaker) -> None:
        with self.lock:
            self.inside += 1
            self.peak_inside = max(self.peak_inside, self.inside)
            self.peak_probes = max(self.peak_probes, breaker.metrics.probes_in_flight)

    def leave(self) -> None:
        with self.lock:
            self.inside -= 1

    def count(self, outcome: str) -> None:
        with self.lock:
            self.outcomes[outcome] += 1


class Boom(Exception):
    pass


def test_threads_and_tasks_hammering_one_breaker_and_one_bulkhead() -> None:
    changes: list[StateChange] = []
    breaker = CircuitBreaker(
        failure_threshold=3,
        reset_timeout=0.0005,
        half_open_max_calls=PROBES,
        success_threshold=2,
        listeners=[changes.append],
    )
    bulkhead = Bulkhead(max_concurrent=MAX_CONCURRENT, max_wait=0.0005)
    guarded = pipeline(bulkhead, breaker)
    seen = Observed()

    @guarded
    def sync_call(fail: bool, pause: bool) -> None:
        seen.enter(breaker)
        try:
            if pause:
                time.sleep(0)
            if fail:
                raise Boom
        finally:
            seen.leave()

    @guarded
    async def async_call(fail: bool, pause: bool) -> None:
        seen.enter(breaker)
        try:
            if pause:
                await asyncio.sleep(0)
            if fail:
                raise Boom
        finally:
            seen.leave()

    def classify(fail: bool, pause: bool) -> str:
        try:
            sync_call(fail, pause)
        except Boom:
            return "failed"
        except CircuitOpenError:
            return "rejected by breaker"
        except BulkheadFullError:
            return "rejected by bulkhead"
        return "ok"

    def thread_worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(CALLS_PER_THREAD):
            fail, pause = rng.random() < 0.3, rng.random() < 0.2
            seen.count(classify(fail, pause))

    async def task_worker(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(CALLS_PER_TASK):
            fail, pause = rng.random() < 0.3, rng.random() < 0.5
            try:
                await async_call(fail, pause)
                seen.count("ok")
            except Boom:
                seen.count("failed")
            except CircuitOpenError:
                seen.count("rejected by breaker")
            except BulkheadFullError:
                seen.count("rejected by bulkhead")

    async def all_tasks() -> None:
        await asyncio.gather(*(task_worker(1000 + n) for n in range(TASKS)))

    workers = [threading.Thread(target=thread_worker, args=(n,)) for n in range(THREADS)]
    workers.append(threading.Thread(target=lambda: asyncio.run(all_tasks())))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not [w for w in workers if w.is_alive()], "deadlock: a worker never finished"

    total = THREADS * CALLS_PER_THREAD + TASKS * CALLS_PER_TASK
    assert sum(seen.outcomes.values()) == total
    assert seen.peak_inside <= MAX_CONCURRENT
    assert seen.peak_probes <= PROBES
    assert seen.inside == 0

    b = breaker.metrics
    ran = seen.outcomes["ok"] + seen.outcomes["failed"]
    assert b.successes == seen.outcomes["ok"]
    assert b.failures == seen.outcomes["failed"]
    assert b.ignored == 0
    assert b.calls == ran
    assert b.rejected == seen.outcomes["rejected by breaker"]
    assert b.probes_in_flight == 0
    assert b.state_changes == len(changes) > 0  # the breaker really cycled

    h = bulkhead.metrics
    assert h.accepted == ran + b.rejected
    assert h.rejected == seen.outcomes["rejected by bulkhead"]
    assert (h.active, h.waiting) == (0, 0)


def test_half_open_probe_limit_holds_under_contention_counted_inside_the_function() -> None:
    # The breaker is held half-open (probes always succeed but never enough to close), so
    # every admitted call is a probe: the function itself counts how many run at once.
    breaker = CircuitBreaker(reset_timeout=0.0, half_open_max_calls=PROBES, success_threshold=10**9)
    breaker.open()
    seen = Observed()
    admitted = threading.Event()

    def probe_body() -> None:
        with seen.lock:
            seen.inside += 1
            seen.peak_inside = max(seen.peak_inside, seen.inside)
        admitted.set()
        time.sleep(0)
        with seen.lock:
            seen.inside -= 1

    @breaker
    def sync_probe() -> None:
        probe_body()

    @breaker
    async def async_probe() -> None:
        probe_body()
        await asyncio.sleep(0)

    def thread_worker() -> None:
        for _ in range(CALLS_PER_THREAD):
            try:
                sync_probe()
                seen.count("ok")
            except CircuitOpenError:
                seen.count("rejected")

    async def task_worker() -> None:
        for _ in range(CALLS_PER_TASK):
            try:
                await async_probe()
                seen.count("ok")
            except CircuitOpenError:
                seen.count("rejected")

    async def all_tasks() -> None:
        await asyncio.gather(*(task_worker() for _ in range(TASKS)))

    workers = [threading.Thread(target=thread_worker) for _ in range(THREADS)]
    workers.append(threading.Thread(target=lambda: asyncio.run(all_tasks())))
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert not [w for w in workers if w.is_alive()], "deadlock: a worker never finished"

    assert admitted.is_set()
    assert 1 <= seen.peak_inside <= PROBES
    assert seen.outcomes["rejected"] > 0
    metrics = breaker.metrics
    assert metrics.state.value == "half_open"
    assert metrics.successes == seen.outcomes["ok"]
    assert metrics.rejected == seen.outcomes["rejected"]
    assert metrics.probes_in_flight == 0
