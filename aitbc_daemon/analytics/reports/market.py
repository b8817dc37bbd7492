"""`analytics report --type market`: a document about one symbol with its price chart.

Indicators are computed over the whole series (so SMA(50) on the first charted bar
is the true one), the document covers the last `bars` bars.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aitbc_daemon.analytics.charts import price_chart
from aitbc_daemon.analytics.models import ReportChart, ReportOut, ReportRequest
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.analytics.report import Chart, Document, Summary, number, render, stem, when

if TYPE_CHECKING:
    import numpy as np


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
    window = {name: _listed(values[start:]) for name, values in columns.items()}
    close = close_all[start:].tolist()
    stamps = [b.timestamp for b in shown]
    summary: Summary = {
        "source": source,
        "price_unit": price_unit,
        "volume_unit": volume_unit,
        "bars": len(shown),
        "first": when(shown[0].timestamp, request.interval),
        "last": when(shown[-1].timestamp, request.interval),
        "last_close": close[-1],
        "change": close[-1] / close[0] - 1,
        "high": max(b.high for b in shown),
        "low": min(b.low for b in shown),
        "volume": float(sum(b.volume for b in shown)),
        **{name: values[-1] for name, values in window.items()},
    }
    title = f"{request.symbol} {request.interval}: close, SMA(20), SMA(50), Bollinger(20,2); RSI(14)"

    def draw() -> bytes:
        return price_chart(
            title,
            stamps,
            close,
            {"SMA(20)": window["sma_20"], "SMA(50)": window["sma_50"]},
            ("Bollinger(20,2)", window["bb_upper_20_2"], window["bb_lower_20_2"]),
            ("RSI(14)", window["rsi_14"]),
            price_unit,
        )

    document = Document(
        "market",
        request.symbol,
        request.interval,
        f"Market report: {request.symbol} {request.interval}",
        _facts(summary),
        summary,
        {"series": {"timestamps": stamps, "close": close, **window}},
        [Chart(f"{stem(request.symbol, request.interval)}-price.png", title, draw)],
        terminal=ReportChart(f"{request.symbol} {request.interval} close", price_unit, stamps, list(close)),
    )
    return render(document, request.format)


def _facts(summary: Summary) -> list[tuple[str, str]]:
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
