"""A real single-node chain with a DAO and an exchange (dev account 0 its BTC bridge), for these tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aitbc_daemon.chain.genesis import Genesis, genesis_from_dict
from aitbc_daemon.exchange.market import (
    BTC_SUPPLY_KEY,
    LOCKED_BTC_KEY,
    MODULE,
    TREASURY_BTC_KEY,
    btc_balance,
    int_value,
    load_order,
)
from tests.dao.helpers import ADDRESSES, COUNCIL, KEYS, T0, TREASURY, UNIT, DaoChain

BTC = 10**8
BRIDGE = 0


def exchange_genesis(fee_bps: int = 0, rate: int = 100_000 * UNIT, **settings: int) -> Genesis:
    """The dao tests' chain (balances 400k..20k AIT, 100,000 AIT treasury) plus an exchange section."""
    data: dict[str, Any] = {
        "chain_id": "exchange-test",
        "timestamp": T0,
        "authorities": [bytes(KEYS[0].verify_key).hex()],
        "allocations": {
            a: b * UNIT
            for a, b in zip(ADDRESSES, (400_000, 300_000, 200_000, 50_000, 30_000, 20_000), strict=True)
        },
        "block_time": 2,
        "is_devnet": False,
        "dao": {"treasury": TREASURY, "council": [ADDRESSES[i] for i in COUNCIL], "council_threshold": 2},
        "exchange": {"bridges": [ADDRESSES[BRIDGE]], "rate": rate, "fee_bps": fee_bps},
    }
    if settings:
        data["dao"]["settings"] = settings
    return genesis_from_dict(data)


class ExchangeChain(DaoChain):
    """`DaoChain` plus exchange reads and the BTC conservation check after every block."""

    def __init__(self, path: Path, genesis: Genesis | None = None) -> None:
        super().__init__(path, genesis or exchange_genesis())

    def block(self, timestamp: int, *txs: Any) -> list[Any]:
        statuses = super().block(timestamp, *txs)
        check_btc_conserved(self.node.state)
        return statuses

    def next_time(self) -> int:
        return self.now + 2

    def do(self, account: int, tx_type: str, payload: dict[str, Any]) -> Any:
        """One transaction in its own block, two seconds after the last."""
        return self.send(self.next_time(), account, tx_type, payload)

    def deposit(self, account: int, btc: int) -> Any:
        return self.do(BRIDGE, "btc_deposit", {"to": ADDRESSES[account], "amount": btc})

    def limit(self, account: int, side: str, size: int, price: int) -> Any:
        return self.do(
            account, "exchange_order", {"side": side, "type": "limit", "size": size, "price": price}
        )

    def market(self, account: int, side: str, size: int) -> Any:
        return self.do(account, "exchange_order", {"side": side, "type": "market", "size": size})

    def cancel(self, account: int, order_id: int) -> Any:
        return self.do(account, "exchange_cancel", {"order": order_id})

    def btc(self, account: int) -> int:
        return btc_balance(self.node.state, ADDRESSES[account])

    def order(self, order_id: int) -> dict[str, Any]:
        found = load_order(self.node.state, order_id)
        assert found is not None
        return found

    def treasury_btc(self) -> int:
        return int_value(self.node.state, TREASURY_BTC_KEY)

    def treasury_ait(self) -> int:
        return int(self.node.state.kv_get("dao", "treasury") or 0)


def check_btc_conserved(state: Any) -> None:
    """Every satoshi deposited is in a balance, the treasury's BTC or an open buy order's lock."""
    balances = sum(
        int(value) for (module, key), value in state.kv.items() if module == MODULE and key.startswith("btc:")
    )
    assert all(
        int(value) > 0
        for (module, key), value in state.kv.items()
        if module == MODULE and key.startswith("btc:")
    )
    total = balances + int_value(state, TREASURY_BTC_KEY) + int_value(state, LOCKED_BTC_KEY)
    assert total == int_value(state, BTC_SUPPLY_KEY)
