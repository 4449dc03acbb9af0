"""The base class shared by every policy: decorator, explicit calls, async detection."""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")

# Never retried nor replaced by a fallback, whatever ``on`` says: handling them would
# break cancellation and shutdown.
_NEVER_HANDLED: tuple[type[BaseException], ...] = (
    asyncio.CancelledError,
    KeyboardInterrupt,
    SystemExit,
    GeneratorExit,
)

__all__ = ["Policy"]


class Policy(ABC):
    """A resilience policy: wraps a callable, sync or async, with one concern.

    Every policy is a decorator (``@policy``) that keeps the decorated
    function's exact signature, and offers explicit calls:
    ``policy.call(fn, *args, **kwargs)`` and
    ``await policy.call_async(fn, *args, **kwargs)``. ``async def`` functions
    are detected automatically.

    >>> from maestro_resilience import fallback
    >>> policy = fallback(value=0)
    >>> policy.call(int, "not a number")
    0
    """

    __slots__ = ()

    def __call__(self, fn: Callable[P, R], /) -> Callable[P, R]:
        """Decorate ``fn`` (sync or ``async def``) with this policy."""
        if not callable(fn):
            raise TypeError(f"{type(self).__name__} decorates callables, got {fn!r}")
        if _is_async(fn):
            async_fn = cast("Callable[P, Awaitable[Any]]", fn)
            wrapper: Callable[..., Any] = self._wrap_async(async_fn)
        else:
            wrapper = self._wrap_sync(fn)
        return cast("Callable[P, R]", functools.update_wrapper(wrapper, fn))

    def call(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run ``fn(*args, **kwargs)`` under this policy and return its result.

        For ``async def`` functions use :meth:`call_async`.
        """
        return self._wrap_sync(fn)(*args, **kwargs)

    async def call_async(
        self, fn: Callable[P, Awaitable[R]], /, *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """Await ``fn(*args, **kwargs)`` under this policy and return its result."""
        return await self._wrap_async(fn)(*args, **kwargs)

    @abstractmethod
    def _wrap_sync(self, fn: Callable[P, R]) -> Callable[P, R]:
        """Return a plain function running ``fn`` under this policy."""

    @abstractmethod
    def _wrap_async(self, fn: Callable[P, Awaitable[R]]) -> Callable[P, Coroutine[Any, Any, R]]:
        """Return an ``async def`` function awaiting ``fn`` under this policy."""


def _is_async(fn: object) -> bool:
    while isinstance(fn, functools.partial):
        fn = fn.func
    if inspect.iscoroutinefunction(fn):
        return True
    call = getattr(fn, "__call__", None)  # noqa: B004 - callable objects with ``async def __call__``
    return not inspect.isfunction(fn) and inspect.iscoroutinefunction(call)


def _name_of(fn: object) -> str:
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None)
    return name if isinstance(name, str) else type(fn).__qualname__


class _Counter:
    """A thread-safe counter cheap enough for success paths.

    ``itertools.count.__next__`` is a single C call, so concurrent increments
    are never lost (unlike ``x += 1``) and no lock is taken. Wrappers bind
    :attr:`increment` once, so :meth:`reset` keeps the counter and moves an
    offset instead.
    """

    __slots__ = ("_count", "_offset", "increment")

    def __init__(self) -> None:
        self._count = itertools.count()
        self._offset = 0
        self.increment: Callable[[], int] = self._count.__next__

    def _raw(self) -> int:
        # ``repr`` is the only way to read an itertools.count without advancing it.
        return int(repr(self._count)[6:-1])

    @property
    def value(self) -> int:
        return self._raw() - self._offset

    def reset(self) -> None:
        self._offset = self._raw()
