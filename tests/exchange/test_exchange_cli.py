"""`aitbc exchange` against a real devnet daemon: bridged BTC, a buy at the rate, orders that
cross, the book, trades, cancel, and bad input refused in one line with nothing changed."""

from __future__ import annotations

import json

import pytest

from aitbc_daemon.client import ApiError

UNIT = 10**6
SAT = 10**8


@pytest.fixture
def traders(cli, daemon, monkeypatch):
    monkeypatch.setenv("AITBC_PASSWORD", "pw")
    for name in ("alice", "bob"):
        assert cli("wallet", "create", name).exit_code == 0
        assert cli("wallet", "faucet", name, "--amount", "500").exit_code == 0
    return cli


def as_json(result):
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def refused(result, text):
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert text in result.stderr, result.stderr


def balance(cli, wallet):
    return as_json(cli("exchange", "balance", "--wallet", wallet, "--json"))


def test_bridged_btc_buy_orders_trades_and_cancel(traders):
    cli = traders
    rate = as_json(cli("exchange", "rate", "--json"))
    assert (rate["rate"], rate["fee_bps"], rate["paused"]) == (100_000 * UNIT, 30, False)
    credited = as_json(cli("exchange", "faucet-btc", "--wallet", "alice", "--amount", "0.5", "--json"))
    assert credited["status"] == "included" and credited["type"] == "btc_deposit"
    assert balance(cli, "alice")["btc"] == SAT // 2
    assert as_json(cli("exchange", "rate", "--json"))["btc_supply"] == SAT // 2

    bought = as_json(cli("exchange", "buy", "--btc", "0.001", "--from", "alice", "--json"))
    assert bought["status"] == "included"
    after = balance(cli, "alice")
    assert after["ait"] == 600 * UNIT and after["btc"] == SAT // 2 - SAT // 1000  # 0.001 BTC = 100 AIT

    sell = as_json(cli("exchange", "order", "sell", "10", "--price", "2000", "--from", "bob", "--json"))
    assert sell["order"]["id"] == 1 and sell["order"]["status"] == "open"
    assert balance(cli, "bob")["ait_in_orders"] == 10 * UNIT
    buy = as_json(cli("exchange", "order", "buy", "4", "--price", "2500", "--from", "alice", "--json"))
    assert buy["order"]["status"] == "filled" and buy["order"]["paid"] == 8_000  # at the maker's price
    book = as_json(cli("exchange", "book", "--json"))
    assert book["asks"] == [{"price": 2000, "size": 6 * UNIT, "orders": 1}] and book["bids"] == []
    trades = as_json(cli("exchange", "trades", "--json"))["trades"]
    assert [(t["price"], t["size"], t["taker"], t["fee"]) for t in trades] == [(2000, 4 * UNIT, "buy", 24)]
    mine = as_json(cli("exchange", "orders", "--mine", "--wallet", "bob", "--json"))["orders"]
    assert [(o["id"], o["remaining"]) for o in mine] == [(1, 6 * UNIT)]
    for args, text in (
        (("book",), "2000"),
        (("rate",), "1 BTC = 100000 AIT"),
        (("balance", "--wallet", "bob"), "0.00008 BTC"),
        (("trades",), "buy"),
        (("orders", "--mine", "--wallet", "bob"), "open"),
        (("orders",), "filled"),
    ):
        human = cli("exchange", *args)
        assert human.exit_code == 0 and text in human.stdout, (args, human.stdout, human.stderr)

    # a market buy takes the rest and never rests
    market = as_json(cli("exchange", "order", "buy", "8", "--market", "--from", "alice", "--json"))
    assert market["order"]["filled"] == 6 * UNIT and market["order"]["status"] == "cancelled"
    assert as_json(cli("exchange", "book", "--json"))["asks"] == []

    # cancel gives back exactly what the order held
    before = balance(cli, "alice")
    as_json(cli("exchange", "order", "buy", "3", "--price", "1000", "--from", "alice", "--json"))
    assert balance(cli, "alice")["btc_in_orders"] == 3_000 + 9  # 3,000 sat and the 0.3% fee reserve
    cancelled = as_json(cli("exchange", "cancel", "4", "--from", "alice", "--json"))
    assert cancelled["status"] == "included"
    assert balance(cli, "alice") == before


