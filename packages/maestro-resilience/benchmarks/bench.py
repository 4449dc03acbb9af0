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


def measure_sync(fn: Callable[[int], int], number: int, repeat: int) -> float:
    timings = timeit.repeat("fn(1)", globals={"fn": fn}, number=number, repeat=repeat)
    return statistics.median(timings) / number * 1e9


def measure_async(fn: Callable[[int], Awaitable[int]], number: int, repeat: int) -> float:
    async def loop() -> float:
        start = time.perf_counter()
        for _ in range(number):
            await fn(1)
        return time.perf_counter() - start

    timings = [asyncio.run(loop()) for _ in range(repeat)]
    return statistics.median(timings) / number * 1e9


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


def rows(results: list[tuple[str, str, float]]) -> list[str]:
    bare = results[0][2]
    lines = []
    for policy, library, ns in results:
        overhead = "-" if policy == "bare call" else f"{ns - bare:,.0f}"
        lines.append(f"| {policy} | {library} | {ns:,.0f} | {overhead} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer iterations (noisier numbers)")
    args = parser.parse_args(argv)
    number, repeat = (20_000, 5) if args.quick else (200_000, 9)

    sync_results = [
        (policy, library, measure_sync(fn, number, repeat))
        for policy, library, fn in sync_contenders()
    ]
    async_results = [
        (policy, library, measure_async(fn, number // 2, repeat))
        for policy, library, fn in async_contenders()
    ]
    rounds = 20 if args.quick else 100
    maestro_two = two_threads(mr.CircuitBreaker(), rounds)
    pybreaker_two = two_threads(pybreaker.CircuitBreaker(), rounds)

    print(
        f"Python {platform.python_version()} on {platform.machine()} ({sys.platform}); "
        f"median of {repeat} runs of {number:,} sync / {number // 2:,} async calls.\n"
    )
    print("| Policy (success path) | Library | ns per call | overhead over bare call (ns) |")
    print("|---|---|---:|---:|")
    print("\n".join(rows(sync_results)))
    print("| **asyncio** | | | |")
    print("\n".join(rows(async_results)))
    print(
        "| pybreaker, asyncio | pybreaker | n/a | no asyncio support (only Tornado coroutines) |\n"
    )
    print("| Two threads, 1 ms blocking call each, one breaker | Library | wall time (ms) |")
    print("|---|---|---:|")
    print(f"| concurrent calls | maestro-resilience | {maestro_two:.2f} |")
    print(f"| concurrent calls | pybreaker | {pybreaker_two:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
