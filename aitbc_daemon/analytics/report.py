"""`analytics report --type market`: a document about one symbol with its price chart.

Indicators are computed over the whole series (so SMA(50) on the first charted bar
is the true one), the document covers the last `bars` bars. Markdown links the PNG
by file name (the CLI writes it beside the document); HTML embeds it as a data URI so
the page is one file; JSON carries the numbers and no image.
"""

from __future__ import annotations

import base64
import html
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aitbc_daemon.analytics.charts import price_chart
from aitbc_daemon.analytics.models import ReportFile, ReportOut, ReportRequest
from aitbc_daemon.analytics.ohlcv_csv import Bar

if TYPE_CHECKING:
    import numpy as np

Summary = dict[str, float | int | str | None]


def _values(compute: Callable[[], Any], size: int) -> np.ndarray:
    """An indicator's values, or NaN everywhere when the series is too short for it."""
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    try:
        return compute()
    except ta.IndicatorInputError:
        return np.full(size, np.nan)


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if v != v else float(v) for v in values.tolist()]


def _when(timestamp: int, interval: str) -> str:
    moment = datetime.fromtimestamp(timestamp, UTC)
    return moment.strftime("%Y-%m-%d") if interval in ("1d", "1w") else moment.strftime("%Y-%m-%d %H:%M")


def market_report(
    request: ReportRequest, bars: list[Bar], source: str, price_unit: str, volume_unit: str
) -> ReportOut:
    import numpy as np

    from aitbc_daemon.analytics import indicators as ta

    close_all = np.array([b.close for b in bars], dtype=np.float64)
    size = len(bars)
    columns = {
        "sma_20": _values(lambda: ta.sma(close_all, 20).values, size),
        "sma_50": _values(lambda: ta.sma(close_all, 50).values, size),
        "bb_upper_20_2": _values(lambda: ta.bbands(close_all, 20, 2.0)[0].values, size),
        "bb_lower_20_2": _values(lambda: ta.bbands(close_all, 20, 2.0)[2].values, size),
        "rsi_14": _values(lambda: ta.rsi(close_all, 14).values, size),
    }
    start = max(0, size - request.bars)
    shown = bars[start:]
    window = {name: values[start:] for name, values in columns.items()}
    close = close_all[start:]
    last = {name: (None if v[-1] != v[-1] else float(v[-1])) for name, v in window.items()}
    summary: Summary = {
        "source": source,
        "price_unit": price_unit,
        "volume_unit": volume_unit,
        "bars": len(shown),
        "first": _when(shown[0].timestamp, request.interval),
        "last": _when(shown[-1].timestamp, request.interval),
        "last_close": float(close[-1]),
        "change": float(close[-1] / close[0] - 1),
        "high": max(b.high for b in shown),
        "low": min(b.low for b in shown),
        "volume": float(sum(b.volume for b in shown)),
        **last,
    }
    title = f"{request.symbol} {request.interval}: close, SMA(20), SMA(50), Bollinger(20,2); RSI(14)"
    stem = f"{request.symbol.replace('/', '-')}-{request.interval}"
    if request.format == "json":
        rows = {
            "timestamps": [b.timestamp for b in shown],
            "close": close.tolist(),
            **{name: _listed(v) for name, v in window.items()},
        }
        document = {
            "type": "market",
            "symbol": request.symbol,
            "interval": request.interval,
            "generated_at": time.time(),
            "summary": summary,
            "series": rows,
        }
        return ReportOut(
            "market", request.symbol, request.interval, "json", summary, json.dumps(document, indent=2), []
        )
    png = price_chart(
        title,
        [b.timestamp for b in shown],
        close.tolist(),
        {"SMA(20)": _listed(window["sma_20"]), "SMA(50)": _listed(window["sma_50"])},
        ("Bollinger(20,2)", _listed(window["bb_upper_20_2"]), _listed(window["bb_lower_20_2"])),
        ("RSI(14)", _listed(window["rsi_14"])),
        price_unit,
    )
    encoded = base64.b64encode(png).decode("ascii")
    name = f"{stem}-price.png"
    if request.format == "html":
        page = _html(request, summary, f"data:image/png;base64,{encoded}", title)
        return ReportOut("market", request.symbol, request.interval, "html", summary, page, [])
    text = _markdown(request, summary, name, title)
    files = [ReportFile(name, "image/png", encoded)]
    return ReportOut("market", request.symbol, request.interval, "md", summary, text, files)


def _rows(summary: Summary) -> list[tuple[str, str]]:
    def number(value: Any, spec: str = ",.4f") -> str:
        return "-" if value is None else format(value, spec)

    return [
        ("bars", f"{summary['bars']} ({summary['first']} to {summary['last']})"),
        ("source", str(summary["source"])),
        ("last close", f"{number(summary['last_close'])} {summary['price_unit']}"),
        ("change over the window", number(summary["change"], ".2%")),
        ("high / low", f"{number(summary['high'])} / {number(summary['low'])}"),
        ("volume", f"{number(summary['volume'], ',.2f')} {summary['volume_unit']}"),
        ("SMA(20) / SMA(50)", f"{number(summary['sma_20'])} / {number(summary['sma_50'])}"),
        ("Bollinger(20,2)", f"{number(summary['bb_lower_20_2'])} .. {number(summary['bb_upper_20_2'])}"),
        ("RSI(14)", number(summary["rsi_14"], ".2f")),
    ]


def _generated() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _markdown(request: ReportRequest, summary: Summary, image: str, title: str) -> str:
    lines = [f"# Market report: {request.symbol} {request.interval}", "", f"Generated {_generated()}.", ""]
    lines += ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in _rows(summary)), ""]
    lines += [f"![{title}]({image})", ""]
    return "\n".join(lines)


def _html(request: ReportRequest, summary: Summary, image: str, title: str) -> str:
    rows = "".join(f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in _rows(summary))
    heading = html.escape(f"Market report: {request.symbol} {request.interval}")
    return (
        '<!doctype html>\n<html><head><meta charset="utf-8">'
        f"<title>{heading}</title></head><body>\n<h1>{heading}</h1>\n"
        f"<p>Generated {_generated()}.</p>\n<table>{rows}</table>\n"
        f'<img alt="{html.escape(title)}" src="{image}">\n</body></html>\n'
    )
