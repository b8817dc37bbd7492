"""A bot's risk rules on a real devnet: the kill switch flattens on chain and stops it, a stop-loss
exits a paper position at the real book, and the DAO's agent-trading limit refuses an over-limit
bot order (the bot says why)."""

from __future__ import annotations

import json

import pytest

from tests.trading.bots_market import PASSWORD, SAT, UNIT, DevMarket

DAY = 86_400


@pytest.fixture
def market(daemon):
    with daemon.client(timeout=60.0) as client:
        yield DevMarket(client)


def newest(market, name):
    market.client.bots_tick()
    return market.client.bot_analytics(name).decisions


def live_bot(market, name="risky", **body):
    request = {
        "name": name,
        "strategy": "momentum",
        "params": {"period": 1},
        "wallet": "owner",
        "password": PASSWORD,
        "fund_ait": 10 * UNIT,
        "fund_btc": SAT // 100,
        **body,
    }
    return market.client.bot_start(request)


def test_kill_switch_flattens_on_chain_and_stops_the_bot(market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    bot = live_bot(market, max_drawdown=20)
    assert [d.action for d in newest(market, "risky")] == ["buy"]
    held = market.client.bot("risky")
    assert held.position == "long" and held.max_drawdown == 0.2
    market.trade(500)  # the price crashes in the same candle ...
    market.order("taker", "buy", 2000, 500)  # ... and someone bids there
    market.close_candle()
    actions = newest(market, "risky")
    assert [d.action for d in actions[:2]] == ["kill", "sell"], actions
    status = market.client.bot("risky")
    assert status.state == "killed" and status.reason.startswith("max drawdown hit: equity")
    assert status.position == "flat" and status.ait == 10 * UNIT  # what it bought is sold, fee AIT kept
    sold = [t for t in market.trades() if t.seller == bot.address]
    assert sold and all(t.price == 500 for t in sold)
    analytics = market.client.bot_analytics("risky")
    assert [f.side for f in analytics.trades] == ["buy", "sell"] and analytics.realised_pnl < 0
    market.candles(900, 1000)  # a killed bot trades no more
    assert newest(market, "risky")[0].action == "kill"


def test_stop_loss_exits_a_paper_position_at_the_real_book(market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 1000, 1200)
    market.client.bot_start(
        {
            "name": "careful",
            "strategy": "momentum",
            "params": {"period": 1},
            "paper": True,
            "paper_btc": SAT // 100,
            "stop_loss": 10,
        }
    )
    assert [d.action for d in newest(market, "careful")] == ["buy"]
    market.trade(1000)  # opens below the stop (1080): gaps through it
    market.order("taker", "buy", 2000, 990)
    market.close_candle()
    latest = newest(market, "careful")[0]
    assert latest.action == "stop_loss" and latest.reason.startswith("stop-loss at 1000 sat/AIT"), latest
    status = market.client.bot("careful")
    assert status.position == "flat" and status.state == "running" and status.ait == 0
    fills = market.client.bot_analytics("careful").trades
    assert [(f.side, round(f.price)) for f in fills] == [("buy", 1200), ("sell", 990)]


def test_governed_agent_trading_limit_refuses_an_over_limit_bot_order(governance_cli, daemon):
    cli = governance_cli

    def ok(*args):
        result = cli(*args, "--json")
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout)

    proposed = ok(
        "dao",
        "propose",
        "--type",
        "agent-trading",
        "--title",
        "limit bots",
        "--max-order",
        "100",
        "--max-daily-volume",
        "1000",
        "--from",
        "dev1",
    )
    ok("chain", "advance", "--seconds", str(DAY))
    ok("dao", "vote", str(proposed["proposal"]), "for", "--from", "dev1")
    ok("chain", "advance", "--seconds", str(7 * DAY))
    ok("dao", "queue", str(proposed["proposal"]), "--from", "dev2")
    ok("chain", "advance", "--seconds", str(2 * DAY))
    assert ok("dao", "execute", str(proposed["proposal"]), "--from", "dev2")["status"] == "included"

    with daemon.client(timeout=60.0) as client:
        market = DevMarket(client)
        market.candles(1000, 1100)
        market.order("maker", "sell", 1000, 1200)
        bot = live_bot(market)  # wants about 830 AIT: over the 100 AIT max_order
        (decision,) = newest(market, "risky")
        assert decision.action == "refused" and "max_order" in decision.error, decision
        status = client.bot("risky")
        assert status.state == "running" and status.position == "flat"
        assert status.reason.startswith("order refused:") and "max_order" in status.reason
        assert not [t for t in market.trades() if t.buyer == bot.address]


def test_take_profit_exits_inside_a_candle_and_waits_for_the_strategy_to_go_flat(market):
    market.candles(1000, 1100)
    market.order("maker", "sell", 5, 1200)
    market.client.bot_start(
        {
            "name": "greedy",
            "strategy": "momentum",
            "params": {"period": 1},
            "paper": True,
            "paper_btc": 5_000,
            "take_profit": 10,
        }
    )
    assert [d.action for d in newest(market, "greedy")] == ["buy"]
    market.order("taker", "buy", 5, 1200)  # the candle opens at 1200 ...
    market.trade(1400)  # ... and trades through the take-profit level (1320)
    market.order("taker", "buy", 100, 1350)
    market.close_candle()
    latest = newest(market, "greedy")[0]
    assert latest.action == "take_profit" and latest.reason.startswith("take-profit at 1320 sat/AIT"), latest
    analytics = market.client.bot_analytics("greedy")
    assert [(f.side, round(f.price)) for f in analytics.trades] == [("buy", 1200), ("sell", 1350)]
    assert analytics.realised_pnl > 0 and analytics.position == "flat"
    market.candles(1500)  # still rising: the strategy says long, but it exited on a take-profit
    latest = newest(market, "greedy")[0]
    assert latest.action == "hold" and "go flat after a stop" in latest.reason
