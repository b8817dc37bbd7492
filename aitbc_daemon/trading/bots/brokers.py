"""Where a bot's orders go: the chain's exchange (live, signed by the bot's hot key) or its paper book.

Both answer the same questions (balances, the book as it stands, the fees) and take the
same order (a market order of N AIT units), so the runner's decisions are one code path.

Why market orders: a bot decides on a closed candle and wants to be filled now; a market
order never rests (the exchange cancels and refunds its unfilled rest at once), so a bot
never leaves stale orders on the book. The buy is sized by walking the book first
(`paper.walk_buy`) so that the BTC it locks pays for it, fee included.
"""

from __future__ import annotations

from dataclasses import dataclass

from nacl.signing import SigningKey

from aitbc_daemon.chain.params import min_fee
from aitbc_daemon.chain.service import ChainService, Submission
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.exchange import service as exchange
from aitbc_daemon.exchange.market import BUY, MARKET, btc_balance, settings
from aitbc_daemon.trading.bots.paper import Fill, Level, walk_buy, walk_sell
from aitbc_daemon.trading.bots.store import BotState
from aitbc_daemon.wallet.service import sign_and_submit


class OrderRefused(AitbcError):
    """The chain refused the bot's order (e.g. the DAO's agent-trading limit); nothing was traded."""

    code = "order_refused"


@dataclass(frozen=True)
class Market:
    """A snapshot of the book and the fees the bot pays."""

    asks: list[Level]  # best (lowest) first
    bids: list[Level]  # best (highest) first
    fee_bps: int  # the exchange's taker fee
    chain_fee: int  # AIT units per transaction (the chain's min_fee; 0 for paper bots)


@dataclass(frozen=True)
class Executed:
    fill: Fill
    tx: str | None = None
    pending: bool = False  # sent, not in a block yet (an interval-mined chain): settled on a later pass


def snapshot(chains: ChainService, chain_id: str, *, paper: bool) -> Market:
    found = exchange.order_book(chains, chain_id, exchange.MAX_DEPTH)
    hosted = chains.get(chain_id)
    with hosted.lock:
        view = hosted.node.state
        fee_bps, chain_fee = settings(view)["fee_bps"], min_fee(view)
    return Market(
        [(level.price, level.size) for level in found.asks],
        [(level.price, level.size) for level in found.bids],
        fee_bps,
        0 if paper else chain_fee,
    )


class PaperBroker:
    """Fills against the real book's snapshot without touching it; balances live in the bot's state."""

    def __init__(self, state: BotState) -> None:
        self.state = state

    def balances(self) -> tuple[int, int]:
        return self.state.paper_ait, self.state.paper_btc

    def market_order(self, market: Market, side: str, units: int) -> Executed:
        if side == BUY:
            fill = walk_buy(market.asks, self.state.paper_btc, market.fee_bps, units)
            self.state.paper_btc -= fill.quote + fill.fee
            self.state.paper_ait += fill.size
        else:
            fill = walk_sell(market.bids, units, market.fee_bps)
            self.state.paper_ait -= fill.size
            self.state.paper_btc += fill.quote - fill.fee
        return Executed(fill)


class LiveBroker:
    """Market orders on the chain, signed by the bot's key (dry-run first: a refused order costs nothing)."""

    def __init__(self, chains: ChainService, chain_id: str, key: SigningKey, address: str) -> None:
        self.chains, self.chain_id, self.key, self.address = chains, chain_id, key, address

    def balances(self) -> tuple[int, int]:
        hosted = self.chains.get(self.chain_id)
        with hosted.lock:
            view = hosted.node.state
            return view.balance(self.address), btc_balance(view, self.address)

    def market_order(self, market: Market, side: str, units: int) -> Executed:
        payload = {"side": side, "type": MARKET, "size": units}
        try:
            submission = sign_and_submit(
                self.chains,
                self.chain_id,
                self.key,
                "exchange_order",
                payload,
                fee=market.chain_fee,
                dry_run=True,
            )
        except AitbcError as exc:
            raise OrderRefused(exc.message, code=exc.code) from None
        return self._executed(submission.hash or "", side)

    def settle(self, tx_hash: str, side: str) -> Executed:
        """Where an order sent on an earlier pass stands now (pending, filled, or refused)."""
        return self._executed(tx_hash, side)

    def _executed(self, tx_hash: str, side: str) -> Executed:
        result = exchange.result(self.chains, self.chain_id, "exchange_order", Submission(tx_hash))
        if result.status == "failed":
            raise OrderRefused(result.reason or "the order failed", code=result.code or "order_failed")
        if result.status != "included" or result.order is None:
            return Executed(Fill(0, 0, 0), tx_hash, pending=True)
        return Executed(self._fill_of(result.order.id, side), tx_hash)

    def _fill_of(self, order_id: int, side: str) -> Fill:
        """The order's trades as the chain recorded them (size, quote and taker fee summed)."""
        size = quote = fee = 0
        trades = exchange.trades(self.chains, self.chain_id, None, exchange.MAX_TRADES).trades
        for trade in trades:
            if (trade.buy_order if side == BUY else trade.sell_order) == order_id:
                size, quote = size + trade.size, quote + trade.quote
                fee += trade.fee if trade.taker == side else 0
        return Fill(size, quote, fee)

    def send(self, tx_type: str, payload: dict[str, object], fee: int) -> str:
        """Any other transaction the bot signs (cancels, withdrawals to its owner)."""
        submission = sign_and_submit(
            self.chains, self.chain_id, self.key, tx_type, payload, fee=fee, dry_run=True
        )
        return submission.hash or ""
