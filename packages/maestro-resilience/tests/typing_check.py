"""Checked by ``mypy --strict`` (see test_typing.py), never run: decorated functions keep
their exact signatures. Every ``type: ignore`` below must be needed (strict mode
warns about unused ones), so a decorator that degraded to ``Any`` fails the check.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from maestro_resilience import (
    Bulkhead,
    CircuitBreaker,
    RateLimiter,
    fallback,
    pipeline,
    retry,
    timeout,
)

breaker = CircuitBreaker()
resilient = pipeline(retry(max_attempts=3, on=(ConnectionError,)), breaker, timeout(seconds=1.0))


@retry(max_attempts=3)
@timeout(seconds=5.0)
def call_external_api(url: str, *, retries: int = 0) -> bytes:
    return url.encode()


@breaker
async def fetch(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@resilient
def upload(path: str, size: int) -> bool:
    return size > 0


@Bulkhead(max_concurrent=2)
@RateLimiter(rate=10)
@fallback(value=None)
async def maybe(name: str) -> str | None:
    return name


def usage() -> None:
    body: bytes = call_external_api("https://example.invalid", retries=2)
    sync_signature: Callable[[str], bytes] = call_external_api
    ok: bool = upload("dist/pkg.whl", 3)
    coroutine: Coroutine[Any, Any, dict[str, int]] = fetch(7)
    coroutine.close()
    direct: int = breaker.call(len, "abc")

    call_external_api(42)  # type: ignore[arg-type]
    upload("x", size="big")  # type: ignore[arg-type]
    wrong: str = upload("x", 1)  # type: ignore[assignment]
    fetch("seven")  # type: ignore[arg-type, unused-coroutine]
    breaker.call(len, 3)  # type: ignore[arg-type]
    del body, sync_signature, ok, direct, wrong


async def async_usage() -> None:
    record: dict[str, int] = await fetch(7)
    name: str | None = await maybe("x")
    explicit: dict[str, int] = await breaker.call_async(fetch, 1)
    wrong: int = await maybe("x")  # type: ignore[assignment]
    await breaker.call_async(fetch, "1")  # type: ignore[arg-type]
    del record, name, explicit, wrong
