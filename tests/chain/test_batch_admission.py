"""check_txs: many admissions, each on its own, persisted in one SQLite write (or not at all)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aitbc_daemon.chain.errors import (
    AlreadyKnown,
    BadSignature,
    InsufficientFunds,
    MempoolFull,
    NonceTooHigh,
    NonceTooLow,
    StorageBusy,
)
from aitbc_daemon.chain.genesis import DEVNET_BALANCE
from aitbc_daemon.chain.mempool import Admission
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import transaction_from_dict

from .conftest import ADDRESSES, AUTHORITY_KEY, GENESIS, KEYS, OUTSIDER, signed

T0 = GENESIS.timestamp


def _persisted(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {h for (h,) in conn.execute("SELECT hash FROM mempool")}
    finally:
        conn.close()


def test_mixed_batch_each_judged_on_its_own(node: ChainNode, chain_path: Path) -> None:
    node.check_tx(signed(KEYS[4], 0))
    node.produce_block(T0 + 1)  # account 4's next nonce is now 1
    good = [signed(KEYS[1], 0), signed(KEYS[1], 1), signed(KEYS[2], 0)]
    stale = signed(KEYS[4], 0, payload={"to": OUTSIDER, "amount": 7})
    too_far = signed(KEYS[3], 500)
    overdraft = signed(KEYS[5], 0, payload={"to": OUTSIDER, "amount": DEVNET_BALANCE})
    forged = transaction_from_dict({**signed(KEYS[6], 0).to_dict(), "fee": 11})
    batch = [good[0], stale, good[1], good[0], too_far, overdraft, forged, good[2]]

    outcomes = node.check_txs(batch)

    assert [type(o) for o in outcomes] == [
        Admission,
        NonceTooLow,
        Admission,
        AlreadyKnown,
        NonceTooHigh,
        InsufficientFunds,
        BadSignature,
        Admission,
    ]
    assert [o.hash for o in outcomes if isinstance(o, Admission)] == [t.hash for t in good]
    assert {t.hash for t in node.mempool.transactions()} == {t.hash for t in good}
    assert _persisted(chain_path) == {t.hash for t in good}
    block = node.produce_block(T0 + 2)
    assert set(block.transactions) == set(good)


def test_batch_matches_sequential_check_tx(tmp_path: Path) -> None:
    """Replacement and eviction inside one batch: same pool and same file as one by one."""
    txs = [signed(KEYS[i], 0, fee=5 + i) for i in range(1, 5)]
    txs.append(signed(KEYS[1], 0, fee=50))  # replaces the first
    txs.append(signed(KEYS[7], 0, fee=100))  # full pool: evicts the lowest fee (account 2's)
    txs.append(signed(KEYS[8], 0, fee=1))  # full pool, lowest fee: refused
    results = {}
    for name in ("batch", "single"):
        path = tmp_path / f"{name}.sqlite"
        chain = ChainNode.open(path, GENESIS, mempool_max_txs=4)
        if name == "batch":
            outcomes = chain.check_txs(txs)
        else:
            outcomes = []
            for tx in txs:
                try:
                    outcomes.append(chain.check_tx(tx))
                except Exception as exc:  # noqa: BLE001 - compared below
                    outcomes.append(exc)
        results[name] = (
            [o if isinstance(o, Admission) else type(o) for o in outcomes],
            [t.hash for t in chain.mempool.transactions()],
            _persisted(path),
        )
        chain.close()
    assert results["batch"] == results["single"]
    admissions, pool, persisted = results["batch"]
    assert admissions[4].replaced == txs[0].hash
    assert admissions[5].evicted == (txs[1].hash,)
    assert admissions[6] is MempoolFull
    assert set(pool) == persisted == {txs[i].hash for i in (2, 3, 4, 5)}


def test_batch_survives_reopen(chain_path: Path) -> None:
    chain = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    txs = [signed(KEYS[1], n) for n in range(5)]
    chain.check_txs(txs, verified=False)
    chain.close()
    chain = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        assert chain.mempool.transactions() == txs
        assert chain.account(ADDRESSES[1])["pending_nonce"] == 5
    finally:
        chain.close()


def test_empty_batch_and_all_refused(node: ChainNode) -> None:
    assert node.check_txs([]) == []
    outcomes = node.check_txs([signed(KEYS[1], 99)], verified=True)
    assert isinstance(outcomes[0], NonceTooHigh) and len(node.mempool) == 0


def test_failed_write_leaves_no_trace_of_the_batch(node: ChainNode, chain_path: Path) -> None:
    earlier = signed(KEYS[1], 0, fee=10)
    node.check_tx(earlier)
    before = node.mempool.transactions()
    replacement = signed(KEYS[1], 0, fee=99)
    fresh = signed(KEYS[2], 0)
    node.store._conn.execute("PRAGMA busy_timeout = 20")  # fail fast, not after 5 s
    blocker = sqlite3.connect(chain_path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the file's write lock
    try:
        with pytest.raises(StorageBusy) as caught:
            node.check_txs([replacement, fresh])
        assert caught.value.status == 503 and caught.value.code == "storage_busy"
        with pytest.raises(StorageBusy):
            node.check_tx(replacement)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    # The replaced transaction is back, the batch's are gone, arrival numbers are reused.
    assert node.mempool.transactions() == before
    assert node.mempool.contains(earlier.hash) and not node.mempool.contains(fresh.hash)
    assert node.account(ADDRESSES[1])["pending_nonce"] == 1
    outcomes = node.check_txs([replacement, fresh])
    assert all(isinstance(o, Admission) for o in outcomes)
    assert outcomes[0].replaced == earlier.hash
    assert _persisted(chain_path) == {replacement.hash, fresh.hash}
