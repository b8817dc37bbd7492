"""The incremental app hash always equals the from-scratch one, whatever the writes."""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.state import Escrow, StateOverlay, state_from_allocations
from aitbc_daemon.chain.state_hash import StateHasher, app_hash

from .conftest import ADDRESSES, OUTSIDER


def test_incremental_matches_full_through_kv_escrow_and_zeroing() -> None:
    committed = state_from_allocations([(a, 100) for a in ADDRESSES])
    hasher = StateHasher(committed)
    assert hasher.root == app_hash(committed)
    steps = [
        lambda o: (o.kv_put("dao", "proposal/1", {"votes": 3}), o.credit(OUTSIDER, 5)),
        lambda o: o.put_escrow("job-1", Escrow(ADDRESSES[1], ADDRESSES[2], 40)),
        lambda o: (o.kv_delete("dao", "proposal/1"), o.debit(ADDRESSES[0], 100)),  # zero balance
        lambda o: (o.set_nonce(ADDRESSES[0], 1), o.kv_put("dao", "other", [1, "x"])),
        lambda o: o.put_escrow(
            "job-1", Escrow(ADDRESSES[1], ADDRESSES[2], 40, "refunded", ADDRESSES[1])
        ),
    ]
    seen = {hasher.root}
    for step in steps:
        overlay = StateOverlay(committed)
        step(overlay)
        update = hasher.prepare(overlay)
        assert update.root == app_hash(overlay)
        committed.apply_changes(overlay.changes())
        hasher.apply(update)
        assert hasher.root == app_hash(committed) == StateHasher(committed).root
        seen.add(hasher.root)
    assert len(seen) == len(steps) + 1  # every step changed the hash


def test_nested_overlays_are_all_counted() -> None:
    committed = state_from_allocations([(ADDRESSES[0], 100)])
    block = StateOverlay(committed)
    block.credit(ADDRESSES[1], 1)
    tx = StateOverlay(block)
    tx.credit(ADDRESSES[2], 2)
    assert StateHasher(committed).prepare(tx).root == app_hash(tx)


def test_update_from_another_base_refused() -> None:
    committed = state_from_allocations([(ADDRESSES[0], 100)])
    hasher = StateHasher(committed)
    overlay = StateOverlay(committed)
    overlay.credit(OUTSIDER, 1)
    update = hasher.prepare(overlay)
    hasher.apply(update)
    with pytest.raises(ValueError, match="another state"):
        hasher.apply(update)
