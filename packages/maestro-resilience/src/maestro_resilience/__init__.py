"""Resilience policies for Python 3.11+: circuit breaker, bulkhead, retry, timeout,
fallback, rate limiter, and pipelines composing them. Sync and asyncio, stdlib only.

>>> from maestro_resilience import CircuitBreaker, pipeline, retry, timeout
>>> resilient = pipeline(retry(max_attempts=3), CircuitBreaker(), timeout(seconds=5.0))
>>> @resilient
... def call_external_api() -> str:
...     return "ok"
>>> call_external_api()
'ok'
"""

import logging
from importlib.metadata import PackageNotFoundError, version

from ._clock import AsyncSleep, Clock, FakeClock, Sleep, is_testing, set_testing
from ._policy import Policy
from .backoff import Backoff, ConstantBackoff, DecorrelatedJitterBackoff, ExponentialBackoff, Jitter
from .breaker import BreakerMetrics, CircuitBreaker, CircuitState, StateChange
from .bulkhead import Bulkhead, BulkheadMetrics
from .errors import (
    BulkheadFullError,
    CallTimeoutError,
    CircuitOpenError,
    RateLimitExceeded,
    ResilienceError,
    RetryExhaustedError,
)
from .fallback import Fallback, fallback
from .pipeline import Pipeline, pipeline
from .ratelimit import RateLimiter, RateLimiterMetrics
from .retry import Retry, RetryEvent, RetryInfo, RetryMetrics, retry, retry_info
from .timeout import Timeout, TimeoutMetrics, timeout
from .window import CountWindow, TimeWindow

# A library never configures logging; applications opt in to our events.
logging.getLogger("maestro_resilience").addHandler(logging.NullHandler())

try:
    __version__ = version("maestro-resilience")
except PackageNotFoundError:  # pragma: no cover - source tree without an install
    __version__ = "0+unknown"

__all__ = [
    "AsyncSleep",
    "Backoff",
    "BreakerMetrics",
    "Bulkhead",
    "BulkheadFullError",
    "BulkheadMetrics",
    "CallTimeoutError",
    "CircuitBreaker",
    "CircuitOpenError",
    "CircuitState",
    "Clock",
    "ConstantBackoff",
    "CountWindow",
    "DecorrelatedJitterBackoff",
    "ExponentialBackoff",
    "FakeClock",
    "Fallback",
    "Jitter",
    "Pipeline",
    "Policy",
    "RateLimitExceeded",
    "RateLimiter",
    "RateLimiterMetrics",
    "ResilienceError",
    "Retry",
    "RetryEvent",
    "RetryExhaustedError",
    "RetryInfo",
    "RetryMetrics",
    "Sleep",
    "StateChange",
    "TimeWindow",
    "Timeout",
    "TimeoutMetrics",
    "__version__",
    "fallback",
    "is_testing",
    "pipeline",
    "retry",
    "retry_info",
    "set_testing",
    "timeout",
]
