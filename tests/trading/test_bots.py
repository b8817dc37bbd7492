"""Live bots against a real devnet daemon: real orders from dev-funded wallets make the market,
the bot's orders and fills are real chain transactions (or, on paper, simulated against the real
book), and the devnet clock (`chain advance`) closes the candles it decides on."""

from __future__ import annotations

import pytest

from aitbc_daemon.client import ApiError
from tests.conftest import start_daemon
from tests.trading.bots_market import CHAIN, PASSWORD, SAT, UNIT, DevMarket

MOMENTUM = {"period": 1}  # long while the last candle closed above the one before: 2 bars suffice


@pytest.fixture
def market(daemon):
    with daemon.client(timeout=60.0) as client:
        yield DevMarket(client)


def start(dev, name="bot1", **body):
    request = {
        "name": name,
        "strategy": "momentum",
        "params": MOMENTUM,
        "wallet": "owner",
        "password": PASSWORD,
        "fund_ait": 10 * UNIT,
        "fund_btc": SAT // 100,
        **body,
    }
    return dev.client.bot_start(request)


def decisions(market, name="bot1"):
    market.client.bots_tick()  # waits for a background pass in progress; decides now otherwise
    return market.client.bot_analytics(name).decisions  # newest first


def test_live_bot_buys_on_chain_when_its_strategy_says_so(market):
    market.candles(1000, 1100)  # a rise: momentum(1) is long
    market.order("maker", "sell", 1000, 1200)  # liquidity for the bot to take
    bot = start(market)
    assert bot.mode == "live" and bot.state == "running" and bot.address and len(bot.txs) == 3
    onchain = market.client.chain_agent(CHAIN, bot.address)
    assert onchain.role == "trader" and onchain.owner == market.address["owner"] and onchain.points == 0
    latest = decisions(market)
    assert [d.action for d in latest] == ["buy"], latest
    status = market.client.bot("bot1")
    assert status.position == "long" and status.entry_price == 1200 and status.reason is None
    mine = [t for t in market.trades() if t.buyer == bot.address]
    assert mine and all(t.price == 1200 and t.taker == "buy" for t in mine)
    bought = sum(t.size for t in mine)
    paid = sum(t.quote + t.fee for t in mine)
    assert status.ait == 10 * UNIT + bought and status.btc == SAT // 100 - paid
    assert paid <= SAT // 100 and bought > 800 * UNIT  # size 1.0: about all its BTC, fee included
    analytics = market.client.bot_analytics("bot1")
    assert [(f.side, f.size, f.price) for f in analytics.trades] == [("buy", bought, 1200)]
    assert analytics.position == "long" and analytics.exposure_pct > 90
    # nothing new closed: another pass decides nothing
    assert len(decisions(market)) == 1


