"""Request and response bodies of `/v1/trading/bots`, shared with the client.

AIT amounts are integer units (10**6 per AIT), BTC amounts integer satoshi, prices
satoshi per 1 AIT (the exchange's units); equity and PnL are in satoshi (valued at
the last trade price); times are block timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Gt, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Name = Annotated[str, MinLen(1), MaxLen(64)]
Amount = Annotated[int, Ge(0), Le(2**53 - 1)]
Pct = Annotated[float, Gt(0.0), Le(100.0)]
Password = Annotated[str, MinLen(1), MaxLen(1024)]


@dataclass
class StartBotRequest(ApiModel):
    name: Name
    strategy: Annotated[str, MinLen(1), MaxLen(128)]
    wallet: Annotated[str, MinLen(1), MaxLen(64)] | None = None  # the owner (a keystore wallet); live only
    chain: Annotated[str, MinLen(1), MaxLen(128)] = "ait-devnet"
    market: Annotated[str, MinLen(1), MaxLen(32)] = "AITBC/BTC"
    params: dict[str, float | int | str] = field(default_factory=dict)
    interval: Annotated[str, MinLen(1), MaxLen(8)] = "1m"
    size: Annotated[float, Gt(0.0), Le(1.0)] = 1.0  # share of the bot's BTC a buy spends
    stop_loss: Pct | None = None  # percent below the entry price
    take_profit: Pct | None = None  # percent above the entry price
    max_drawdown: Pct | None = None  # percent below the equity's peak: flatten and stop (killed)
    paper: bool = False
    fund_ait: Amount = 0  # live: moved from the owner wallet to the bot
    fund_btc: Amount = 0
    paper_ait: Amount = 0  # paper: the virtual starting balances
    paper_btc: Amount = 0
    password: Password | None = None  # the owner wallet's (live; not needed while it is unlocked)


@dataclass
class StopBotRequest(ApiModel):
    withdraw: bool = False  # live: send the bot's AIT and BTC back to its owner (signed by the bot key)
    password: Password | None = None  # the owner wallet's (live bots)


@dataclass
class BotOut(ApiModel):
    name: str
    chain: str
    market: str
    mode: str  # live | paper
    state: str  # running | stopped | killed
    reason: str | None
    strategy: str
    params: dict[str, float]
    interval: str
    size: float
    stop_loss: float | None
    take_profit: float | None
    max_drawdown: float | None
    address: str | None  # live: the bot's agent address (role trader)
    owner: str | None
    position: str  # flat | long
    entry_price: float | None
    ait: int
    btc: int
    last_price: float | None
    equity: int | None  # satoshi: btc + ait at the last price
    start_equity: int | None
    pnl: int | None
    pnl_pct: float | None
    bars: int  # closed candles seen
    bars_needed: int  # the strategy's lookback + 1
    waiting: str | None  # e.g. "waiting for data: 5 of 21 bars"
    last_decision: str | None
    last_decision_at: int | None
    created_at: float
    owner_wallet: str | None = None  # the keystore wallet that owns a live bot (its password stops it)
    txs: list[str] = field(default_factory=list)  # transactions start/stop just sent


@dataclass
class BotList(ApiModel):
    bots: list[BotOut]


@dataclass
class DecisionOut(ApiModel):
    id: int
    bot: str
    time: int  # block time of the decision
    candle: int  # start of the closed candle it decided on
    target: float | None
    action: str  # buy, sell, hold, wait, refused, stop, kill, stop_loss, take_profit
    reason: str
    tx: str | None = None
    error: str | None = None


@dataclass
class FillOut(ApiModel):
    id: int
    bot: str
    time: int
    side: str
    size: int  # AIT units
    price: float  # satoshi per AIT (average)
    quote: int  # satoshi paid (buy) or received before the fee (sell)
    fee: int  # satoshi taker fee
    reason: str
    tx: str | None = None


@dataclass
class EquityPoint(ApiModel):
    time: int
    equity: int


@dataclass
class BotAnalytics(ApiModel):
    name: str
    mode: str
    state: str
    realised_pnl: int
    unrealised_pnl: int
    pnl: int
    pnl_pct: float | None
    exposure_pct: float  # value held in AIT / equity, now
    position: str
    trades: list[FillOut]
    equity: list[EquityPoint]
    decisions: list[DecisionOut]


@dataclass
class TickOut(ApiModel):
    decisions: list[DecisionOut]
