"""Argument checks shared by the policies: bad configuration fails at construction time
with a ``ValueError`` that names the parameter and says what is expected."""

from __future__ import annotations

import math


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_int(name: str, value: object, minimum: int = 1, hint: str = "") -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise ``ValueError``."""
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}{hint}, got {value!r}")
    return value


def check_seconds(name: str, value: object, *, allow_zero: bool = True, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite duration (> 0 unless ``allow_zero``)."""
    if (
        not _is_number(value)
        or not math.isfinite(value)  # type: ignore[arg-type]
        or value < 0  # type: ignore[operator]
        or (value == 0 and not allow_zero)
    ):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}{hint}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_positive(name: str, value: object, hint: str = "") -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
    if not _is_number(value) or not 0 < value < math.inf:  # type: ignore[operator]
        raise ValueError(f"{name} must be a finite number > 0{hint}, got {value!r}")
    return float(value)  # type: ignore[arg-type]


def check_fraction(name: str, value: object) -> float:
    """Return ``value`` as a float if it is in (0, 1]."""
    if not _is_number(value) or not 0 < value <= 1:  # type: ignore[operator]
        raise ValueError(f"{name} must be a fraction in (0, 1] (e.g. 0.5 for 50 %), got {value!r}")
    return float(value)  # type: ignore[arg-type]


def exception_types(
    name: str, value: object, *, allow_empty: bool = False
) -> tuple[type[BaseException], ...]:
    """Normalise an exception class or tuple of them to a tuple."""
    types = value if isinstance(value, tuple) else (value,)
    if (not types and not allow_empty) or not all(
        isinstance(t, type) and issubclass(t, BaseException) for t in types
    ):
        expected = "a tuple" if allow_empty else "a non-empty tuple"
        raise ValueError(f"{name} must be an exception class or {expected} of them, got {value!r}")
    return types
