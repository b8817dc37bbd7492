"""A real devnet market for the live-bot tests: two dev-funded wallets that trade with each other.

Trades are real exchange orders (a limit sell met by a limit buy at the same price), so
candles come from the chain's own trades; `close_candle` moves the devnet clock with
`chain advance` so that the candle being traded closes by block time.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.client import Client

CHAIN = "ait-devnet"
UNIT = 10**6
SAT = 10**8
PASSWORD = "pw"
MINUTE = 60


class DevMarket:
    """Wallets `maker` and `taker` (100,000 AIT and 1 BTC each) and `owner` (a bot's owner)."""

    def __init__(self, client: Client, *, interval_mined: bool = False) -> None:
        self.client = client
        self.interval_mined = interval_mined  # a daemon with a long --block-time: mine after each step
        self.address: dict[str, str] = {}
        for name in ("maker", "taker", "owner"):
            self.address[name] = client.create_wallet(name, PASSWORD).wallet.address
            client.faucet(CHAIN, self.address[name], 100_000 * UNIT)
            client.faucet_btc(CHAIN, self.address[name], SAT)
            self.mine()

    def mine(self) -> None:
        if self.interval_mined:
            self.client.mine(CHAIN, 1)

    def order(self, wallet: str, side: str, size_ait: float, price: int) -> Any:
        result = self.client.exchange_order(
            wallet, chain=CHAIN, side=side, size=int(size_ait * UNIT), price=price, password=PASSWORD
        )
        assert result.status == ("pending" if self.interval_mined else "included"), result
        self.mine()
        return result

    def trade(self, price: int, size_ait: float = 1) -> None:
        """One trade at `price` satoshi per AIT: the maker rests a sell, the taker takes it."""
        self.order("maker", "sell", size_ait, price)
        self.order("taker", "buy", size_ait, price)

    def close_candle(self, seconds: int = MINUTE) -> int:
        """Move block time a whole minute on: the candle traded in closes. Returns the new block time."""
        return self.client.advance(CHAIN, seconds).block_time

    def candles(self, *prices: int) -> None:
        """One closed 1m candle per price (a trade in each)."""
        for price in prices:
            self.trade(price)
            self.close_candle()

    def book(self) -> Any:
        return self.client.exchange_book(CHAIN, depth=50)

    def trades(self) -> list[Any]:
        return self.client.exchange_trades(CHAIN, limit=1000).trades
