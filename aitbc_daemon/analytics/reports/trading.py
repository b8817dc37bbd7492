"""`analytics report --type trading`: a strategy backtest as a document.

The backtest is `trading.service.backtest`'s (the one engine); this module lays out
its statistics with the annualisation basis, the equity curve and its drawdown as
PNG charts, and every trade.
"""

from __future__ import annotations

from aitbc_daemon.analytics.charts import line_chart
from aitbc_daemon.analytics.models import ReportChart, ReportOut, ReportRequest
from aitbc_daemon.analytics.report import Chart, Document, Summary, Table, figure, number, render, stem, when
from aitbc_daemon.trading.models import STAT_LABELS, BacktestOut


def drawdown_pct(equity: list[float]) -> list[float]:
    """Each bar's fall below the running peak of equity, in percent (0 or negative)."""
    out, peak = [], float("-inf")
    for value in equity:
        peak = max(peak, value)
        out.append(100.0 * (value / peak - 1.0) if peak > 0 else 0.0)
    return out


def trading_report(request: ReportRequest, result: BacktestOut) -> ReportOut:
    params = ", ".join(f"{k}={v:g}" for k, v in result.params.items())
    label = f"{result.strategy}({params})"
    interval = request.interval
    summary: Summary = {
        "strategy": result.strategy,
        "params": params,
        "source": result.source,
        "bars": result.bars,
        "first": when(result.first, interval),
        "last": when(result.last, interval),
        "basis": result.basis,
        "periods_per_year": result.periods_per_year,
        **result.stats,
    }
    facts = [
        ("strategy", label),
        ("data", f"{result.source}: {result.bars} bars, {summary['first']} to {summary['last']}"),
        ("costs", f"commission {request.commission_bps:g} bps, slippage {request.slippage_bps:g} bps"),
        ("annualisation", f"{result.basis}; risk-free rate 0"),
        *(
            (STAT_LABELS.get(k, k), when(int(v), interval) if k == "killed_at" and v else figure(v))
            for k, v in result.stats.items()
        ),
    ]
    rows = [
        (
            t.side,
            when(t.entry_time, interval),
            number(t.entry_price, ",.4f"),
            when(t.exit_time, interval) + (" (open)" if t.open else ""),
            number(t.exit_price, ",.4f"),
            figure(t.size),
            number(t.pnl, ",.2f"),
            number(t.return_pct, ".2f"),
        )
        for t in result.trades
    ]
    table = Table(
        "Trades",
        ("side", "entry", "price", "exit", "price", "size", "pnl", "return [%]"),
        rows,
        "Orders fill at the next bar's open; a position still open after the last bar is valued "
        "at the last close.",
    )
    drawdown = drawdown_pct(result.equity)
    name = stem(f"{request.symbol}-{result.strategy}", interval)
    equity_title = f"{label} on {result.source}: equity"
    drawdown_title = f"{label} on {result.source}: drawdown (%)"
    stamps, equity = result.timestamps, result.equity
    charts = [
        Chart(f"{name}-equity.png", equity_title, lambda: line_chart(equity_title, stamps, equity, "equity")),
        Chart(
            f"{name}-drawdown.png",
            drawdown_title,
            lambda: line_chart(drawdown_title, stamps, drawdown, "%", filled=True, color="tab:red"),
        ),
    ]
    data = {
        "params": result.params,
        "stats": result.stats,
        "series": {"timestamps": stamps, "equity": equity, "drawdown_pct": drawdown},
        "trades": [
            {
                "side": t.side,
                "entry_time": t.entry_time,
                "exit_time": t.exit_time,
                "entry_price": t.entry_price,
                "exit_price": t.exit_price,
                "size": t.size,
                "pnl": t.pnl,
                "return_pct": t.return_pct,
                "open": t.open,
            }
            for t in result.trades
        ],
    }
    document = Document(
        "trading",
        request.symbol,
        interval,
        f"Trading report: {label} on {result.source}",
        facts,
        summary,
        data,
        charts,
        [table],
        ReportChart(f"{label} equity", "equity", list(stamps), list(equity)),
    )
    return render(document, request.format)
