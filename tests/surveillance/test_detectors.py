"""The detectors and the window over hand-built blocks: empty markets, gaps, out-of-order replays.

These are the detectors' pure inputs (no daemon needed): the same events the feed builds
from committed blocks, written out so the edge cases are exact."""

from __future__ import annotations

from aitbc_daemon.surveillance.detectors.spoofing import Spoofing
from aitbc_daemon.surveillance.detectors.wash import WashTrading
from aitbc_daemon.surveillance.feed import CANCEL, ORDER, TRADE, BlockEvents, MarketEvent
from aitbc_daemon.surveillance.windows import MarketWindow

A, B = "ait1alice", "ait1bob"


def trade(height, trade_id, buyer, seller, size=10):
    return MarketEvent(
        TRADE,
        height,
        height,
        {
            "trade": trade_id,
            "buyer": buyer,
            "seller": seller,
            "buy_order": trade_id * 2,
            "sell_order": trade_id * 2 + 1,
            "price": 1000,
            "size": size,
            "taker": "buy",
        },
    )


def run(detector, blocks, window=None):
    window = window or MarketWindow()
    found = []
    for block in blocks:
        window.add(block)
        found += detector.detect(window, block)
    return found


def test_empty_blocks_and_gaps_find_nothing():
    blocks = [BlockEvents(h, h, ()) for h in (1, 2, 9, 40)]
    assert run(WashTrading(), blocks) == [] and run(Spoofing(), blocks) == []


def test_a_cancel_without_its_order_or_any_trade_is_tolerated():
    cancel = MarketEvent(CANCEL, 5, 5, {"order": 77, "owner": A, "tx": "ab"})
    assert run(Spoofing(), [BlockEvents(5, 5, (cancel,))]) == []


def test_replayed_block_is_ignored_by_the_window():
    window = MarketWindow()
    block = BlockEvents(3, 3, (trade(3, 1, A, B),))
    window.add(block)
    window.add(BlockEvents(2, 2, (trade(2, 9, A, A),)))  # older than the newest: ignored
    window.add(block)
    assert [t.data["trade"] for t in window.trades()] == [1]


def test_window_forgets_blocks_older_than_its_size():
    window = MarketWindow(size=10)
    window.add(BlockEvents(1, 1, (trade(1, 1, A, B),)))
    window.add(BlockEvents(11, 11, (trade(11, 2, A, B),)))
    assert [t.data["trade"] for t in window.trades()] == [2]


def test_self_trade_key_is_stable_across_replays():
    blocks = [BlockEvents(4, 4, (trade(4, 1, A, A),))]
    first, second = run(WashTrading(), blocks), run(WashTrading(), blocks)
    assert [f.type for f in first] == ["wash.self_trade"]
    assert first[0].key("wash") == second[0].key("wash")


def test_concentration_needs_several_traders():
    carol = "ait1carol"
    blocks = [BlockEvents(h, h, (trade(h, h, A, B),)) for h in range(1, 7)]
    assert run(WashTrading(), blocks) == []  # two traders only: no signal
    blocks.append(BlockEvents(7, 7, (trade(7, 7, carol, A, size=1),)))
    [found] = run(WashTrading(), blocks)
    assert found.type == "wash.concentration" and set(found.wallets) == {A, B}


def test_spoof_orders_without_a_touch_are_not_judged():
    order = MarketEvent(
        ORDER,
        1,
        1,
        {
            "order": 1,
            "owner": A,
            "side": "buy",
            "type": "limit",
            "price": 900,
            "size": 100,
            "tx": "aa",
            "touch": None,
        },
    )
    blocks = [
        BlockEvents(1, 1, (order,)),
        BlockEvents(2, 2, (MarketEvent(CANCEL, 2, 2, {"order": 1, "owner": A, "tx": "bb"}),)),
    ]
    assert run(Spoofing(), blocks) == []
