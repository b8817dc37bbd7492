"""A wallet's trading performance from its real exchange trades: PnL, returns, Sharpe, Sortino, drawdown.

Accounting (average cost): the position is the AIT bought minus sold through the
exchange (AIT the wallet held before trading is not counted, so a first sale opens
a short against that start). Buying into a long or selling into a short adds to
the position at its price; trading against it closes at the average cost and
realises (exit - average) per AIT. Every taker fee the wallet paid is a realised
loss. Unrealised PnL marks the open position at the market's last trade price, so
realised + unrealised == net satoshi flow + position * mark.

Returns: the book is marked at every bar's close (`interval`, default a day) from
the wallet's first trade to the market's last; a bar without trades carries the last
close. Equity is capital + PnL, with capital the largest cost the open position ever
had (what the wallet put at risk), and each bar's simple return is on the previous
bar's equity. Sharpe and Sortino take a zero risk-free rate and annualise by
sqrt(bars per year), a year being 365 days because the chain trades every day.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from aitbc_daemon.analytics.candles import interval_seconds
from aitbc_daemon.analytics.models import EquityPoint
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.exchange.models import TradeInfo

YEAR_SECONDS = 365 * 86_400
MAX_PERIODS = 200_000  # bars on the equity curve; ask for a longer interval beyond this


class TooManyPeriods(ValueError):
    """The wallet's trading span holds more bars of the interval than the curve allows."""


@dataclass
class Book:
    """The running average-cost book of one wallet, in AIT and satoshi."""

    position: float = 0.0
    basis: float = 0.0  # signed cost of the open position: > 0 long, < 0 short
    realised: float = 0.0
    cash: float = 0.0  # satoshi received minus paid, fees included
    fees: int = 0
    bought: float = 0.0
    sold: float = 0.0
    peak_cost: float = 0.0

    def fill(self, quantity: float, value: float) -> None:
        """A fill of signed `quantity` AIT (+ bought, - sold) for `value` satoshi."""
        sign = 1.0 if quantity > 0 else -1.0
        price = value / abs(quantity)
        self.cash -= sign * value
        if quantity > 0:
            self.bought += quantity
        else:
            self.sold -= quantity
        left = abs(quantity)
        if self.position != 0 and (self.position > 0) != (quantity > 0):
            closing = min(left, abs(self.position))
            average = self.basis / self.position
            self.realised += closing * (price - average) * (1.0 if self.position > 0 else -1.0)
            self.position += sign * closing
            self.basis = average * self.position
            left -= closing
            if abs(self.position) < 1e-12:
                self.position, self.basis = 0.0, 0.0
        if left > 0:
            self.position += sign * left
            self.basis += sign * price * left
        self.peak_cost = max(self.peak_cost, abs(self.basis))

    def pay_fee(self, fee: int) -> None:
        self.fees += fee
        self.realised -= fee
        self.cash -= fee

    def pnl(self, mark: float) -> float:
        return self.cash + self.position * mark

    def unrealised(self, mark: float) -> float:
        return self.position * mark - self.basis


def apply_trade(book: Book, trade: TradeInfo, address: str) -> None:
    """The wallet's side(s) of one trade; a self-trade is both, so only its fee changes the PnL."""
    size = trade.size / UNIT
    if trade.buyer == address:
        book.fill(size, trade.quote)
        if trade.taker == "buy":
            book.pay_fee(trade.fee)
    if trade.seller == address:
        book.fill(-size, trade.quote)
        if trade.taker == "sell":
            book.pay_fee(trade.fee)


@dataclass
class Metrics:
    book: Book
    curve: list[EquityPoint]
    capital: float
    sharpe: float | None
    sortino: float | None
    max_drawdown: float
    periods_per_year: float


def periods_per_year(interval: str) -> float:
    return YEAR_SECONDS / interval_seconds(interval)


def measure(trades: Sequence[TradeInfo], candles: Sequence[Bar], address: str, interval: str) -> Metrics:
    """Replay the wallet's trades (oldest first) bar by bar against the market's candles."""
    seconds = interval_seconds(interval)
    mine = [t for t in trades if address in (t.buyer, t.seller)]
    book = Book()
    if not mine:
        return Metrics(book, [], 0.0, None, None, 0.0, periods_per_year(interval))
    closes = {c.timestamp: c.close for c in candles}
    first = mine[0].timestamp // seconds * seconds
    last = max(candles[-1].timestamp if candles else first, mine[-1].timestamp // seconds * seconds)
    if (last - first) // seconds + 1 > MAX_PERIODS:
        raise TooManyPeriods(
            f"{(last - first) // seconds + 1} {interval} bars since the wallet's first trade; "
            f"use a longer interval (at most {MAX_PERIODS} bars)"
        )
    marks: list[tuple[int, float, float, float]] = []  # (bar, mark, position, pnl)
    mark, index = float(mine[0].price), 0
    for start in range(first, last + 1, seconds):
        while index < len(mine) and mine[index].timestamp < start + seconds:
            apply_trade(book, mine[index], address)
            index += 1
        mark = closes.get(start, mark)
        marks.append((start, mark, book.position, book.pnl(mark)))
    capital = book.peak_cost
    curve, returns = _equity_curve(marks, capital)
    per_year = periods_per_year(interval)
    return Metrics(
        book,
        curve,
        capital,
        sharpe(returns, per_year),
        sortino(returns, per_year),
        max((p.drawdown for p in curve), default=0.0),
        per_year,
    )


def _equity_curve(
    marks: list[tuple[int, float, float, float]], capital: float
) -> tuple[list[EquityPoint], list[float]]:
    curve: list[EquityPoint] = []
    returns: list[float] = []
    previous = peak = capital
    for start, mark, position, pnl in marks:
        equity = capital + pnl
        ret = (equity - previous) / previous if previous > 0 else 0.0
        peak = max(peak, equity)
        drawdown = (peak - equity) / peak if peak > 0 else 0.0
        curve.append(EquityPoint(start, mark, position, pnl, equity, drawdown, ret))
        returns.append(ret)
        previous = equity
    return curve, returns


def sharpe(returns: Sequence[float], per_year: float) -> float | None:
    """mean / sample standard deviation (n - 1) of the bar returns, times sqrt(bars per year)."""
    if len(returns) < 2:
        return None
    mean = sum(returns) / len(returns)
    variance = sum((r - mean) ** 2 for r in returns) / (len(returns) - 1)
    if variance <= 0:
        return None
    return mean / math.sqrt(variance) * math.sqrt(per_year)


def sortino(returns: Sequence[float], per_year: float) -> float | None:
    """mean / downside deviation (root mean square of min(r, 0) over all bars), times sqrt(bars per year)."""
    if len(returns) < 2:
        return None
    downside = math.sqrt(sum(min(r, 0.0) ** 2 for r in returns) / len(returns))
    if downside <= 0:
        return None
    return sum(returns) / len(returns) / downside * math.sqrt(per_year)
