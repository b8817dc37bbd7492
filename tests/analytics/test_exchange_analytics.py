"""`aitbc analytics market-data --symbol AITBC/BTC` and `analytics performance` on a real devnet
daemon, from trades made through `aitbc exchange`, checked against hand-computed numbers."""

from __future__ import annotations

import json
import math
import statistics

import pytest

DAY = 86_400
UNIT = 10**6


@pytest.fixture
def traders(cli, daemon, monkeypatch):
    """alice and bob, 500 AIT and 1 BTC each, on a fresh devnet."""
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    for name in ("alice", "bob"):
        assert cli("wallet", "create", name).exit_code == 0
        assert cli("wallet", "faucet", name, "--amount", "500").exit_code == 0
        assert cli("exchange", "faucet-btc", "--wallet", name, "--amount", "1").exit_code == 0
    return cli


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def order(cli, wallet, side, size, price):
    args = ("exchange", "order", side, str(size), "--price", str(price), "--from", wallet, "--json")
    placed = as_json(cli(*args))
    assert placed["status"] == "included", placed


def trades(cli):
    return as_json(cli("exchange", "trades", "--limit", "100", "--json"))["trades"]


def advance_a_day(cli):
    assert cli("chain", "advance", "--seconds", str(DAY)).exit_code == 0


def to_start_of_a_day(cli):
    """Move the devnet clock to a minute past the next UTC midnight, so a test's trades of one day
    never straddle midnight (the devnet clock is the wall clock plus advances)."""
    head = as_json(cli("chain", "status", "--json"))["head_time"]
    assert cli("chain", "advance", "--seconds", str(DAY - head % DAY + 60)).exit_code == 0


