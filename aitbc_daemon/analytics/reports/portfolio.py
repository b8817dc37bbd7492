"""`analytics report --type portfolio`: a wallet's holdings and its real exchange record.

The numbers are `analytics performance`'s (average-cost PnL, returns on capital, Sharpe,
Sortino and drawdown over the equity curve; see analytics/performance.py); this module
only lays them out with the wallet's balances, its trades and two charts (equity curve,
drawdown).
"""

from __future__ import annotations

from collections.abc import Sequence

from aitbc_daemon.analytics.charts import line_chart
from aitbc_daemon.analytics.models import Performance, ReportChart, ReportOut, ReportRequest
from aitbc_daemon.analytics.report import Chart, Document, Summary, Table, number, render, stem, when
from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.exchange.models import ExchangeBalance, TradeInfo

SATOSHI = 100_000_000


def _side(trade: TradeInfo, address: str) -> str:
    if trade.buyer == trade.seller == address:
        return "self"
    return "buy" if trade.buyer == address else "sell"


def _fee(trade: TradeInfo, address: str) -> int:
    payer = trade.buyer if trade.taker == "buy" else trade.seller
    return trade.fee if payer == address else 0


def portfolio_report(
    request: ReportRequest, found: Performance, trades: Sequence[TradeInfo], balance: ExchangeBalance
) -> ReportOut:
    """`trades`: the wallet's own trades, oldest first; `balance`: what it holds now."""
    address, curve = found.address, found.curve
    summary: Summary = {
        "chain": found.chain,
        "wallet": address,
        "ait": balance.ait / UNIT,
        "btc": balance.btc / SATOSHI,
        "ait_in_orders": balance.ait_in_orders / UNIT,
        "btc_in_orders": balance.btc_in_orders / SATOSHI,
        "trades": found.trades,
        "position": found.position,
        "average_cost": found.average_cost,
        "mark_price": found.mark_price,
        "realised_pnl": found.realised_pnl,
        "unrealised_pnl": found.unrealised_pnl,
        "fees": found.fees,
        "total_pnl": found.total_pnl,
        "capital": found.capital,
        "total_return": found.total_return,
        "sharpe": found.sharpe,
        "sortino": found.sortino,
        "max_drawdown": found.max_drawdown,
        "periods_per_year": found.periods_per_year,
        "first": when(curve[0].timestamp, request.interval) if curve else None,
        "last": when(curve[-1].timestamp, request.interval) if curve else None,
    }
    facts = [
        ("wallet", f"{address} on {found.chain}"),
        ("holds (AIT / BTC)", f"{summary['ait']:,.6f} / {summary['btc']:,.8f}"),
        ("in open orders (AIT / BTC)", f"{summary['ait_in_orders']:,.6f} / {summary['btc_in_orders']:,.8f}"),
        (
            "exchange trades",
            f"{found.trades} ({summary['first']} to {summary['last']}, {request.interval} bars)",
        ),
        ("bought / sold (AIT)", f"{found.bought:,.6f} / {found.sold:,.6f}"),
        (
            "position (AIT) at average cost (sat/AIT)",
            f"{found.position:,.6f} at {number(found.average_cost, ',.2f')}",
        ),
        ("mark: last trade (sat/AIT)", number(found.mark_price, ",")),
        ("realised PnL (sat, after fees)", number(found.realised_pnl, ",.2f")),
        ("unrealised PnL (sat)", number(found.unrealised_pnl, ",.2f")),
        ("fees paid (sat)", f"{found.fees:,}"),
        ("total PnL (sat)", number(found.total_pnl, ",.2f")),
        ("capital: peak position cost (sat)", number(found.capital, ",.2f")),
        ("total return", number(found.total_return, ".2%")),
        ("Sharpe / Sortino", f"{number(found.sharpe, '.3f')} / {number(found.sortino, '.3f')}"),
        ("max drawdown", number(found.max_drawdown, ".2%")),
        ("annualisation", found.annualisation),
    ]
    rows = [
        (
            when(t.timestamp, "1h"),
            _side(t, address),
            f"{t.price:,}",
            f"{t.size / UNIT:,.6f}",
            f"{t.quote:,}",
            f"{_fee(t, address):,}",
        )
        for t in trades
    ]
    table = Table(
        "Trades",
        ("time (UTC)", "side", "price (sat/AIT)", "size (AIT)", "quote (sat)", "fee paid (sat)"),
        rows,
    )
    stamps = [p.timestamp for p in curve]
    equity = [p.equity for p in curve]
    drawdown = [-100.0 * p.drawdown for p in curve]
    name = f"{stem(address[:16], request.interval)}"
    equity_title = f"{address[:16]}… equity on {found.chain} (capital + PnL, satoshi)"
    drawdown_title = f"{address[:16]}… drawdown from the running peak (%)"
    charts = [
        Chart(
            f"{name}-equity.png", equity_title, lambda: line_chart(equity_title, stamps, equity, "satoshi")
        ),
        Chart(
            f"{name}-drawdown.png",
            drawdown_title,
            lambda: line_chart(drawdown_title, stamps, drawdown, "%", filled=True, color="tab:red"),
        ),
    ]
    data = {
        "wallet": address,
        "chain": found.chain,
        "curve": [
            {
                "timestamp": p.timestamp,
                "mark": p.mark,
                "position": p.position,
                "pnl": p.pnl,
                "equity": p.equity,
                "drawdown": p.drawdown,
                "ret": p.ret,
            }
            for p in curve
        ],
        "trades": [
            {
                "id": t.id,
                "timestamp": t.timestamp,
                "side": _side(t, address),
                "price": t.price,
                "size": t.size / UNIT,
                "quote": t.quote,
                "fee_paid": _fee(t, address),
            }
            for t in trades
        ],
    }
    document = Document(
        "portfolio",
        found.symbol,
        request.interval,
        f"Portfolio report: {address} {found.symbol} {request.interval}",
        facts,
        summary,
        data,
        charts,
        [table],
        ReportChart(f"equity of {address[:16]}… (satoshi)", "satoshi", stamps, list(equity)),
    )
    return render(document, request.format)
