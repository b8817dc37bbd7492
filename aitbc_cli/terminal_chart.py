"""Line charts for the terminal, drawn by plotext: braille dots, a labelled y axis, dated ends.

plotext is imported inside `time_chart`, only when a command draws a chart, so the
CLI's start-up stays as fast as before (the CLI never imports numpy, pandas or
matplotlib; plotext is pure Python). The chart is plain text, no colour: it reads
the same in a pipe or a log, and Rich prints it as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime

MIN_WIDTH, MIN_HEIGHT = 24, 5
DAY = 86_400


def _moment(timestamp: int, daily: bool) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d") if daily else moment.strftime("%Y-%m-%d %H:%M")


def _segments(timestamps: Sequence[int], values: Sequence[float | None]) -> list[tuple[list[int], list[float]]]:
    """Runs of finite values: a missing value (None or NaN) leaves a gap instead of a joining line."""
    runs: list[tuple[list[int], list[float]]] = []
    current: tuple[list[int], list[float]] | None = None
    for stamp, value in zip(timestamps, values, strict=True):
        if value is None or not math.isfinite(value):
            current = None
            continue
        if current is None:
            current = ([], [])
            runs.append(current)
        current[0].append(stamp)
        current[1].append(float(value))
    return runs


def time_chart(
    timestamps: Sequence[int],
    values: Sequence[float | None],
    *,
    title: str | None = None,
    width: int = 72,
    height: int = 12,
) -> list[str]:
    """The series over time as lines of text, none wider than `width`, its first and last
    times (UTC) under the x axis. A series with no finite value gives no lines, so callers
    can skip the chart."""
    runs = _segments(timestamps, values)
    if not runs:
        return []
    import plotext as plt

    first, last = runs[0][0][0], runs[-1][0][-1]
    daily = first % DAY == 0 and last % DAY == 0
    plt.clear_figure()
    plt.plotsize(max(MIN_WIDTH, width), max(MIN_HEIGHT, height))
    plt.theme("clear")
    for stamps, points in runs:
        plt.plot(stamps, points, marker="braille")
    ticks = [first] if first == last else [first, last]
    plt.xticks(ticks, [_moment(t, daily) for t in ticks])
    if title:
        plt.title(title)
    return [line.rstrip() for line in plt.uncolorize(plt.build()).splitlines()]


def chart_width(console_width: int | None, most: int = 100) -> int:
    """A chart as wide as the terminal, within [MIN_WIDTH, most]."""
    return max(MIN_WIDTH, min(most, console_width or 80))