def test_exchange_candles_match_hand_computed_ohlcv(traders):
    cli = traders
    empty = as_json(cli("analytics", "market-data", "--symbol", "AITBC/BTC", "--json"))
    assert (empty["total"], empty["bars"], empty["source"]) == (0, [], "exchange:ait-devnet")
    assert "no exchange trades yet on ait-devnet" in empty["message"]
    human = cli("analytics", "market-data", "--symbol", "AITBC/BTC")
    assert human.exit_code == 0 and "no exchange trades yet" in human.stdout

    to_start_of_a_day(cli)
    order(cli, "bob", "sell", 10, 2000)
    order(cli, "alice", "buy", 4, 2500)  # (2000, 4)
    order(cli, "bob", "sell", 5, 1800)
    order(cli, "alice", "buy", 7, 2000)  # (1800, 5) then (2000, 2), in one block
    advance_a_day(cli)
    order(cli, "alice", "buy", 4, 2000)  # (2000, 4): bob's first order is done
    order(cli, "bob", "sell", 2, 2600)
    order(cli, "alice", "buy", 2, 2600)  # (2600, 2)
    made = trades(cli)
    assert [(t["price"], t["size"] // UNIT) for t in made] == [
        (2000, 4),
        (1800, 5),
        (2000, 2),
        (2000, 4),
        (2600, 2),
    ]

    # Hand-computed: per UTC day, open/close the first/last trade, high/low the extremes, volume in AIT.
    day = [t["timestamp"] // DAY * DAY for t in made]
    assert day[0] == day[1] == day[2] and day[3] == day[4] > day[2]
    expected = [
        {"timestamp": day[0], "open": 2000.0, "high": 2000.0, "low": 1800.0, "close": 2000.0, "volume": 11.0},
        {"timestamp": day[3], "open": 2000.0, "high": 2600.0, "low": 2000.0, "close": 2600.0, "volume": 6.0},
    ]
    candles = as_json(cli("analytics", "market-data", "--symbol", "AITBC/BTC", "--interval", "1d", "--json"))
    assert candles["bars"] == expected and candles["total"] == 2
    assert (candles["symbol"], candles["price_unit"], candles["volume_unit"]) == (
        "AITBC/BTC",
        "satoshi per AIT",
        "AIT",
    )
    last = as_json(cli("analytics", "market-data", "--symbol", "aitbc/btc", "--limit", "1", "--json"))
    assert last["bars"] == expected[1:] and last["total"] == 2

    minutes = as_json(cli("analytics", "market-data", "--symbol", "AITBC/BTC", "--interval", "1m", "--json"))
    by_minute: dict[int, list[dict]] = {}
    for t in made:
        by_minute.setdefault(t["timestamp"] // 60 * 60, []).append(t)
    assert [b["timestamp"] for b in minutes["bars"]] == sorted(by_minute)
    assert [b["volume"] for b in minutes["bars"]] == [
        sum(t["size"] for t in group) / UNIT for _, group in sorted(by_minute.items())
    ]

    table = cli("analytics", "market-data", "--symbol", "AITBC/BTC")
    assert table.exit_code == 0
    assert "price in satoshi per AIT, volume in AIT" in table.stdout and "2,600.0000" in table.stdout
    bad = cli("analytics", "market-data", "--symbol", "AITBC/BTC", "--interval", "2m", "--json")
    assert bad.exit_code == 1 and bad.stdout == "" and "unknown interval '2m'" in bad.stderr


def test_wallet_performance_from_its_trades(traders):
    cli = traders
    to_start_of_a_day(cli)
    order(cli, "bob", "sell", 10, 2000)
    order(cli, "alice", "buy", 10, 2000)  # alice takes: 20,000 sat + 60 fee (0.3%)
    advance_a_day(cli)
    order(cli, "alice", "sell", 4, 3000)
    order(cli, "bob", "buy", 4, 3000)  # bob takes: fee 36
    advance_a_day(cli)
    order(cli, "alice", "sell", 2, 1500)
    order(cli, "bob", "buy", 2, 1500)  # bob takes: fee 9
    made = trades(cli)
    assert [(t["price"], t["size"] // UNIT, t["quote"], t["fee"]) for t in made] == [
        (2000, 10, 20_000, 60),
        (3000, 4, 12_000, 36),
        (1500, 2, 3_000, 9),
    ]

    alice = as_json(cli("analytics", "performance", "--wallet", "alice", "--json"))
    # Average cost 2,000: 4 sold at 3,000 (+4,000), 2 at 1,500 (-1,000), 60 fee; 4 left marked at 1,500.
    assert alice["trades"] == 3 and alice["fees"] == 60
    assert (alice["bought"], alice["sold"], alice["position"]) == (10.0, 6.0, 4.0)
    assert alice["average_cost"] == pytest.approx(2000.0) and alice["mark_price"] == 1500
    assert alice["realised_pnl"] == pytest.approx(2940.0)
    assert alice["unrealised_pnl"] == pytest.approx(-2000.0)
    assert alice["total_pnl"] == pytest.approx(940.0)
    assert alice["capital"] == pytest.approx(20_000.0)
    assert alice["total_return"] == pytest.approx(940 / 20_000)

    # Equity = 20,000 + PnL at each day's close: 19,940, 29,940, 20,940 (a day without trades repeats).
    days = [t["timestamp"] // DAY for t in made]
    assert days == [days[0], days[0] + 1, days[0] + 2]
    equity = [19_940.0, 29_940.0, 20_940.0]
    returns = [e / p - 1 for e, p in zip(equity, [20_000.0, *equity[:-1]], strict=True)]
    curve = alice["curve"]
    assert [p["timestamp"] for p in curve] == [d * DAY for d in days]
    assert [p["equity"] for p in curve] == pytest.approx(equity)
    assert [p["ret"] for p in curve] == pytest.approx(returns)
    assert alice["max_drawdown"] == pytest.approx(9_000 / 29_940)
    assert alice["periods_per_year"] == 365
    mean = statistics.fmean(returns)
    assert alice["sharpe"] == pytest.approx(mean / statistics.stdev(returns) * math.sqrt(365))
    downside = math.sqrt(statistics.fmean(min(r, 0.0) ** 2 for r in returns))
    assert alice["sortino"] == pytest.approx(mean / downside * math.sqrt(365))

    # bob, the other side: short 10 at 2,000, bought 6 back (-4,000 + 1,000), 45 in fees; -4 marked at 1,500.
    address = as_json(cli("wallet", "address", "bob", "--json"))["address"]
    bob = as_json(cli("analytics", "performance", "--wallet", address, "--json"))
    assert (bob["position"], bob["fees"]) == (-4.0, 45)
    assert bob["realised_pnl"] == pytest.approx(-3045.0)
    assert bob["unrealised_pnl"] == pytest.approx(2000.0)
    assert bob["total_pnl"] == pytest.approx(-1045.0)

    human = cli("analytics", "performance", "--wallet", "alice")
    assert human.exit_code == 0
    assert "2,940.00" in human.stdout and "Sharpe" in human.stdout and "sqrt(365)" in human.stdout


def test_performance_of_a_wallet_without_trades_is_zero_and_says_so(traders):
    cli = traders
    found = as_json(cli("analytics", "performance", "--wallet", "alice", "--json"))
    assert (found["trades"], found["total_pnl"], found["curve"]) == (0, 0.0, [])
    assert found["sharpe"] is None and found["mark_price"] is None
    assert found["message"].startswith("no exchange trades by ait1")
    human = cli("analytics", "performance", "--wallet", "alice")
    assert human.exit_code == 0 and "no exchange trades by" in human.stdout
    other = cli("analytics", "performance", "--wallet", "alice", "--symbol", "AAPL", "--json")
    assert other.exit_code == 1 and other.stdout == "" and "symbol AITBC/BTC" in other.stderr
    unknown = cli("analytics", "performance", "--wallet", "nobody", "--json")
    assert unknown.exit_code == 1 and unknown.stderr.count("\n") == 1
