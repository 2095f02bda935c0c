"""Charts drawn on the server as SVG: no script, no CDN, readable by a screen reader.

Every chart is an ``<svg role="img">`` whose ``<title>`` names it and whose ``<desc>`` says in a
sentence what it shows; the page puts its numbers in a table beside it. The drawing scales with
its box (a ``viewBox`` and no fixed size), so it fits a 390 px phone without scrolling sideways,
and it keeps its meaning in black and white: the comparison line is dashed, not only another
colour. Colours come from CSS classes (``site.css``), so print and high-contrast styles apply.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

#: Drawing width in viewBox units: narrow enough that 14-unit text stays readable on a phone.
WIDTH = 480
#: Bar charts are drawn narrower still: their labels are words, read at about their own size.
BAR_WIDTH = 360


@dataclass(frozen=True)
class Series:
    """One line: its values (None where it has no value, e.g. days still to come)."""

    label: str
    values: Sequence[int | None]
    css: str  # "series-a", "series-b", "series-previous" (dashed)


def nice_top(value: int) -> int:
    """A round number at or above ``value`` for the top of an axis (1, 2, 5 times a power of ten)."""
    if value <= 0:
        return 1
    power = 10 ** int(math.floor(math.log10(value)))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return step * power
    return 10 * power


def _open(chart_id: str, title: str, summary: str, height: int, width: int = WIDTH, css: str = "lines") -> str:
    return (f'<svg class="chart {css}" role="img" viewBox="0 0 {width} {height}" preserveAspectRatio="xMidYMid meet" '
            f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{chart_id}">'
            f'<title id="{chart_id}-title">{escape(title)}</title><desc id="{chart_id}-desc">{escape(summary)}</desc>')


def _number(n: int) -> str:
    return f"{n:,}"


def line_chart(chart_id: str, title: str, summary: str, series: Sequence[Series], x_labels: Sequence[str],
               *, tick_every: int = 7, marker: int | None = None, marker_label: str = "") -> Markup:
    """Lines over equally spaced points (days). ``x_labels`` name each point; every
    ``tick_every``-th one (counted from the last) is written under the axis. ``marker`` draws a
    vertical rule at that point (today)."""
    height, left, right, top, bottom = 260, 44, 12, 14, 40
    points = len(x_labels)
    top_value = nice_top(max((v for s in series for v in s.values if v is not None), default=0))
    plot_w, plot_h = WIDTH - left - right, height - top - bottom

    def x(i: int) -> float:
        return left + (plot_w * i / (points - 1) if points > 1 else plot_w / 2)

    def y(v: int) -> float:
        return top + plot_h * (1 - v / top_value)

    parts = [_open(chart_id, title, summary, height)]
    for k in range(5):
        value = top_value * k // 4
        at = y(value)
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - right}" y1="{at:.1f}" y2="{at:.1f}"/>'
                     f'<text class="axis" x="{left - 6}" y="{at + 5:.1f}" text-anchor="end">{_number(value)}</text>')
    for i in range(points - 1, -1, -tick_every):
        # The outermost labels lean inwards, so they stay inside the drawing.
        anchor = "end" if i == points - 1 and points > 1 else "start" if i == 0 else "middle"
        parts.append(f'<line class="tick" x1="{x(i):.1f}" x2="{x(i):.1f}" y1="{top + plot_h}" y2="{top + plot_h + 5}"/>'
                     f'<text class="axis" x="{x(i):.1f}" y="{top + plot_h + 20}" text-anchor="{anchor}">'
                     f'{escape(x_labels[i])}</text>')
    parts.append(f'<line class="axis-line" x1="{left}" x2="{WIDTH - right}" y1="{top + plot_h}" y2="{top + plot_h}"/>')
    if marker is not None and 0 <= marker < points:
        parts.append(f'<line class="marker" x1="{x(marker):.1f}" x2="{x(marker):.1f}" y1="{top}" y2="{top + plot_h}"/>'
                     f'<text class="axis marker-label" x="{x(marker):.1f}" y="{top + plot_h + 36}" '
                     f'text-anchor="middle">{escape(marker_label)}</text>')
    for s in series:
        runs: list[list[str]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
            else:
                runs[-1].append(f"{x(i):.1f},{y(v):.1f}")
        for run in runs:
            if len(run) > 1:
                parts.append(f'<polyline class="line {s.css}" points="{" ".join(run)}"/>')
            elif run:
                cx, cy = run[0].split(",")
                parts.append(f'<circle class="dot {s.css}" cx="{cx}" cy="{cy}" r="3"/>')
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(chart_id: str, title: str, summary: str, rows: Sequence[tuple[str, int]],
              *, value_text: Callable[[int], str] = _number) -> Markup:
    """Horizontal bars, one per row, each with its label above it and its value at its end."""
    row_h, top = 40, 6
    height = top + row_h * max(len(rows), 1) + 4
    top_value = max((v for _, v in rows), default=0) or 1
    bar_w = BAR_WIDTH - 60
    parts = [_open(chart_id, title, summary, height, BAR_WIDTH, "bars")]
    for i, (label, value) in enumerate(rows):
        y0 = top + i * row_h
        width = bar_w * value / top_value
        parts.append(f'<text class="bar-label" x="0" y="{y0 + 14}">{escape(label)}</text>'
                     f'<rect class="bar" x="0" y="{y0 + 20}" width="{max(width, 1 if value else 0):.1f}" height="14"/>'
                     f'<text class="bar-value" x="{width + 6:.1f}" y="{y0 + 32}">{escape(value_text(value))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True)
class Tile:
    """One square of a tile map: its place on the grid, the short text written in it, the full
    name (its tooltip) and its value."""

    column: int
    row: int
    short: str
    name: str
    value: int


#: A tile map shades its tiles in this many steps above "none".
TILE_LEVELS = 4


def tile_level(value: int, top: int) -> int:
    """0 for nothing, else 1 to ``TILE_LEVELS`` by the share of the largest value."""
    if value <= 0 or top <= 0:
        return 0
    return max(1, min(TILE_LEVELS, math.ceil(TILE_LEVELS * value / top)))


def tile_map(chart_id: str, title: str, summary: str, tiles: Sequence[Tile], *, none_label: str,
             value_text: Callable[[int], str] = _number) -> Markup:
    """Squares on a grid, each shaded by its value (darker: more) with its short name and value
    written in it, and a legend of the shades below. The shades are also told apart in black and
    white (a heavier border for the darker ones)."""
    size, gap, legend_h = 44, 3, 46
    columns = max((t.column for t in tiles), default=0) + 1
    rows = max((t.row for t in tiles), default=0) + 1
    width, height = columns * (size + gap), rows * (size + gap) + legend_h
    top = max((t.value for t in tiles), default=0)
    parts = [_open(chart_id, title, summary, height, width, "tiles")]
    for t in tiles:
        x, y = t.column * (size + gap), t.row * (size + gap)
        level, value = tile_level(t.value, top), escape(value_text(t.value))
        parts.append(f'<g class="tile tile-{level}"><title>{escape(t.name)}: {value}</title>'
                     f'<rect x="{x}" y="{y}" width="{size}" height="{size}" rx="3"/>'
                     f'<text class="tile-short" x="{x + size / 2:g}" y="{y + 18}">{escape(t.short)}</text>'
                     f'<text class="tile-value" x="{x + size / 2:g}" y="{y + 36}">{value}</text></g>')
    y = rows * (size + gap) + 10
    steps: list[tuple[int, str]] = [(0, none_label)]
    for k in range(1, TILE_LEVELS + 1):  # level k: more than (k - 1)/4 of the largest value, up to k/4
        low, high = top * (k - 1) // TILE_LEVELS + 1, top * k // TILE_LEVELS
        if low <= high:
            steps.append((k, value_text(low) if low == high else f"{value_text(low)}–{value_text(high)}"))
    step_w = width / len(steps)
    for i, (level, label) in enumerate(steps):
        at = i * step_w
        parts.append(f'<g class="tile tile-{level}"><rect x="{at:.1f}" y="{y}" width="16" height="16" rx="2"/></g>'
                     f'<text class="axis" x="{at + 20:.1f}" y="{y + 13}">{escape(label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))