def test_paper_bot_fills_against_the_real_book_without_changing_it(market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 5, 1200)
    market.order("maker", "sell", 1000, 1300)
    book_before, trades_before = market.book(), market.trades()
    bot = market.client.bot_start(
        {"name": "paper1", "strategy": "momentum", "params": MOMENTUM, "paper": True, "paper_btc": SAT // 100}
    )
    assert bot.mode == "paper" and bot.address is None and bot.txs == []
    assert [d.action for d in decisions(market, "paper1")] == ["buy"]
    assert market.book() == book_before and market.trades() == trades_before  # walked, never consumed
    fill = market.client.bot_analytics("paper1").trades[0]
    # 5 AIT at 1200, the rest at 1300, with the exchange's 0.3% taker fee on top
    assert fill.side == "buy" and fill.size > 5 * UNIT and 1200 < fill.price < 1300
    assert fill.fee == fill.quote * 30 // 10_000 and fill.quote + fill.fee <= SAT // 100
    status = market.client.bot("paper1")
    assert (status.ait, status.btc) == (fill.size, SAT // 100 - fill.quote - fill.fee)


def test_paper_bot_waits_on_an_empty_book_side(market):
    market.candles(1000, 1100)  # every trade took its ask: no asks are left
    market.client.bot_start(
        {"name": "paper2", "strategy": "momentum", "params": MOMENTUM, "paper": True, "paper_btc": SAT}
    )
    (decision,) = decisions(market, "paper2")
    assert decision.action == "wait" and "no asks on the book" in decision.reason
    assert market.client.bot("paper2").state == "running"
    assert [d.action for d in decisions(market, "paper2")] == ["wait"]  # still empty: no new decision
    # an ask arrives but nothing trades, so no candle closes: the bot retries its decision anyway
    market.order("maker", "sell", 10, 1150)
    latest = decisions(market, "paper2")
    assert [d.action for d in latest] == ["buy", "wait"] and "asks are back" in latest[0].reason
    assert market.client.bot("paper2").position == "long"


def test_waiting_for_data_until_the_lookback_is_covered(market):
    market.candles(1000)
    bot = market.client.bot_start(
        {"name": "slow", "strategy": "momentum", "params": {"period": 3}, "paper": True, "paper_btc": SAT}
    )
    assert bot.bars_needed == 4
    (decision,) = decisions(market, "slow")
    assert decision.action == "wait" and decision.reason == "waiting for data: 1 of 4 bars"
    assert market.client.bot("slow").waiting == "waiting for data: 1 of 4 bars"


def test_wallet_runs_dry_stops_the_bot_instead_of_sending(market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    bot = start(market, fund_btc=0)
    height = market.client.chain_status(CHAIN).height
    (decision,) = decisions(market)
    assert decision.action == "stop"
    status = market.client.bot("bot1")
    assert status.state == "stopped"
    assert (
        status.reason == "wallet ran dry: needs at least 1 satoshi to buy 1 AIT unit at 1200 sat/AIT, has 0"
    )
    assert market.client.chain_status(CHAIN).height == height  # nothing was sent
    assert not [t for t in market.trades() if bot.address in (t.buyer, t.seller)]


def test_bad_input_is_refused_and_creates_nothing(market, daemon):
    client = market.client
    cases = [
        ({"strategy": "nope"}, "unknown_strategy"),
        ({"params": {"period": 0}}, "param_out_of_range"),
        ({"params": {"speed": 2}}, "unknown_param"),
        ({"wallet": "ghost"}, "wallet_not_found"),
        ({"password": "wrong"}, "wrong_password"),
        ({"interval": "7m"}, "bad_interval"),
        ({"market": "AAPL"}, "unknown_market"),
        ({"fund_btc": 10 * SAT}, "insufficient_funds"),
    ]
    height = client.chain_status(CHAIN).height
    for change, code in cases:
        with pytest.raises(ApiError) as refused:
            start(market, name="bad", **change)
        assert refused.value.code == code, (change, refused.value)
    assert client.bots().bots == [] and client.chain_status(CHAIN).height == height
    assert not (daemon.paths.data_dir / "bots" / "bad.key").exists()


def test_stop_withdraw_returns_the_funds_to_the_owner(market):
    bot = start(market, fund_ait=20 * UNIT, fund_btc=SAT // 10)
    owner = market.client.exchange_balance(CHAIN, market.address["owner"])
    with pytest.raises(ApiError) as wrong:
        market.client.bot_stop("bot1", withdraw=True, password="wrong")
    assert wrong.value.code == "wrong_password" and market.client.bot("bot1").state == "running"
    stopped = market.client.bot_stop("bot1", withdraw=True, password=PASSWORD)
    assert stopped.state == "stopped" and stopped.reason == "stopped by its owner" and len(stopped.txs) == 2
    after = market.client.exchange_balance(CHAIN, market.address["owner"])
    assert after.btc == owner.btc + SAT // 10 and after.ait == owner.ait + 20 * UNIT
    left = market.client.exchange_balance(CHAIN, bot.address)
    assert (left.ait, left.btc) == (0, 0)
    assert decisions(market) == []  # a stopped bot decides nothing, even on new candles
    market.candles(1000, 1100)
    assert decisions(market) == []


def test_bot_survives_a_daemon_restart_without_repeating_a_decision(market, daemon, aitbc_home):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    bot = start(market)
    assert [d.action for d in decisions(market)] == ["buy"]
    market.client.close()
    assert daemon.stop() == 0
    again = start_daemon(aitbc_home)
    try:
        with again.client(timeout=60.0) as client:
            market.client = client
            assert [d.action for d in decisions(market)] == ["buy"]  # the same candle is not decided again
            status = client.bot("bot1")
            assert (status.state, status.position, status.address) == ("running", "long", bot.address)
            # the candle of the bot's own buy (at 1200, above 1100) closes: the devnet clock runs on
            # from where it stood before the restart, so one minute is enough
            market.close_candle()
            assert [d.action for d in decisions(market)] == ["hold", "buy"]
            assert len([t for t in market.trades() if t.buyer == bot.address]) >= 1
            assert len(client.bot_analytics("bot1").trades) == 1
    finally:
        again.stop()


def test_trading_bot_events_tell_a_live_screen_what_happened(market, daemon):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    with daemon.client() as listener, listener.events(["trading.bot"]) as stream:
        market.client.bot_start(
            {
                "name": "loud",
                "strategy": "momentum",
                "params": MOMENTUM,
                "paper": True,
                "paper_btc": SAT // 100,
            }
        )
        market.client.bots_tick()
        seen = [next(stream) for _ in range(3)]
    assert {e.topic for e in seen} == {"trading.bot"}
    assert [(e.data["bot"], e.data["kind"]) for e in seen] == [
        ("loud", "start"),
        ("loud", "fill"),
        ("loud", "decision"),
    ]
    fill, decision = seen[1].data, seen[2].data
    assert fill["side"] == "buy" and fill["size"] > 0 and fill["price"] > 1200 - 1
    assert decision["action"] == "buy" and decision["target"] == 1.0 and decision["state"] == "running"


def test_on_an_interval_mined_chain_a_pending_order_is_settled_before_deciding_again(aitbc_home):
    """With blocks every hour (mined here on demand), the bot's order waits in the mempool: the bot
    decides nothing more until its block is in, then accounts the fill it got."""
    slow = start_daemon(aitbc_home, "--block-time", "3600")
    try:
        with slow.client(timeout=60.0) as client:
            market = DevMarket(client, interval_mined=True)
            market.candles(1000, 1100)
            market.order("maker", "sell", 1000, 1200)
            start(market)
            market.mine()  # funding and registration
            (sent,) = decisions(market)
            assert sent.action == "order" and sent.tx and client.bot("bot1").position == "flat"
            assert [d.action for d in decisions(market)] == ["order"]  # still pending: nothing more
            market.close_candle()  # the block with the order (its trade is in this new minute)
            assert [d.action for d in decisions(market)] == ["buy", "order"]
            status = client.bot("bot1")
            assert status.position == "long" and status.entry_price == 1200
            assert [f.tx for f in client.bot_analytics("bot1").trades] == [sent.tx]
            market.close_candle()  # the minute of its trade closes: decided once, no second order
            assert [d.action for d in decisions(market)] == ["hold", "buy", "order"]
    finally:
        slow.stop()
