"""The exchange transitions on a real node: deposits, buys at the governed rate, the order book.

Every block is checked by `ExchangeChain`: AIT circulating == issued, and every
deposited satoshi is in a balance, the treasury's BTC or an open order's lock.
"""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.errors import InsufficientFunds, InvalidPayload
from aitbc_daemon.chain.genesis import devnet_genesis, genesis_from_dict
from aitbc_daemon.chain.state import flatten
from aitbc_daemon.exchange import book
from aitbc_daemon.exchange.market import BTC_SUPPLY_KEY, DEFAULT_FEE_BPS, DEFAULT_RATE, int_value, settings
from tests.agents.helpers import AGENT_KEYS, AGENTS, AgentChain
from tests.dao.test_params_effects import enact, execute

from .helpers import ADDRESSES, BTC, TREASURY, UNIT, ExchangeChain, exchange_genesis


@pytest.fixture
def chain(tmp_path):
    return ExchangeChain(tmp_path / "exchange.sqlite")


@pytest.fixture
def fee_chain(tmp_path):
    return ExchangeChain(tmp_path / "fees.sqlite", exchange_genesis(fee_bps=100))  # 1% taker fee


def snapshot(chain: ExchangeChain) -> dict:
    """Everything but the chain's own bookkeeping (nonces, fees to the proposer)."""
    state = flatten(chain.node.state)
    return {key: value for key, value in state.kv.items() if key[0] in ("exchange", "dao")} | {
        "balances": {a: state.balances.get(a, 0) for a in ADDRESSES[1:]}
    }


# --- genesis and deposits ----------------------------------------------------------------------


def test_genesis_section_is_optional_and_devnet_has_a_bridge():
    plain = devnet_genesis(exchange=False).to_dict()
    assert "exchange" not in plain
    assert genesis_from_dict(plain).hash == devnet_genesis(exchange=False).hash
    devnet = devnet_genesis()
    assert devnet.exchange is not None and devnet.exchange.bridges == (ADDRESSES[0],)
    assert devnet.hash != devnet_genesis(exchange=False).hash
    assert settings(devnet_genesis(exchange=False).initial_state()) == {
        "rate": DEFAULT_RATE,
        "fee_bps": DEFAULT_FEE_BPS,
    }
    assert devnet.total_supply == devnet_genesis(exchange=False).total_supply  # BTC is not AIT


def test_only_bridges_deposit_and_the_btc_supply_counts_every_deposit(chain):
    refused = chain.do(1, "btc_deposit", {"to": ADDRESSES[1], "amount": BTC})
    assert refused.status == "failed" and refused.code == "not_bridge"
    assert chain.btc(1) == 0 and int_value(chain.node.state, BTC_SUPPLY_KEY) == 0
    assert chain.deposit(1, 2 * BTC).status == "included"
    assert chain.deposit(2, 3).status == "included"
    assert chain.btc(1) == 2 * BTC and chain.btc(2) == 3
    assert int_value(chain.node.state, BTC_SUPPLY_KEY) == 2 * BTC + 3


# --- buys from the treasury -----------------------------------------------------------------------


