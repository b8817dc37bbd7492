"""A line chart for the terminal: braille dots, a labelled y axis, the first and last x labels.

Standard library only, so every command may call it without slowing the CLI's start-up
(the CLI never imports numpy, pandas or a plotting library). Each braille cell holds 2 x 4
dots, so a chart `width` characters wide resolves about twice as many columns of data;
longer series share dot columns, the line joining every point in turn. Values that are None
or NaN leave a gap. Plain text, no colour: the same chart reads in a pipe or a log.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

BRAILLE = 0x2800
# dot bit for (column within the cell, row within the cell from the top)
DOTS = ((0x01, 0x02, 0x04, 0x40), (0x08, 0x10, 0x20, 0x80))
MIN_WIDTH, MIN_HEIGHT = 24, 3


def _tick(value: float) -> str:
    size = abs(value)
    if size >= 1e6:
        return f"{value:,.0f}" if size < 1e9 else f"{value:.3g}"
    if size >= 100:
        return f"{value:,.1f}"
    return f"{value:.4g}"


def line_chart(
    values: Sequence[float | None],
    *,
    width: int = 72,
    height: int = 10,
    title: str | None = None,
    x_labels: tuple[str, str] | None = None,
    y_format: Callable[[float], str] = _tick,
) -> list[str]:
    """The series as lines of text, none wider than `width`: y labels on the left, an x axis below.

    `x_labels` (first, last) are printed under the ends of the axis. An empty series (or one
    with no finite value) gives no lines, so callers can skip the chart.
    """
    width, height = max(MIN_WIDTH, width), max(MIN_HEIGHT, height)
    points = [(i, float(v)) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not points:
        return []
    low, high = min(v for _, v in points), max(v for _, v in points)
    if high == low:
        pad = abs(high) * 0.01 or 1.0
        low, high = low - pad, high + pad
    rows = [high - (high - low) * r / (height - 1) for r in range(height)]
    marks = {0: y_format(high), height // 2: y_format(rows[height // 2]), height - 1: y_format(low)}
    label_width = max(len(m) for m in marks.values())
    cells = width - label_width - 2
    dots_x, dots_y = cells * 2, height * 4
    count = len(values)

    def column(index: int) -> int:
        return 0 if count == 1 else round(index * (dots_x - 1) / (count - 1))

    def row(value: float) -> int:  # 0 at the top
        return round((high - value) / (high - low) * (dots_y - 1))

    grid = [[0] * cells for _ in range(height)]

    def dot(x: int, y: int) -> None:
        grid[y // 4][x // 2] |= DOTS[x % 2][y % 4]

    previous: tuple[int, int, int] | None = None  # (index, x, y) of the last drawn point
    for index, value in points:
        x, y = column(index), row(value)
        if previous is not None and previous[0] == index - 1 and x > previous[1]:
            _, px, py = previous
            for step in range(px + 1, x + 1):  # join to the previous point, one dot column at a time
                at = py + (y - py) * (step - px) / (x - px)
                before = py + (y - py) * (step - 1 - px) / (x - px)
                for fill in range(round(min(at, before)), round(max(at, before)) + 1):
                    dot(step, fill)
        dot(x, y)
        previous = (index, x, y)
    lines = [title[:width]] if title else []
    for r in range(height):
        label = marks.get(r, "").rjust(label_width)
        axis = "┤" if r in marks else "│"
        lines.append(f"{label} {axis}" + "".join(chr(BRAILLE + bits) for bits in grid[r]))
    lines.append(" " * label_width + " └" + "─" * cells)
    if x_labels:
        first, last = x_labels
        room = cells - len(first)
        tail = last[-room:].rjust(room) if room > 0 else ""
        lines.append((" " * (label_width + 2) + first + tail)[:width])
    return lines


def _moment(timestamp: int, daily: bool) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d") if daily else moment.strftime("%Y-%m-%d %H:%M")


def time_chart(
    timestamps: Sequence[int],
    values: Sequence[float | None],
    *,
    title: str | None = None,
    width: int = 72,
    height: int = 10,
) -> list[str]:
    """`line_chart` of a series over time, its first and last times (UTC) under the axis."""
    if not timestamps:
        return line_chart(values, width=width, height=height, title=title)
    daily = all(t % 86_400 == 0 for t in (timestamps[0], timestamps[-1]))
    labels = (_moment(timestamps[0], daily), _moment(timestamps[-1], daily))
    return line_chart(values, width=width, height=height, title=title, x_labels=labels)


def chart_width(console_width: int | None, most: int = 100) -> int:
    """A chart as wide as the terminal, within [MIN_WIDTH, most]."""
    return max(MIN_WIDTH, min(most, console_width or 80))
