"""A chain file that refuses writes (disk full, lock held): typed errors, nothing changed, retry works.

SQLite itself simulates the full disk: `PRAGMA max_page_count` caps the file at
its current size, so the next write that needs a page fails with SQLITE_FULL,
exactly as it would on a full filesystem.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from aitbc_daemon.chain.errors import StorageBusy, StorageFull
from aitbc_daemon.chain.mempool import Admission
from aitbc_daemon.chain.node import ChainNode

from .conftest import ADDRESSES, AUTHORITY_KEY, GENESIS, KEYS, OUTSIDER, signed

T0 = GENESIS.timestamp
NO_LIMIT = 1_073_741_823


@contextmanager
def disk_full(node: ChainNode) -> Iterator[None]:
    conn = node.store._conn  # the test plays the filesystem
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA max_page_count = {NO_LIMIT}")


def _snapshot(node: ChainNode) -> tuple:
    return (
        node.height,
        node.head_hash,
        node.app_hash,
        dict(node.state.balances),
        dict(node.state.nonces),
        dict(node.state.escrows),
        [tx.hash for tx in node.mempool.transactions()],
        node.history(ADDRESSES[2], limit=1_000),  # account_txs rows go with the block, or not
    )


def _fill_mempool(node: ChainNode) -> list:
    txs = [
        signed(KEYS[k], n, payload={"to": ADDRESSES[(k + 1) % 10], "amount": 1_000 + n})
        for k in range(1, 10)
        for n in range(6)
    ]
    txs.append(
        signed(KEYS[1], 6, "escrow_lock", {"escrow_id": "e1", "amount": 5, "arbiter": ADDRESSES[2]})
    )
    assert all(not isinstance(o, Exception) for o in node.check_txs(txs))
    return txs


def test_disk_full_during_produce_block_changes_nothing(chain_path: Path) -> None:
    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        node.check_tx(signed(KEYS[0], 0))
        node.produce_block(T0 + 1)
        txs = _fill_mempool(node)
        before = _snapshot(node)
        with disk_full(node):
            with pytest.raises(StorageFull) as caught:
                node.produce_block(T0 + 2)
            assert caught.value.status == 507 and caught.value.code == "storage_full"
            assert "nothing was written" in str(caught.value)
            assert _snapshot(node) == before
            with pytest.raises(StorageFull):  # still full: still refused, still unchanged
                node.produce_block(T0 + 2)
            assert _snapshot(node) == before
        block = node.produce_block(T0 + 2)  # the condition cleared: the same block goes through
        assert block.height == 2 and set(block.transactions) == set(txs)
        assert node.balance(OUTSIDER) == 1_000
        assert node.escrow("e1") is not None and len(node.mempool) == 0
        head, state_hash = node.head_hash, node.app_hash
    finally:
        node.close()
    reopened = ChainNode.open(chain_path, GENESIS)  # verify() at open: file and log agree
    try:
        assert (reopened.height, reopened.head_hash, reopened.app_hash) == (2, head, state_hash)
        assert len(reopened.mempool) == 0
    finally:
        reopened.close()


def test_disk_full_during_commit_of_a_received_block(tmp_path: Path) -> None:
    """A follower: finalize_block, then commit fails; commit() again once there is room."""
    producer = ChainNode.open(tmp_path / "producer.db", GENESIS, signing_keys=[AUTHORITY_KEY])
    follower = ChainNode.open(tmp_path / "follower.db", GENESIS)
    try:
        _fill_mempool(producer)
        block = producer.produce_block(T0 + 1)
        follower.finalize_block(block)
        before = _snapshot(follower)
        with disk_full(follower), pytest.raises(StorageFull):
            follower.commit()
        assert _snapshot(follower) == before
        header = follower.commit()  # the finalized block was kept
        assert header.hash == block.hash and follower.app_hash == producer.app_hash
    finally:
        producer.close()
        follower.close()


def test_disk_full_refuses_admission_without_trace(node: ChainNode) -> None:
    with disk_full(node):
        # Fill the free space inside the capped file until a write needs a new page.
        for filler in range(500):
            tx = signed(KEYS[1 + filler % 9], filler // 9)
            try:
                outcomes = node.check_txs([tx])
            except StorageFull:
                break
            assert isinstance(outcomes[0], Admission)
        else:
            pytest.fail("the capped file never filled up")
        pool = [tx.hash for tx in node.mempool.transactions()]
        assert len(pool) == filler and not node.mempool.contains(tx.hash)
        with pytest.raises(StorageFull):
            node.check_tx(tx)
        assert len(node.mempool) == filler
    conn = sqlite3.connect(node.store.path)
    try:
        assert {h for (h,) in conn.execute("SELECT hash FROM mempool")} == set(pool)
    finally:
        conn.close()


def test_write_lock_held_elsewhere(node: ChainNode, chain_path: Path) -> None:
    node.check_tx(signed(KEYS[1], 0))
    before = _snapshot(node)
    node.store._conn.execute("PRAGMA busy_timeout = 20")  # fail fast, not after 5 s
    blocker = sqlite3.connect(chain_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(StorageBusy) as caught:
            node.produce_block(T0 + 1)
        assert caught.value.status == 503
        assert _snapshot(node) == before
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert node.produce_block(T0 + 1).transactions[0].hash == before[-2][0]
