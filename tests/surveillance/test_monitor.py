"""The surveillance monitor against a real devnet daemon: real orders, trades and transfers from
dev-funded wallets; alerts read back through the API after `tick` (a pass over committed blocks)."""

from __future__ import annotations

import pytest

from tests.conftest import start_daemon
from tests.surveillance.market import SurvMarket


@pytest.fixture
def market(daemon):
    with daemon.client(timeout=60.0) as client:
        client.surveillance_start()
        yield SurvMarket(client)


def by_type(alerts, kind):
    return [a for a in alerts if a["type"] == kind]


def test_self_trade_raises_wash_alert_with_its_evidence(market):
    trade = market.trade("alice", "alice")
    alerts = market.alerts()
    [alert] = by_type(alerts, "wash.self_trade")
    assert alert["severity"] == "high"
    assert alert["wallets"] == [market.address["alice"]]
    assert alert["evidence"]["trades"] == [trade.id]
    assert alert["evidence"]["orders"] == sorted([trade.buy_order, trade.sell_order])
    assert alert["market"] == "AITBC/BTC" and alert["height"] == trade.height


def test_circular_trade_between_funding_linked_wallets(market):
    funding = market.fund("alice", "bob")
    first = market.trade("alice", "bob")
    second = market.trade("bob", "alice")
    linked = by_type(market.alerts(), "wash.linked_trade")
    assert [a["severity"] for a in linked] == ["medium", "high"]
    assert linked[0]["evidence"]["txs"] == [funding]
    assert linked[1]["evidence"]["trades"] == sorted([first.id, second.id])
    assert sorted(linked[1]["wallets"]) == sorted([market.address["alice"], market.address["bob"]])


def test_normal_trading_between_unlinked_wallets_raises_nothing(market):
    for price in (1000, 1010, 990, 1005):
        market.trade("alice", "bob", price)
        market.trade("bob", "carol", price)
    assert market.alerts() == []
    status = market.client.surveillance_status()
    assert status["running"] and status["lag"] == 0
    assert status["window"]["trades"] == 8
    assert all(d["errors"] == 0 for d in status["detectors"])


def test_empty_market_and_single_trade_raise_nothing(market):
    assert market.alerts() == []
    market.order("alice", "sell", 1, 1000)  # an order that never trades
    assert market.alerts() == []
    market.trade("alice", "bob")
    assert market.alerts() == []


def spoof(market, wallet="alice", times=3):
    """Large buys 10% under the touch, cancelled at once; returns (order ids, cancel hashes)."""
    ids, cancels = [], []
    for _ in range(times):
        order = market.order(wallet, "buy", 20, 900)
        ids.append(order.id)
        cancels.append(market.cancel(wallet, order.id))
    return ids, cancels


def test_repeated_cancelled_orders_away_from_touch_raise_spoofing(market):
    trades = [market.trade("alice", "bob").id for _ in range(2)]  # alice sells: the other side
    ids, cancels = spoof(market)
    [alert] = by_type(market.alerts(), "spoofing.layering")
    assert alert["wallets"] == [market.address["alice"]]
    assert alert["evidence"]["orders"] == ids
    assert alert["evidence"]["txs"] == cancels
    assert alert["evidence"]["trades"] == trades


def test_cancels_near_the_touch_are_not_spoofing(market):
    market.trade("alice", "bob")
    for _ in range(3):
        order = market.order("alice", "buy", 20, 995)  # within 2% of the touch
        market.cancel("alice", order.id)
    assert by_type(market.alerts(), "spoofing.layering") == []


def test_restart_resumes_without_duplicates_and_backfill_finds_the_same(aitbc_home):
    daemon = start_daemon(aitbc_home)
    try:
        with daemon.client(timeout=60.0) as client:
            client.surveillance_start()
            market = SurvMarket(client)
            market.trade("alice", "alice")
            market.trade("alice", "bob")
            spoof(market)
            before = market.alerts()
            height = client.surveillance_status()["processed_height"]
    finally:
        daemon.stop()
    assert {a["type"] for a in before} == {"wash.self_trade", "spoofing.layering"}
    daemon = start_daemon(aitbc_home)
    try:
        with daemon.client(timeout=60.0) as client:
            market = SurvMarket.__new__(SurvMarket)
            market.client, market.address = client, {}
            status = client.surveillance_status()
            assert status["running"] and status["processed_height"] >= height
            ids, _ = spoof(market)  # a second round: a new alert, the old ones not repeated
            after = market.alerts()
            assert after[: len(before)] == before
            assert len(after) == len(before) + 1 and after[-1]["evidence"]["orders"] == ids
            client.surveillance_start(from_height=0)
            assert market.alerts() == after  # backfill from 0: the same alerts, none twice
            assert client.surveillance_status()["lag"] == 0
    finally:
        daemon.stop()
    # A fresh store backfilled from height 0 finds the same alerts from the chain alone.
    for suffix in ("", "-wal", "-shm"):
        (daemon.paths.data_dir / f"surveillance.db{suffix}").unlink(missing_ok=True)
    daemon = start_daemon(aitbc_home)
    try:
        with daemon.client(timeout=60.0) as client:
            assert client.surveillance_status()["processed_height"] == 0
            client.surveillance_start(from_height=0)
            client.surveillance_tick()
            rebuilt = client.surveillance_alerts()["alerts"]
    finally:
        daemon.stop()
    same = ("type", "severity", "wallets", "evidence", "height")
    assert [{k: a[k] for k in same} for a in rebuilt] == [{k: a[k] for k in same} for a in after]


def test_alerts_are_published_on_the_event_stream(market):
    with market.client.events(["surveillance.alert"]) as stream:
        trade = market.trade("bob", "bob")
        market.client.surveillance_tick()
        event = next(stream)
    assert event.topic == "surveillance.alert"
    assert event.data["type"] == "wash.self_trade" and event.data["evidence"]["trades"] == [trade.id]
    assert event.data["wallets"] == [market.address["bob"]] and event.data["severity"] == "high"


def test_stopped_monitor_processes_nothing_until_started_again(market):
    market.client.surveillance_stop()
    market.trade("carol", "carol")
    assert market.alerts() == []
    assert market.client.surveillance_status()["lag"] > 0
    market.client.surveillance_start()
    assert [a["type"] for a in market.alerts()] == ["wash.self_trade"]
