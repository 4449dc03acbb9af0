"""Success-path overhead of maestro-resilience against its peers, side by side in one run.

Run it with ``uv run python packages/maestro-resilience/benchmarks/bench.py``
(``--quick`` for a shorter run). It prints a Markdown table of median
nanoseconds per call and the overhead over a bare call, plus the
two-threads-through-one-breaker check (1 ms of blocking I/O each).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import threading
import time
import timeit
from collections.abc import Awaitable, Callable

import backoff as backoff_lib
import circuitbreaker
import pybreaker
import stamina
import tenacity

import maestro_resilience as mr

logging.disable(logging.CRITICAL)  # peers log on every call in some configurations


def work(x: int) -> int:
    return x


async def awork(x: int) -> int:
    return x


def sync_contenders() -> list[tuple[str, str, Callable[[int], int]]]:
    return [
        ("bare call", "-", work),
        ("circuit breaker", "maestro-resilience", mr.CircuitBreaker()(work)),
        (
            "circuit breaker",
            "maestro-resilience (failure-rate window)",
            mr.CircuitBreaker(failure_threshold=None, failure_rate_threshold=0.5)(work),
        ),
        ("circuit breaker", "pybreaker", pybreaker.CircuitBreaker()(work)),
        ("circuit breaker", "circuitbreaker", circuitbreaker.circuit(work)),
        ("retry", "maestro-resilience", mr.retry(max_attempts=3)(work)),
        (
            "retry",
            "tenacity",
            tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_exponential())(
                work
            ),
        ),
        ("retry", "stamina", stamina.retry(on=Exception, attempts=3)(work)),
        (
            "retry",
            "backoff",
            backoff_lib.on_exception(backoff_lib.expo, Exception, max_tries=3)(work),
        ),
        ("bulkhead", "maestro-resilience", mr.Bulkhead(max_concurrent=10)(work)),
        ("rate limiter", "maestro-resilience", mr.RateLimiter(rate=1e12, burst=10**9)(work)),
        ("fallback", "maestro-resilience", mr.fallback(value=0)(work)),
        ("timeout (worker thread)", "maestro-resilience", mr.timeout(seconds=5.0)(work)),
        (
            "pipeline: retry + breaker + bulkhead",
            "maestro-resilience",
            mr.pipeline(mr.retry(max_attempts=3), mr.CircuitBreaker(), mr.Bulkhead())(work),
        ),
    ]


def async_contenders() -> list[tuple[str, str, Callable[[int], Awaitable[int]]]]:
    return [
        ("bare call", "-", awork),
        ("circuit breaker", "maestro-resilience", mr.CircuitBreaker()(awork)),
        ("circuit breaker", "circuitbreaker", circuitbreaker.circuit(awork)),
        ("retry", "maestro-resilience", mr.retry(max_attempts=3)(awork)),
        (
            "retry",
            "tenacity",
            tenacity.retry(stop=tenacity.stop_after_attempt(3), wait=tenacity.wait_exponential())(
                awork
            ),
        ),
        ("retry", "stamina", stamina.retry(on=Exception, attempts=3)(awork)),
        (
            "retry",
            "backoff",
            backoff_lib.on_exception(backoff_lib.expo, Exception, max_tries=3)(awork),
        ),
        ("timeout", "maestro-resilience", mr.timeout(seconds=5.0)(awork)),
        ("bulkhead", "maestro-resilience", mr.Bulkhead(max_concurrent=10)(awork)),
        (
            "pipeline: retry + breaker + bulkhead",
            "maestro-resilience",
            mr.pipeline(mr.retry(max_attempts=3), mr.CircuitBreaker(), mr.Bulkhead())(awork),
        ),
    ]


SAMPLE_SECONDS = 0.02  # each sample is one timed loop of about this long


def calibrate(time_loop: Callable[[int], float]) -> int:
    """Loop count for which one sample takes about SAMPLE_SECONDS."""
    number = 100
    while (elapsed := time_loop(number)) < SAMPLE_SECONDS / 4:
        number *= 4
    return max(100, int(number * SAMPLE_SECONDS / max(elapsed, 1e-9)))


def sync_loop(fn: Callable[[int], int]) -> Callable[[int], float]:
    timer = timeit.Timer("fn(1)", globals={"fn": fn})
    return timer.timeit


def async_loop(
    fn: Callable[[int], Awaitable[int]], loop: asyncio.AbstractEventLoop
) -> Callable[[int], float]:
    async def run(number: int) -> float:
        start = time.perf_counter()
        for _ in range(number):
            await fn(1)
        return time.perf_counter() - start

    return lambda number: loop.run_until_complete(run(number))


def measure(
    contenders: list[tuple[str, str, Callable[[int], float]]], rounds: int
) -> list[tuple[str, str, float, float]]:
    """Median ns per call, and median paired overhead over the bare call (the first contender).

    Contenders are measured round-robin, so load from other jobs on a shared machine
    hits all of them alike; the overhead is the median of per-round differences.
    """
    numbers = [calibrate(time_loop) for _, _, time_loop in contenders]
    samples: list[list[float]] = [[] for _ in contenders]
    for _ in range(rounds):
        for index, (_, _, time_loop) in enumerate(contenders):
            samples[index].append(time_loop(numbers[index]) / numbers[index] * 1e9)
    bare = samples[0]
    return [
        (
            policy,
            library,
            statistics.median(own),
            statistics.median(a - b for a, b in zip(own, bare, strict=True)),
        )
        for (policy, library, _), own in zip(contenders, samples, strict=True)
    ]


def two_threads(decorate: Callable[[Callable[[], None]], Callable[[], None]], rounds: int) -> float:
    """Median wall time (ms) of two threads each making a 1 ms blocking call through one policy."""
    call = decorate(lambda: time.sleep(0.001))
    results = []
    for _ in range(rounds):
        barrier = threading.Barrier(3)

        def worker(barrier: threading.Barrier = barrier) -> None:
            barrier.wait()
            call()

        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        barrier.wait()
        start = time.perf_counter()
        for thread in threads:
            thread.join()
        results.append((time.perf_counter() - start) * 1e3)
    return statistics.median(results)


def rows(results: list[tuple[str, str, float, float]]) -> list[str]:
    lines = []
    for policy, library, ns, overhead in results:
        shown = "-" if policy == "bare call" else f"{overhead:,.0f}"
        lines.append(f"| {policy} | {library} | {ns:,.0f} | {shown} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer rounds (noisier numbers)")
    args = parser.parse_args(argv)
    rounds = 5 if args.quick else 41

    sync_results = measure(
        [(policy, library, sync_loop(fn)) for policy, library, fn in sync_contenders()], rounds
    )
    loop = asyncio.new_event_loop()
    try:
        async_results = measure(
            [(policy, library, async_loop(fn, loop)) for policy, library, fn in async_contenders()],
            rounds,
        )
    finally:
        loop.close()
    thread_rounds = 20 if args.quick else 100
    maestro_two = two_threads(mr.CircuitBreaker(), thread_rounds)
    pybreaker_two = two_threads(pybreaker.CircuitBreaker(), thread_rounds)

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"Python {platform.python_version()} on {platform.machine()} ({sys.platform}), "
        f"{os.cpu_count()} CPUs, 1-minute load average {load:.1f} at the end of the run; "
        f"medians of {rounds} round-robin rounds of about {SAMPLE_SECONDS * 1e3:g} ms each.\n"
    )
    print("| Policy (success path) | Library | ns per call | overhead over bare call (ns) |")
    print("|---|---|---:|---:|")
    print("\n".join(rows(sync_results)))
    print("| **asyncio** | | | |")
    print("\n".join(rows(async_results)))
    print("| circuit breaker, asyncio | pybreaker | n/a | no asyncio support |\n")
    print("| Two threads, 1 ms blocking call each, one breaker | Library | wall time (ms) |")
    print("|---|---|---:|")
    print(f"| concurrent calls | maestro-resilience | {maestro_two:.2f} |")
    print(f"| concurrent calls | pybreaker | {pybreaker_two:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
