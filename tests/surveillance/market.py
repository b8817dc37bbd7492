"""A real devnet market for the surveillance tests: dev-funded wallets placing real orders."""

from __future__ import annotations

from typing import Any

from aitbc_daemon.client import Client
from tests.trading.bots_market import CHAIN, PASSWORD, SAT, UNIT


class SurvMarket:
    """Wallets with 100,000 AIT and 1 BTC each (faucet-funded: not linked to one another)."""

    def __init__(self, client: Client, names: tuple[str, ...] = ("alice", "bob", "carol")) -> None:
        self.client = client
        self.address: dict[str, str] = {}
        for name in names:
            self.address[name] = client.create_wallet(name, PASSWORD).wallet.address
            client.faucet(CHAIN, self.address[name], 100_000 * UNIT)
            client.faucet_btc(CHAIN, self.address[name], SAT)

    def order(self, wallet: str, side: str, size_ait: float, price: int) -> Any:
        result = self.client.exchange_order(
            wallet, chain=CHAIN, side=side, size=int(size_ait * UNIT), price=price, password=PASSWORD
        )
        assert result.status == "included", result
        return result.order

    def cancel(self, wallet: str, order_id: int) -> str:
        result = self.client.exchange_cancel(wallet, chain=CHAIN, order=order_id, password=PASSWORD)
        assert result.status == "included", result
        return result.hash

    def trade(self, seller: str, buyer: str, price: int = 1000, size_ait: float = 1) -> Any:
        """One trade: `seller` rests a sell, `buyer` takes it. Returns the newest trade."""
        self.order(seller, "sell", size_ait, price)
        self.order(buyer, "buy", size_ait, price)
        return self.client.exchange_trades(CHAIN, limit=1).trades[-1]

    def fund(self, sender: str, to: str, amount_ait: float = 10) -> str:
        result = self.client.send(
            sender, chain=CHAIN, to=self.address[to], amount=int(amount_ait * UNIT), password=PASSWORD
        )
        return result.hash

    def alerts(self, **query: Any) -> list[dict[str, Any]]:
        self.client.surveillance_tick()
        return self.client.surveillance_alerts(**query)["alerts"]
