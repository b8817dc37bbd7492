"""PNG charts for reports, drawn by matplotlib's Agg backend in the daemon (never in the CLI).

The object API (`Figure` + `FigureCanvasAgg`) is used instead of pyplot: pyplot keeps
global state and is not safe in the worker threads routes run in.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime

WIDTH_IN, HEIGHT_IN, DPI = 10.0, 6.0, 100


def _dates(timestamps: Sequence[int]) -> list[datetime]:
    return [datetime.fromtimestamp(t, UTC) for t in timestamps]


def price_chart(
    title: str,
    timestamps: Sequence[int],
    close: Sequence[float],
    lines: dict[str, Sequence[float | None]],
    band: tuple[str, Sequence[float | None], Sequence[float | None]] | None,
    rsi: tuple[str, Sequence[float | None]] | None,
    price_unit: str,
) -> bytes:
    """Close with overlay lines (e.g. SMAs), a shaded band (Bollinger) and an RSI panel; PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    grid = figure.add_gridspec(2 if rsi else 1, 1, height_ratios=[3, 1] if rsi else [1])
    price = figure.add_subplot(grid[0])
    dates = _dates(timestamps)
    nan = float("nan")
    if band is not None:
        name, upper, lower = band
        price.fill_between(
            dates,
            [nan if v is None else v for v in lower],
            [nan if v is None else v for v in upper],
            alpha=0.15,
            color="tab:blue",
            label=name,
        )
    price.plot(dates, close, color="black", linewidth=1.0, label="close")
    for name, values in lines.items():
        price.plot(dates, [nan if v is None else v for v in values], linewidth=1.0, label=name)
    price.set_title(title)
    price.set_ylabel(price_unit)
    price.legend(loc="upper left", fontsize="small")
    price.grid(alpha=0.3)
    if rsi is not None:
        name, values = rsi
        panel = figure.add_subplot(grid[1], sharex=price)
        panel.plot(dates, [nan if v is None else v for v in values], color="tab:purple", linewidth=1.0)
        for level in (30, 70):
            panel.axhline(level, color="grey", linewidth=0.8, linestyle="--")
        panel.set_ylim(0, 100)
        panel.set_ylabel(name)
        panel.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def line_chart(
    title: str,
    timestamps: Sequence[int],
    values: Sequence[float],
    ylabel: str,
    *,
    filled: bool = False,
    color: str = "tab:blue",
) -> bytes:
    """One series over time (an equity curve; a drawdown, `filled` down from zero); PNG bytes.

    Same size as the price chart (WIDTH_IN x HEIGHT_IN at DPI), so every report image is
    1000 x 600 pixels.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH_IN, HEIGHT_IN), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    dates = _dates(timestamps)
    if filled:
        axes.fill_between(dates, list(values), 0.0, color=color, alpha=0.3)
    axes.plot(dates, list(values), color=color, linewidth=1.0)
    axes.set_title(title)
    axes.set_ylabel(ylabel)
    axes.grid(alpha=0.3)
    figure.autofmt_xdate()
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
