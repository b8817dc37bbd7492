"""Over random order sequences (several per block): AIT and BTC are conserved, no balance goes
negative, the book is never crossed after a block, every order's filled + open + cancelled
equals its size, the module's locked totals match its open orders, and a fresh node replaying
the blocks reaches the same app hash."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import flatten
from aitbc_daemon.exchange import book
from aitbc_daemon.exchange.market import LOCKED_AIT_KEY, LOCKED_BTC_KEY, MODULE, NEXT_ORDER_KEY, int_value

from .helpers import ADDRESSES, BTC, UNIT, ExchangeChain, exchange_genesis

TRADER = st.integers(1, 5)
SIZE = st.one_of(st.integers(1, 3_000), st.integers(1, 40).map(lambda n: n * UNIT))
PRICE = st.one_of(st.integers(95, 105), st.integers(1, 3), st.integers(5_000, 5_002))
ACTIONS = st.one_of(
    st.tuples(st.just("limit"), TRADER, st.sampled_from(["buy", "sell"]), SIZE, PRICE),
    st.tuples(st.just("market"), TRADER, st.sampled_from(["buy", "sell"]), SIZE),
    st.tuples(st.just("cancel"), TRADER, st.integers(1, 30)),
    st.tuples(st.just("buy"), TRADER, st.integers(1, 50_000)),
)


def payload_of(action: tuple) -> tuple[str, dict]:
    kind = action[0]
    if kind == "limit":
        return "exchange_order", {"side": action[2], "type": "limit", "size": action[3], "price": action[4]}
    if kind == "market":
        return "exchange_order", {"side": action[2], "type": "market", "size": action[3]}
    if kind == "cancel":
        return "exchange_cancel", {"order": action[2]}
    return "exchange_buy", {"btc": action[2]}


def check_book(chain: ExchangeChain) -> None:
    state = flatten(chain.node.state)
    bid, ask = book.best_price(state, "buy"), book.best_price(state, "sell")
    assert bid is None or ask is None or bid < ask, (bid, ask)
    locked_ait = locked_btc = 0
    on_book = {
        side: [i for p in book.prices(state, side) for i in book.level(state, side, p)]
        for side in ("buy", "sell")
    }
    for order_id in range(1, int_value(state, NEXT_ORDER_KEY) or 1):
        order = state.kv_get(MODULE, f"order:{order_id}")
        assert order["filled"] + order["remaining"] + order["cancelled"] == order["size"]
        assert min(order["filled"], order["remaining"], order["cancelled"], order["locked"]) >= 0
        assert (order["status"] == "open") == (order["remaining"] > 0)
        assert (order_id in on_book[order["side"]]) == (order["status"] == "open")
        if order["status"] == "open":
            assert order["type"] == "limit"
            locked_ait += order["remaining"] if order["side"] == "sell" else 0
            locked_btc += order["locked"] if order["side"] == "buy" else 0
        else:
            assert order["locked"] == 0
    assert locked_ait == int_value(state, LOCKED_AIT_KEY)
    assert locked_btc == int_value(state, LOCKED_BTC_KEY)
    assert all(balance >= 0 for balance in state.balances.values())


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(ACTIONS, min_size=1, max_size=6), min_size=2, max_size=12),
    st.sampled_from([0, 30, 1_000]),
)
def test_random_order_flow_keeps_every_invariant(blocks, fee_bps):
    with tempfile.TemporaryDirectory() as tmp:
        chain = ExchangeChain(Path(tmp) / "p.sqlite", exchange_genesis(fee_bps=fee_bps))
        chain.block(
            chain.next_time(),
            *[
                chain.tx(0, "btc_deposit", {"to": ADDRESSES[a], "amount": amount})
                for a, amount in ((1, BTC), (2, BTC // 100), (3, 50_000), (4, 700), (5, 1))
            ],
        )
        for actions in blocks:
            txs = []
            for action in actions:
                tx_type, payload = payload_of(action)
                tx = chain.tx(action[1], tx_type, payload)
                try:
                    chain.node.check_tx(tx)
                except ChainError:  # e.g. a sell of more AIT than held: refused, never included
                    chain.nonces[action[1]] -= 1
                    continue
                txs.append(tx)
            chain.node.produce_block(chain.next_time())  # the checks below, not `block`, run per block
            chain.now += 2
            chain.block(chain.next_time())  # an empty block: AIT supply and BTC conservation checks
            check_book(chain)
        # matching is deterministic: a fresh node re-executing every block reaches the same state
        fresh = ChainNode.open(Path(tmp) / "replay.sqlite", chain.genesis)
        blocks = [chain.node.block(height=h) for h in range(1, chain.node.height + 1)]
        assert fresh.replay(blocks) == chain.node.app_hash
        fresh.close()
