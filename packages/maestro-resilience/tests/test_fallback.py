"""Fallback: values, handlers (sync and async), what is and is not replaced."""

from __future__ import annotations

import asyncio

import pytest

from maestro_resilience import fallback


def test_value_replaces_the_listed_exceptions_only() -> None:
    policy = fallback(value=[], on=(ConnectionError,))

    @policy
    def items(error: Exception | None) -> list[str]:
        if error:
            raise error
        return ["a"]

    assert items(None) == ["a"]
    assert items(ConnectionError()) == []
    with pytest.raises(ValueError):
        items(ValueError())
    assert policy.used == 1


def test_handler_receives_the_exception() -> None:
    seen: list[BaseException] = []

    def handler(exc: BaseException) -> str:
        seen.append(exc)
        return "default"

    error = OSError("disk")
    assert fallback(handler=handler).call(lambda: (_ for _ in ()).throw(error)) == "default"
    assert seen == [error]


def test_async_function_with_sync_and_async_handlers() -> None:
    async def boom() -> int:
        raise LookupError

    async def async_handler(exc: BaseException) -> int:
        await asyncio.sleep(0)
        return 2

    assert asyncio.run(fallback(handler=lambda exc: 1).call_async(boom)) == 1
    assert asyncio.run(fallback(handler=async_handler)(boom)()) == 2


def test_cancellation_is_never_swallowed() -> None:
    @fallback(value="swallowed", on=BaseException)
    async def cancelled() -> str:
        raise asyncio.CancelledError

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(cancelled())


def test_none_is_a_valid_fallback_value() -> None:
    assert fallback(value=None).call(int, "x") is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "exactly one"),
        ({"value": 1, "handler": str}, "exactly one"),
        ({"handler": 3}, "handler"),
        ({"value": 1, "on": "ValueError"}, "on"),
    ],
)
def test_bad_configuration(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        fallback(**kwargs)  # type: ignore[arg-type]


def test_an_async_handler_refuses_a_plain_function() -> None:
    async def cached(exc: BaseException) -> str:
        return "cached"

    policy = fallback(handler=cached)
    with pytest.raises(TypeError, match=r"handler \S*cached is async.*not \S*broken"):

        @policy
        def broken() -> str:  # its fallback used to be an unawaited coroutine
            raise ConnectionError

    with pytest.raises(TypeError, match="is async"):
        policy.call(lambda: "unused")

    @policy
    async def fetch() -> str:
        raise ConnectionError

    assert asyncio.run(fetch()) == "cached"