def test_bad_input_is_refused_in_one_line_and_changes_nothing(traders):
    cli = traders
    cli("exchange", "faucet-btc", "--wallet", "alice", "--amount", "0.0001")
    before = (balance(cli, "alice"), balance(cli, "bob"))
    refused(cli("exchange", "order", "sell", "0", "--price", "5", "--from", "bob"), "greater than zero")
    refused(cli("exchange", "order", "sell", "--price", "5", "--from", "bob", "--", "-1"), "negative")
    refused(cli("exchange", "order", "sell", "1", "--price", "0", "--from", "bob"), "price")
    refused(cli("exchange", "order", "sell", "1", "--price", "-3", "--from", "bob"), "price")
    refused(cli("exchange", "order", "sell", "501", "--price", "5", "--from", "bob"), "insufficient")
    refused(cli("exchange", "order", "buy", "100", "--price", "5000", "--from", "alice"), "satoshi")
    refused(cli("exchange", "order", "hold", "1", "--price", "5", "--from", "bob"), "buy or sell")
    refused(cli("exchange", "order", "buy", "1", "--from", "bob"), "--price")
    refused(cli("exchange", "order", "buy", "1", "--market", "--from", "alice"), "no sell orders")
    refused(cli("exchange", "buy", "--btc", "1", "--from", "alice"), "satoshi")
    refused(cli("exchange", "buy", "--btc", "0", "--from", "alice"), "greater than zero")
    refused(cli("exchange", "cancel", "7", "--from", "alice"), "no exchange order 7")
    assert (balance(cli, "alice"), balance(cli, "bob")) == before
    assert as_json(cli("exchange", "orders", "--json"))["orders"] == []


def test_trades_api_pages_by_cursor_and_errors_are_4xx(traders, daemon):
    cli = traders
    cli("exchange", "faucet-btc", "--wallet", "alice", "--amount", "1")
    for price in (1000, 1001, 1002):
        as_json(cli("exchange", "order", "sell", "1", "--price", str(price), "--from", "bob", "--json"))
    as_json(cli("exchange", "order", "buy", "3", "--market", "--from", "alice", "--json"))
    with daemon.client() as client:
        everything = client.exchange_trades("ait-devnet")
        assert [t.price for t in everything.trades] == [1000, 1001, 1002] and everything.next_since == 3
        page = client.exchange_trades("ait-devnet", since=1, limit=1)
        assert [t.id for t in page.trades] == [2] and page.next_since == 2
        assert client.exchange_trades("ait-devnet", since=3).trades == []
        alice = client.wallet("alice").address
        for body, code in (
            ({"side": "buy", "size": UNIT, "price": 0}, "invalid_payload"),
            ({"side": "buy", "size": UNIT, "price": -5}, "invalid_payload"),
            ({"side": "sell", "size": 10**9 * UNIT, "price": 5}, "insufficient_funds"),
        ):
            with pytest.raises(ApiError) as refusal:
                client.exchange_order("alice", chain="ait-devnet", password="pw", **body)
            assert refusal.value.code == code and 400 <= refusal.value.status < 500
        with pytest.raises(ApiError) as bad:
            client.request(
                "POST",
                "/v1/wallets/alice/exchange/order",
                json={"chain": "ait-devnet", "side": "buy", "size": 0, "price": 5, "password": "pw"},
            )
        assert 400 <= bad.value.status < 500
        assert client.exchange_balance("ait-devnet", alice).btc == SAT - 3_003 - 9  # 3,003 sat + 0.3% fee
        with pytest.raises(ApiError) as not_devnet:
            client.exchange_book("no-such-chain")
        assert not_devnet.value.status == 404
