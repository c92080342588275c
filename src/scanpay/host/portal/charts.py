"""Charts as SVG text, drawn on the server: no script, no charting library, no CDN.

Pure. :func:`combo_chart` draws bars (an amount, left axis) and a line (a
count, right axis) over labelled points, with round-number axes
(:func:`nice_scale`) and a tooltip per point; every text is escaped. The SVG
uses presentation attributes and classes only (no ``style`` attributes), so
the portal's Content-Security-Policy needs no ``unsafe-inline``.

>>> nice_scale(0), nice_scale(7), nice_scale(1234)
((4, 1), (8, 2), (2000, 500))
>>> svg = combo_chart([ChartPoint("1", 100, 2, "day 1")], title="<x>")
>>> svg.startswith("<svg") and "&lt;x&gt;" in svg and "<x>" not in svg
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

__all__ = ["ChartPoint", "combo_chart", "nice_scale"]

_TICKS = 4


@dataclass(frozen=True, slots=True)
class ChartPoint:
    """One x position: its axis label, the bar's value, the line's value, a tooltip."""

    label: str
    bar: int
    line: int
    title: str


def nice_scale(maximum: int, ticks: int = _TICKS) -> tuple[int, int]:
    """(top, step): the smallest 1-2-5 step whose ``ticks`` steps reach ``maximum``."""
    need = max(maximum, 1)
    magnitude = 1
    while True:
        for factor in (1, 2, 5):
            step = factor * magnitude
            if step * ticks >= need:
                return step * ticks, step
        magnitude *= 10


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def combo_chart(
    points: Sequence[ChartPoint],
    *,
    title: str,
    bar_label: Callable[[int], str] = str,
    line_label: Callable[[int], str] = str,
    bar_name: str = "",
    line_name: str = "",
    width: int = 720,
    height: int = 240,
    label_every: int = 1,
    css_class: str = "chart",
) -> str:
    """Bars and a line over ``points``, as an ``<svg>`` element's text."""
    left, right, top, bottom = 64, 44, 16, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    bar_top, bar_step = nice_scale(max((p.bar for p in points), default=0))
    line_top, line_step = nice_scale(max((p.line for p in points), default=0))
    n = max(len(points), 1)
    slot = plot_w / n
    bar_w = max(slot * 0.7, 1.0)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for i in range(_TICKS + 1):
        y = top + plot_h - plot_h * i / _TICKS
        parts.append(
            f'<line class="grid" x1="{left}" y1="{_num(y)}" x2="{left + plot_w}" y2="{_num(y)}"/>'
        )
        parts.append(
            f'<text class="axis" x="{left - 6}" y="{_num(y + 4)}" text-anchor="end">'
            f"{escape(bar_label(bar_step * i))}</text>"
        )
        parts.append(
            f'<text class="axis line-axis" x="{left + plot_w + 6}" y="{_num(y + 4)}">'
            f"{escape(line_label(line_step * i))}</text>"
        )
    coords = []
    for i, point in enumerate(points):
        x = left + slot * i + (slot - bar_w) / 2
        h = plot_h * point.bar / bar_top
        y = top + plot_h - h
        parts.append(
            f'<rect class="bar" x="{_num(x)}" y="{_num(y)}" width="{_num(bar_w)}" '
            f'height="{_num(h)}"><title>{escape(point.title)}</title></rect>'
        )
        cx = left + slot * i + slot / 2
        cy = top + plot_h - plot_h * point.line / line_top
        coords.append((cx, cy, point))
        if i % max(label_every, 1) == 0:
            parts.append(
                f'<text class="axis" x="{_num(cx)}" y="{height - 8}" text-anchor="middle">'
                f"{escape(point.label)}</text>"
            )
    if coords:
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y, _ in coords)
        parts.append(f'<polyline class="line" fill="none" points="{path}"/>')
        for x, y, point in coords:
            parts.append(
                f'<circle class="dot" cx="{_num(x)}" cy="{_num(y)}" r="2.5">'
                f"<title>{escape(point.title)}</title></circle>"
            )
    if bar_name or line_name:
        parts.append(
            f'<g class="legend"><rect class="bar" x="{left}" y="2" width="10" height="10"/>'
            f'<text class="axis" x="{left + 14}" y="11">{escape(bar_name)}</text>'
            f'<line class="line" x1="{left + 150}" y1="7" x2="{left + 166}" y2="7"/>'
            f'<text class="axis" x="{left + 170}" y="11">{escape(line_name)}</text></g>'
        )
    parts.append("</svg>")
    return "".join(parts)
