"""The benchmark market: reproducible from a seed, realistic background, injected episodes as labelled."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.stats import kurtosis

from aitbc_daemon.surveillance.simulation import SimConfig, simulate
from aitbc_daemon.surveillance.simulation.events import Cancel, OrderPlaced, Trade, Transfer

SHORT = SimConfig(duration_s=900)


@pytest.fixture(scope="module")
def run():
    return simulate(replace(SHORT, seed=11))


def test_same_seed_same_events_and_labels(run):
    again = simulate(replace(SHORT, seed=11))
    assert again.events == run.events
    assert [vars_of(e) for e in again.episodes] == [vars_of(e) for e in run.episodes]


def test_different_seeds_differ(run):
    other = simulate(replace(SHORT, seed=12))
    assert other.events[:200] != run.events[:200]
    assert [e.wallets for e in other.episodes] != [e.wallets for e in run.episodes]


def vars_of(ep):
    return (ep.episode_id, ep.type, ep.variant, ep.wallets, ep.start, ep.end, ep.order_ids, ep.trade_ids)


def test_event_times_are_ordered_and_heights_follow_the_clock(run):
    times = [e.time for e in run.events]
    assert times == sorted(times)
    for e in run.events:
        if isinstance(e, OrderPlaced):
            assert e.height == int(e.time // SHORT.block_time)


def test_every_type_is_injected_with_consistent_labels(run):
    assert sorted(ep.type for ep in run.episodes) == ["pump_and_dump", "spoofing", "wash", "wash"]
    trades = {e.trade_id: e for e in run.events if isinstance(e, Trade)}
    orders = {e.order_id: e for e in run.events if isinstance(e, OrderPlaced)}
    for ep in run.episodes:
        assert ep.wallets and ep.start < ep.end
        assert ep.trade_ids, f"{ep.episode_id} made no trade"
        assert ep.last_trade_time == max(trades[t].time for t in ep.trade_ids)
        for oid in ep.order_ids:
            assert orders[oid].wallet in ep.wallets
        for tid in ep.trade_ids:
            tr = trades[tid]
            assert ep.start <= tr.time <= ep.end + 1
            assert tr.buyer in ep.wallets or tr.seller in ep.wallets


def test_wash_trades_stay_inside_the_ring_and_the_ring_is_funded(run):
    trades = {e.trade_id: e for e in run.events if isinstance(e, Trade)}
    transfers = [e for e in run.events if isinstance(e, Transfer)]
    by_variant = {ep.variant: ep for ep in run.episodes if ep.type == "wash"}
    self_ep, ring_ep = by_variant["self_trade"], by_variant["circular"]
    assert all(trades[t].buyer == trades[t].seller == self_ep.wallets[0] for t in self_ep.trade_ids)
    assert 2 <= len(ring_ep.wallets) <= 4
    for tid in ring_ep.trade_ids:
        tr = trades[tid]
        assert tr.buyer != tr.seller and {tr.buyer, tr.seller} <= set(ring_ep.wallets)
    head = ring_ep.wallets[0]
    for member in ring_ep.wallets[1:]:
        assert any(t.from_ == head and t.to == member and t.time < ring_ep.start for t in transfers)


def test_spoof_orders_are_large_and_cancelled_within_seconds_while_trading_the_other_side(run):
    ep = next(e for e in run.episodes if e.type == "spoofing")
    orders = {e.order_id: e for e in run.events if isinstance(e, OrderPlaced)}
    cancels = {e.order_id: e for e in run.events if isinstance(e, Cancel)}
    trades = {e.trade_id: e for e in run.events if isinstance(e, Trade)}
    spoofs = [orders[o] for o in ep.order_ids if orders[o].type == "limit"]
    labelled = {o for e in run.episodes for o in e.order_ids}
    background = [e.size for e in orders.values() if e.type == "market" and e.order_id not in labelled]
    median_taker = np.median(background)
    assert len(spoofs) >= 3
    for o in spoofs:
        assert o.size > 5 * median_taker
        if o.order_id in cancels:  # without a cancel, the market ran into it and filled it first
            assert 1.0 <= cancels[o.order_id].time - o.time <= 5.0
    assert sum(o.order_id in cancels for o in spoofs) >= 1
    for tid in ep.trade_ids:  # the wallet's real trades are on the side opposite its spoof just before
        tr = trades[tid]
        before = [o for o in spoofs if o.time <= tr.time]
        assert before and before[-1].side != tr.taker_side


def test_pump_and_dump_runs_the_price_up_with_new_wallets_then_reverses(run):
    ep = next(e for e in run.episodes if e.type == "pump_and_dump")
    first_seen: dict[str, object] = {}
    for e in run.events:
        if isinstance(e, Transfer):
            names = (e.from_, e.to)
        else:
            names = (e.buyer, e.seller) if isinstance(e, Trade) else (e.wallet,)
        for w in names:
            first_seen.setdefault(w, e)
    new = [w for w in ep.wallets if isinstance(first_seen[w], Transfer) and first_seen[w].to == w]
    assert len(new) >= 5  # the pump wallets first appear when an insider funds them
    mids = run.mids
    start, end = int(ep.start), min(int(ep.end), len(mids) - 1)
    peak = max(mids[start:end])
    assert peak > mids[start] * 1.01
    assert mids[end] < peak


def test_background_sizes_are_heavy_tailed_and_arrivals_bursty(run):
    labelled = {o for ep in run.episodes for o in ep.order_ids}
    market = [
        e
        for e in run.events
        if isinstance(e, OrderPlaced) and e.type == "market" and e.order_id not in labelled
    ]
    assert kurtosis([e.size for e in market]) > 3  # excess kurtosis: far heavier than a normal's 0
    counts = np.bincount([int(e.time // 10) for e in market], minlength=SHORT.duration_s // 10)
    assert counts.var() > counts.mean()  # overdispersed: bursts, not a plain Poisson stream


def test_background_has_the_decoys_the_labels_must_not_rely_on(run):
    """Fast cancels, funding transfers and fresh funded wallets happen outside the episodes too."""
    bad = {w for ep in run.episodes for w in ep.wallets}
    orders = {e.order_id: e for e in run.events if isinstance(e, OrderPlaced)}
    fast = [
        c
        for c in run.events
        if isinstance(c, Cancel) and c.wallet not in bad and c.time - orders[c.order_id].time < 5
    ]
    assert len(fast) > 50
    unrelated = [e for e in run.events if isinstance(e, Transfer) and e.from_ not in bad and e.to not in bad]
    assert len(unrelated) > 10
    far_large = [o for o in orders.values() if o.wallet not in bad and o.type == "limit" and o.size > 20]
    assert len(far_large) > 5
