"""Request and response bodies of the exchange endpoints, shared with the client.

AIT amounts are integer units (10**6 per AIT), BTC amounts integer satoshi
(10**8 per BTC), prices satoshi per 1 AIT; times are block timestamps.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Units = Annotated[int, Ge(1), Le(2**53 - 1)]
Fee = Annotated[int, Ge(0), Le(2**53 - 1)]
Password = Annotated[str, MinLen(1), MaxLen(1024)]
OrderId = Annotated[int, Ge(1), Le(2**53 - 1)]


@dataclass
class ExchangeRate(ApiModel):
    chain: str
    rate: int  # AIT units per 1 BTC (`exchange buy`), governed as exchange.rate
    fee_bps: int  # taker fee in basis points of the BTC quote, governed as exchange.fee_bps
    treasury_ait: int  # what `exchange buy` can still sell
    treasury_btc: int  # satoshi paid to the treasury (buys and fees)
    btc_supply: int  # satoshi ever deposited through the bridges
    bridges: list[str]
    paused: bool  # a DAO emergency pause of "exchange": no orders or buys, cancels still work


@dataclass
class BookLevel(ApiModel):
    price: int
    size: int  # open AIT units at this price
    orders: int


@dataclass
class OrderBook(ApiModel):
    chain: str
    bids: list[BookLevel]  # best (highest) first
    asks: list[BookLevel]  # best (lowest) first
    best_bid: int | None
    best_ask: int | None


@dataclass
class TradeInfo(ApiModel):
    id: int
    height: int
    timestamp: int
    price: int
    size: int
    quote: int  # satoshi the buyer paid for it
    fee: int  # satoshi the taker paid to the treasury
    buyer: str
    seller: str
    buy_order: int
    sell_order: int
    taker: str  # buy or sell: the side of the incoming order


@dataclass
class TradeList(ApiModel):
    chain: str
    trades: list[TradeInfo]  # oldest first
    next_since: int  # pass as ?since= to get only newer trades


@dataclass
class OrderInfo(ApiModel):
    id: int
    owner: str
    side: str
    type: str
    price: int | None
    size: int
    filled: int
    remaining: int  # still open on the book
    cancelled: int  # size - filled - remaining
    status: str  # open, filled or cancelled
    locked: int  # satoshi a buy order still holds
    paid: int  # satoshi a buy order has paid (excluding fees)
    height: int
    timestamp: int
    tx: str


@dataclass
class OrderList(ApiModel):
    chain: str
    owner: str | None
    orders: list[OrderInfo]


@dataclass
class ExchangeBalance(ApiModel):
    chain: str
    address: str
    ait: int
    btc: int
    ait_in_orders: int
    btc_in_orders: int


@dataclass
class BuyRequest(ApiModel):
    chain: str
    btc: Units
    fee: Fee = 0
    password: Password | None = None


@dataclass
class OrderRequest(ApiModel):
    chain: str
    side: Literal["buy", "sell"]
    size: Units
    type: Literal["limit", "market"] = "limit"
    price: int | None = None  # validated by the transaction (InvalidPayload), so the rule lives once
    fee: Fee = 0
    password: Password | None = None


@dataclass
class CancelRequest(ApiModel):
    chain: str
    order: OrderId
    fee: Fee = 0
    password: Password | None = None


@dataclass
class BtcFaucetRequest(ApiModel):
    to: Annotated[str, MinLen(1), MaxLen(128)]
    amount: Units  # satoshi


@dataclass
class ExchangeTxResult(ApiModel):
    hash: str
    chain: str
    type: str  # btc_deposit, exchange_buy, exchange_order or exchange_cancel
    status: str  # pending, included or failed (forwarded on a follower)
    height: int | None = None
    reason: str | None = None
    code: str | None = None
    order: OrderInfo | None = None  # the order an exchange_order placed, as it stands after matching