def test_buy_at_the_rate_from_the_treasury(chain):
    chain.deposit(1, BTC)
    before = chain.balance(1)
    assert chain.do(1, "exchange_buy", {"btc": BTC // 4}).status == "included"
    assert chain.balance(1) == before + 25_000 * UNIT  # 1 BTC = 100,000 AIT
    assert chain.btc(1) == 3 * BTC // 4
    assert chain.treasury_ait() == TREASURY - 25_000 * UNIT
    assert chain.treasury_btc() == BTC // 4
    # one satoshi buys 1,000 units; the rest of a unit is not rounded up
    assert chain.do(1, "exchange_buy", {"btc": 1}).status == "included"
    assert chain.balance(1) == before + 25_000 * UNIT + 1_000


def test_buy_fails_cleanly_when_the_treasury_or_the_buyer_is_short(chain):
    chain.deposit(1, 5 * BTC)
    before = snapshot(chain)
    short = chain.do(1, "exchange_buy", {"btc": 2 * BTC})  # 200,000 AIT > the 100,000 AIT treasury
    assert short.status == "failed" and short.code == "treasury_short"
    poor = chain.do(2, "exchange_buy", {"btc": 1})
    assert poor.status == "failed" and poor.code == "insufficient_funds"
    assert snapshot(chain) == before


def test_a_governed_rate_and_fee_change_take_effect(chain):
    chain.deposit(1, BTC)
    proposal = enact(chain, "parameter-change", {"param": "exchange.rate", "value": 50_000 * UNIT})
    assert execute(chain, proposal)[0].status == "included"
    assert settings(chain.node.state)["rate"] == 50_000 * UNIT
    before = chain.balance(1)
    assert chain.do(1, "exchange_buy", {"btc": BTC // 10}).status == "included"
    assert chain.balance(1) == before + 5_000 * UNIT
    fee = enact(chain, "parameter-change", {"param": "exchange.fee_bps", "value": 200})
    assert execute(chain, fee)[0].status == "included"
    assert settings(chain.node.state) == {"rate": 50_000 * UNIT, "fee_bps": 200}


def test_governed_exchange_parameters_are_bounded(chain):
    for param, value in (("exchange.rate", 0), ("exchange.fee_bps", 1_001), ("exchange.spread", 1)):
        tx = chain.tx(
            0,
            "dao_propose",
            {"type": "parameter-change", "title": "x", "action": {"param": param, "value": value}},
        )
        with pytest.raises(InvalidPayload):
            chain.node.check_tx(tx)
        chain.nonces[0] -= 1


# --- the order book ---------------------------------------------------------------------------------


def test_limit_orders_cross_with_price_time_priority_and_partial_fills(chain):
    chain.deposit(1, BTC)
    chain.limit(2, "sell", 10 * UNIT, 1_100)  # order 1
    chain.limit(3, "sell", 10 * UNIT, 1_000)  # order 2: better price, later
    chain.limit(4, "sell", 10 * UNIT, 1_000)  # order 3: same price, later still
    assert chain.balance(2) == 200_000 * UNIT - 10 * UNIT  # the AIT is locked
    status = chain.limit(1, "buy", 25 * UNIT, 1_100)  # order 4
    assert status.status == "included"
    # 10 from order 2 at 1,000, 10 from order 3 at 1,000, 5 from order 1 at 1,100 (maker prices)
    assert [chain.order(i)["status"] for i in (1, 2, 3, 4)] == ["open", "filled", "filled", "filled"]
    assert chain.order(1)["filled"] == 5 * UNIT and chain.order(1)["remaining"] == 5 * UNIT
    paid = 10_000 + 10_000 + 5_500
    assert chain.order(4)["paid"] == paid
    assert chain.btc(1) == BTC - paid  # the rest of the lock at 1,100 came back
    assert chain.balance(1) == 300_000 * UNIT + 25 * UNIT
    assert (chain.btc(2), chain.btc(3), chain.btc(4)) == (5_500, 10_000, 10_000)
    trades = [chain.node.state.kv_get("exchange", f"trade:{i}") for i in (1, 2, 3)]
    assert [(t["price"], t["size"], t["seller"], t["taker"]) for t in trades] == [
        (1_000, 10 * UNIT, ADDRESSES[3], "buy"),
        (1_000, 10 * UNIT, ADDRESSES[4], "buy"),
        (1_100, 5 * UNIT, ADDRESSES[2], "buy"),
    ]
    # a buy below the best ask rests; the book is not crossed
    chain.limit(1, "buy", 4 * UNIT, 900)  # order 5
    assert (
        book.best_price(chain.node.state, "buy") == 900 and book.best_price(chain.node.state, "sell") == 1_100
    )
    assert chain.order(5)["locked"] == 3_600 and chain.btc(1) == BTC - paid - 3_600
    # a sell that crosses the bid fills at the bid (the maker's price) and rests its rest at its own
    chain.limit(5, "sell", 6 * UNIT, 800)  # order 6
    assert chain.order(5)["status"] == "filled" and chain.btc(5) == 3_600
    assert chain.order(6)["remaining"] == 2 * UNIT and chain.order(6)["status"] == "open"
    assert book.best_price(chain.node.state, "sell") == 800


def test_rounding_never_creates_or_destroys_a_satoshi(chain):
    chain.deposit(1, BTC)
    chain.limit(2, "sell", 3, 333)  # 3 units at 333 sat/AIT: 0.000999 sat
    chain.limit(3, "sell", 7, 333)
    chain.limit(1, "buy", 10, 333)
    # the buyer pays ceil(10 * 333 / 10**6) = 1 sat in total, however it was split
    assert chain.btc(1) == BTC - 1
    assert chain.btc(2) + chain.btc(3) == 1


def test_market_orders_take_the_best_levels_and_never_rest(chain):
    chain.deposit(1, BTC)
    empty = chain.market(1, "buy", UNIT)
    assert empty.status == "failed" and empty.code == "no_liquidity"
    chain.limit(2, "sell", 2 * UNIT, 1_000)
    chain.limit(3, "sell", 2 * UNIT, 2_000)
    status = chain.market(1, "buy", 5 * UNIT)  # takes both levels, the last unit is cancelled
    assert status.status == "included"
    order = chain.order(3)
    assert (order["filled"], order["cancelled"], order["remaining"], order["status"]) == (
        4 * UNIT,
        UNIT,
        0,
        "cancelled",
    )
    assert chain.btc(1) == BTC - 6_000 and chain.balance(1) == 300_000 * UNIT + 4 * UNIT
    assert (
        book.best_price(chain.node.state, "sell") is None and book.best_price(chain.node.state, "buy") is None
    )
    # a market sell against bids; its unfilled rest comes back
    chain.limit(1, "buy", UNIT, 1_500)
    before = chain.balance(4)
    assert chain.market(4, "sell", 3 * UNIT).status == "included"
    assert chain.balance(4) == before - UNIT and chain.btc(4) == 1_500
    # a market buy only spends what the buyer holds: it fills what that pays for
    chain.deposit(5, 3_000)
    chain.limit(2, "sell", 10 * UNIT, 1_000)
    assert chain.market(5, "buy", 10 * UNIT).status == "included"
    assert chain.balance(5) == 20_000 * UNIT + 3 * UNIT and chain.btc(5) == 0


def test_cancel_refunds_exactly_and_only_the_owner_cancels_an_open_order(chain):
    chain.deposit(1, BTC)
    before_btc, before_ait = chain.btc(1), chain.balance(2)
    chain.limit(1, "buy", 3 * UNIT, 1_234)  # order 1: locks 3,702 sat
    chain.limit(2, "sell", 5 * UNIT, 2_000)  # order 2
    assert chain.btc(1) == before_btc - 3_702
    assert chain.cancel(2, 1).code == "not_order_owner"
    assert chain.cancel(1, 99).code == "order_not_found"
    assert chain.cancel(1, 1).status == "included" and chain.btc(1) == before_btc
    assert chain.cancel(1, 1).code == "order_closed"
    assert chain.cancel(2, 2).status == "included" and chain.balance(2) == before_ait
    assert chain.order(1)["cancelled"] == 3 * UNIT and chain.order(2)["cancelled"] == 5 * UNIT
    assert (
        book.best_price(chain.node.state, "buy") is None and book.best_price(chain.node.state, "sell") is None
    )
    # a partly filled order cancels its rest only
    chain.limit(2, "sell", 5 * UNIT, 1_000)  # order 3
    chain.limit(1, "buy", 2 * UNIT, 1_000)  # order 4
    chain.cancel(2, 3)
    order = chain.order(3)
    assert (order["filled"], order["cancelled"], order["remaining"]) == (2 * UNIT, 3 * UNIT, 0)
    assert chain.cancel(1, 4).code == "order_closed"  # filled


def test_the_taker_pays_the_fee_to_the_treasury(fee_chain):
    chain = fee_chain
    chain.deposit(1, BTC)
    chain.limit(2, "sell", 10 * UNIT, 1_000)  # maker: no fee
    chain.limit(1, "buy", 10 * UNIT, 1_000)  # taker buy: 10,000 sat + 1% = 100 sat
    assert chain.btc(1) == BTC - 10_100 and chain.btc(2) == 10_000 and chain.treasury_btc() == 100
    chain.limit(1, "buy", 10 * UNIT, 1_000)  # rests: locks 10,000 + 100
    assert chain.btc(1) == BTC - 20_200
    chain.limit(3, "sell", 10 * UNIT, 900)  # taker sell at the bid 1,000: pays 100 of its proceeds
    assert chain.btc(3) == 9_900 and chain.treasury_btc() == 200
    assert chain.btc(1) == BTC - 20_100  # the maker's unused fee reserve came back


def test_a_pause_stops_orders_and_buys_but_not_cancels(chain):
    chain.deposit(1, BTC)
    chain.limit(1, "buy", UNIT, 1_000)
    chain.limit(2, "sell", UNIT, 2_000)
    proposal = enact(chain, "emergency", {"module": "exchange", "action": "pause"})
    assert execute(chain, proposal)[0].status == "included"
    for status in (
        chain.limit(2, "sell", UNIT, 900),
        chain.market(2, "sell", UNIT),
        chain.do(1, "exchange_buy", {"btc": 100}),
    ):
        assert status.status == "failed" and status.code == "module_paused"
    assert chain.cancel(1, 1).status == "included" and chain.btc(1) == BTC
    assert chain.cancel(2, 2).status == "included"
    resume = enact(chain, "emergency", {"module": "exchange", "action": "resume"})
    assert execute(chain, resume)[0].status == "included"
    assert chain.limit(2, "sell", UNIT, 900).status == "included"


def test_agent_trading_limits_count_exchange_orders(tmp_path):
    chain = AgentChain(tmp_path / "agents.sqlite", exchange_genesis())
    chain.register(chain.now + 1, 0, "consumer", owner=1)
    agent = AGENTS[0]
    chain.send(chain.now + 1, 1, "transfer", {"to": agent, "amount": 1_000 * UNIT})
    chain.send(chain.now + 1, 0, "btc_deposit", {"to": agent, "amount": BTC})
    proposal = enact(chain, "agent-trading", {"max_order": 100 * UNIT, "max_daily_volume": 150 * UNIT})
    execute(chain, proposal)
    day = (chain.now // 86_400 + 1) * 86_400

    def order(at, side, size):
        payload = {"side": side, "type": "limit", "size": size, "price": 1_000}
        return chain.agent_send(at, 0, "exchange_order", payload)

    big = order(day, "sell", 101 * UNIT)
    assert big.code == "agent_trading_limit" and "max_order" in big.reason
    assert order(day + 1, "sell", 100 * UNIT).status == "included"
    # a transfer and the exchange share one daily volume
    over = chain.agent_send(day + 2, 0, "transfer", {"to": ADDRESSES[5], "amount": 51 * UNIT})
    assert over.code == "agent_trading_limit"
    assert order(day + 3, "buy", 50 * UNIT).status == "included"
    assert order(day + 4, "buy", 1).code == "agent_trading_limit"
    # the agent buys from the treasury too: its AIT counts
    assert chain.agent_send(day + 5, 0, "exchange_buy", {"btc": 1}).code == "agent_trading_limit"
    assert (
        chain.send(
            day + 6,
            1,
            "exchange_order",
            {"side": "sell", "type": "limit", "size": 500 * UNIT, "price": 1_000},
        ).status
        == "included"
    )  # people: no limit
    assert AGENT_KEYS  # the agent signs with its own key


# --- bad input changes nothing -----------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"side": "buy", "type": "limit", "size": 0, "price": 1_000},
        {"side": "buy", "type": "limit", "size": -5, "price": 1_000},
        {"side": "sell", "type": "limit", "size": UNIT, "price": 0},
        {"side": "sell", "type": "limit", "size": UNIT, "price": -1},
        {"side": "sell", "type": "limit", "size": UNIT},
        {"side": "sell", "type": "market", "size": 0},
        {"side": "sell", "type": "market", "size": UNIT, "price": 5},
        {"side": "hold", "type": "limit", "size": UNIT, "price": 5},
        {"side": "buy", "type": "stop", "size": UNIT, "price": 5},
    ],
)
def test_bad_orders_are_refused_at_admission(chain, payload):
    before = snapshot(chain)
    tx = chain.tx(1, "exchange_order", payload)
    with pytest.raises(InvalidPayload):
        chain.node.check_tx(tx)
    chain.block(chain.next_time())
    assert snapshot(chain) == before


@pytest.mark.parametrize(
    ("tx_type", "payload"),
    [
        ("exchange_buy", {"btc": 0}),
        ("btc_deposit", {"to": ADDRESSES[1], "amount": -1}),
        ("exchange_cancel", {"order": 0}),
    ],
)
def test_bad_amounts_and_ids_are_refused_at_admission(chain, tx_type, payload):
    with pytest.raises(InvalidPayload):
        chain.node.check_tx(chain.tx(0, tx_type, payload))


def test_selling_more_than_held_changes_nothing(chain):
    chain.deposit(5, BTC)
    before = snapshot(chain)
    oversell = chain.tx(
        5, "exchange_order", {"side": "sell", "type": "limit", "size": 20_001 * UNIT, "price": 1}
    )
    with pytest.raises(InsufficientFunds):  # the mempool counts a sell's AIT as spent
        chain.node.check_tx(oversell)
    chain.nonces[5] -= 1
    overbuy = chain.limit(5, "buy", 200 * UNIT, 1_000_000)  # 200,000,000 sat > 1 BTC held
    assert overbuy.status == "failed" and overbuy.code == "insufficient_funds"
    overbuy_btc = chain.do(5, "exchange_buy", {"btc": BTC + 1})
    assert overbuy_btc.code == "insufficient_funds"
    assert snapshot(chain) == before
