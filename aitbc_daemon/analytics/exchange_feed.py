"""The chain's AITBC/BTC trades as market data: read through the exchange service, turned into candles.

Prices stay in the exchange's unit (satoshi per 1 AIT); sizes become AIT (the
chain stores units, 10**6 per AIT), so a candle's volume reads as AIT traded.
"""

from __future__ import annotations

from aitbc_daemon.analytics.candles import build_candles
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.exchange import service as exchange
from aitbc_daemon.exchange.models import TradeInfo

EXCHANGE_SYMBOL = "AITBC/BTC"
PRICE_UNIT = "satoshi per AIT"
VOLUME_UNIT = "AIT"


def is_exchange_symbol(symbol: str) -> bool:
    return symbol.upper() == EXCHANGE_SYMBOL


def all_trades(chains: ChainService, chain_id: str, since: int = 0) -> list[TradeInfo]:
    """Every trade with id > `since`, oldest first, paged through the exchange's trade cursor."""
    found: list[TradeInfo] = []
    while True:
        page = exchange.trades(chains, chain_id, since, exchange.MAX_TRADES)
        found += page.trades
        if len(page.trades) < exchange.MAX_TRADES:
            return found
        since = page.next_since


def last_trade_id(chains: ChainService, chain_id: str) -> int:
    """The newest trade's id (0 before the first trade): a cheap 'did anything trade?' check."""
    return exchange.trades(chains, chain_id, None, 1).next_since


def trade_candles(trades: list[TradeInfo], interval: str) -> list[Bar]:
    return build_candles(((t.timestamp, t.price, t.size / UNIT) for t in trades), interval)
