"""Inline SVG charts for the HTML report: no scripts, every label escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

_WIDTH = 760
_HEIGHT = 220
_PAD_LEFT = 56
_PAD_RIGHT = 16
_PAD_TOP = 16
_PAD_BOTTOM = 28


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def line_chart(
    values: Sequence[float],
    labels: Sequence[str],
    *,
    title: str,
    unit: str,
    maximum: float | None = None,
    flagged: Sequence[bool] = (),
    color: str = "#2563eb",
) -> str:
    """A line chart of one series; ``flagged`` points are drawn in red.

    >>> svg = line_chart([1.0, 0.5], ["build 1", "<b>2</b>"], title="Pass rate", unit="%")
    >>> svg.startswith("<svg") and "&lt;b&gt;2&lt;/b&gt;" in svg and "<b>" not in svg
    True
    """
    if not values:
        return _empty(title)
    top = maximum if maximum is not None else max(values) or 1.0
    plot_w = _WIDTH - _PAD_LEFT - _PAD_RIGHT
    plot_h = _HEIGHT - _PAD_TOP - _PAD_BOTTOM
    step = plot_w / max(len(values) - 1, 1)

    def x(i: int) -> float:
        return _PAD_LEFT + i * step

    def y(v: float) -> float:
        return _PAD_TOP + plot_h * (1 - min(max(v / top, 0.0), 1.0))

    points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(values))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'role="img" aria-label="{_e(title)}" class="chart">',
        f"<title>{_e(title)}</title>",
    ]
    for fraction in (0.0, 0.5, 1.0):
        gy = _PAD_TOP + plot_h * (1 - fraction)
        parts.append(
            f'<line x1="{_PAD_LEFT}" x2="{_WIDTH - _PAD_RIGHT}" y1="{gy:.1f}" '
            f'y2="{gy:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{_PAD_LEFT - 6}" y="{gy + 4:.1f}" text-anchor="end" '
            f'font-size="11" fill="#6b7280">{_e(_fmt(top * fraction, unit))}</text>'
        )
    parts.append(f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{points}"/>')
    radius = 3 if len(values) <= 200 else 1.5
    for i, (value, label) in enumerate(zip(values, labels, strict=False)):
        bad = i < len(flagged) and flagged[i]
        fill = "#dc2626" if bad else color
        note = " (infrastructure failure)" if bad else ""
        parts.append(
            f'<circle cx="{x(i):.1f}" cy="{y(value):.1f}" r="{radius}" fill="{fill}">'
            f"<title>{_e(label)}: {_e(_fmt(value, unit))}{note}</title></circle>"
        )
    parts.append(
        f'<text x="{_PAD_LEFT}" y="{_HEIGHT - 8}" font-size="11" fill="#6b7280">'
        f"{_e(labels[0])}</text>"
        f'<text x="{_WIDTH - _PAD_RIGHT}" y="{_HEIGHT - 8}" font-size="11" '
        f'fill="#6b7280" text-anchor="end">{_e(labels[-1])}</text></svg>'
    )
    return "".join(parts)


def bar_chart(values: Sequence[float], labels: Sequence[str], *, title: str) -> str:
    """Horizontal bars for a ranking (values between 0 and 1, shown as %).

    >>> "<script>" in bar_chart([0.5], ["<script>"], title="Flaky")
    False
    """
    if not values:
        return _empty(title)
    row = 22
    label_w = 330
    height = _PAD_TOP + row * len(values) + 8
    bar_max = _WIDTH - label_w - 70
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {height}" '
        f'role="img" aria-label="{_e(title)}" class="chart">',
        f"<title>{_e(title)}</title>",
    ]
    for i, (value, label) in enumerate(zip(values, labels, strict=False)):
        top = _PAD_TOP + i * row
        short = label if len(label) <= 48 else "…" + label[-47:]
        width = max(bar_max * min(max(value, 0.0), 1.0), 1.0)
        parts.append(
            f'<text x="{label_w - 8}" y="{top + 14}" font-size="11" text-anchor="end" '
            f'fill="#111827">{_e(short)}<title>{_e(label)}</title></text>'
            f'<rect x="{label_w}" y="{top + 3}" width="{width:.1f}" height="{row - 8}" '
            f'fill="#f59e0b"/><text x="{label_w + width + 6:.1f}" y="{top + 14}" '
            f'font-size="11" fill="#374151">{value * 100:.0f}%</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _empty(title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} 40" '
        f'class="chart" role="img" aria-label="{_e(title)}"><text x="8" y="24" '
        f'font-size="12" fill="#6b7280">No data for {_e(title)}</text></svg>'
    )


def _fmt(value: float, unit: str) -> str:
    if unit == "%":
        return f"{value * 100:.0f}%"
    if unit == "s":
        return f"{value:.1f}s" if value < 600 else f"{value / 60:.1f}min"
    return f"{value:g}{unit}"
