"""The fallback policy: answer with a default (or a handler's answer) when a call fails."""

from __future__ import annotations

import inspect
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, cast

from ._policy import _NEVER_HANDLED, P, Policy, R, _Counter, _is_async, _name_of
from ._validate import exception_types

__all__ = ["Fallback", "fallback"]

logger = logging.getLogger("maestro_resilience.fallback")

_MISSING: Any = object()


class Fallback(Policy):
    """Replace a failure by a value; create it with :func:`fallback`.

    >>> policy = fallback(value=0, on=(ValueError,))
    >>> policy.call(int, "seven"), policy.used
    (0, 1)
    """

    __slots__ = ("_async_handler", "_used", "handler", "on", "value")

    def __init__(
        self,
        value: object = _MISSING,
        *,
        handler: Callable[[BaseException], object] | None = None,
        on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
    ) -> None:
        if (value is _MISSING) == (handler is None):
            raise ValueError("fallback needs exactly one of value=... or handler=...")
        if handler is not None and not callable(handler):
            raise ValueError(
                f"handler must be callable (it receives the exception), got {handler!r}"
            )
        types = exception_types("on", on)
        self.value = value
        self.handler = handler
        self._async_handler = handler is not None and _is_async(handler)
        self.on = types
        self._used = _Counter()

    def __repr__(self) -> str:
        what = (
            f"handler={_name_of(self.handler)}"
            if self.handler is not None
            else f"value={self.value!r}"
        )
        return f"Fallback({what}, on={self.on!r})"

    @property
    def used(self) -> int:
        """How many times the fallback replaced a failure."""
        return self._used.value

    def _replace(self, fn: object, exc: BaseException) -> object:
        if isinstance(exc, _NEVER_HANDLED):
            raise exc
        self._used.increment()
        logger.info("%s failed with %r; using the fallback", _name_of(fn), exc)
        return self.handler(exc) if self.handler is not None else self.value

    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        if self._async_handler:  # nobody could await it: the caller would get a coroutine
            raise TypeError(
                f"fallback handler {_name_of(self.handler)} is async, so it can only serve "
                f"async def functions, not {_name_of(fn)}; give it a sync handler"
            )
        on, replace = self.on, self._replace

        def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return fn(*args, **kwargs)
            except on as exc:
                return cast("R", replace(fn, exc))

        return wrapper

    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        on, replace = self.on, self._replace

        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except on as exc:
                answer = replace(fn, exc)
                if inspect.isawaitable(answer):  # async handlers are awaited
                    answer = await answer
                return cast("R", answer)

        return wrapper


def fallback(
    value: object = _MISSING,
    *,
    handler: Callable[[BaseException], object] | None = None,
    on: type[BaseException] | tuple[type[BaseException], ...] = (Exception,),
) -> Fallback:
    """Return ``value`` (or ``handler(exception)``) instead of raising one of ``on``.

    Cancellation, :class:`KeyboardInterrupt`, :class:`SystemExit` and
    :class:`GeneratorExit` always propagate. For ``async def`` functions the
    handler may be sync or async; plain functions need a sync handler.

    Args:
        value: The replacement result.
        handler: Called with the exception; its return value is the result.
        on: Exception class(es) to replace; anything else propagates.

    Raises:
        ValueError: Unless exactly one of ``value`` and ``handler`` is given, or
            if ``on`` is not exception classes.
        TypeError: When a policy with an ``async def`` handler decorates (or
            calls) a plain function.

    >>> @fallback(handler=lambda exc: f"cached ({type(exc).__name__})", on=(ConnectionError,))
    ... def price() -> str:
    ...     raise ConnectionError("pricing service down")
    >>> price()
    'cached (ConnectionError)'
    """
    return Fallback(value, handler=handler, on=on)
