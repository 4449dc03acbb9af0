"""Small order statistics, so the core needs no numpy."""

from __future__ import annotations

from collections.abc import Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Linear-interpolated percentile of already sorted values (0.0 if empty).

    >>> percentile([1.0, 2.0, 3.0, 4.0], 0.5)
    2.5
    >>> percentile([5.0], 0.95), percentile([], 0.5)
    (5.0, 0.0)
    """
    if not sorted_values:
        return 0.0
    position = (len(sorted_values) - 1) * fraction
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    weight = position - low
    return sorted_values[low] * (1 - weight) + sorted_values[high] * weight


def median(values: Sequence[float]) -> float:
    """Median of unsorted values (0.0 if empty).

    >>> median([3.0, 1.0, 2.0])
    2.0
    """
    return percentile(sorted(values), 0.5)


def median_absolute_deviation(values: Sequence[float]) -> float:
    """Median absolute deviation from the median: a noise measure robust to outliers.

    >>> median_absolute_deviation([1.0, 1.0, 2.0, 2.0, 100.0])
    1.0
    """
    center = median(values)
    return median([abs(value - center) for value in values])


def pass_rate(executed: int, failing: int) -> float:
    """Share of ``executed`` tests that did not fail or error (1.0 when none executed).

    >>> pass_rate(4, 1), pass_rate(0, 0)
    (0.75, 1.0)
    """
    return 1.0 if executed <= 0 else (executed - failing) / executed
