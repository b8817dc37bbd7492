"""Per-account history: the account_txs index, written with each block, read newest first."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from aitbc_daemon.chain.errors import InvalidQuery
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.store import HISTORY_SQL
from aitbc_daemon.chain.txtypes import touched_addresses

from .conftest import ADDRESSES, AUTHORITY_KEY, GENESIS, KEYS, OUTSIDER, signed

T0 = GENESIS.timestamp


def _history_chain(node: ChainNode) -> dict[str, str]:
    """Block 1: 1 pays outsider, 2 pays 1, 1 locks an escrow for arbiter 3. Block 2: 3 releases to 4."""
    pay_out = signed(KEYS[1], 0, payload={"to": OUTSIDER, "amount": 100})
    pay_in = signed(KEYS[2], 0, payload={"to": ADDRESSES[1], "amount": 200})
    lock = signed(
        KEYS[1], 1, "escrow_lock", {"escrow_id": "job-1", "amount": 50, "arbiter": ADDRESSES[3]}
    )
    for tx in (pay_out, pay_in, lock):
        node.check_tx(tx)
    node.produce_block(T0 + 1)
    release = signed(KEYS[3], 0, "escrow_release", {"escrow_id": "job-1", "to": ADDRESSES[4]})
    node.check_tx(release)
    node.produce_block(T0 + 2)
    return {
        "pay_out": pay_out.hash,
        "pay_in": pay_in.hash,
        "lock": lock.hash,
        "release": release.hash,
    }


def test_touched_addresses_per_type() -> None:
    transfer = signed(KEYS[1], 0, payload={"to": OUTSIDER, "amount": 1})
    assert touched_addresses(transfer) == (ADDRESSES[1], OUTSIDER)
    to_self = signed(KEYS[1], 0, payload={"to": ADDRESSES[1], "amount": 1})
    assert touched_addresses(to_self) == (ADDRESSES[1],)
    lock = signed(
        KEYS[1], 0, "escrow_lock", {"escrow_id": "e", "amount": 1, "arbiter": ADDRESSES[3]}
    )
    assert touched_addresses(lock) == (ADDRESSES[1], ADDRESSES[3])
    release = signed(KEYS[3], 0, "escrow_release", {"escrow_id": "e", "to": ADDRESSES[4]})
    assert touched_addresses(release) == (ADDRESSES[3], ADDRESSES[4])
    refund = signed(KEYS[3], 0, "escrow_refund", {"escrow_id": "e"})
    assert touched_addresses(refund) == (ADDRESSES[3],)


def test_history_newest_first_with_heights_and_positions(node: ChainNode) -> None:
    hashes = _history_chain(node)
    one = node.history(ADDRESSES[1])
    assert [e["hash"] for e in one] == [hashes["lock"], hashes["pay_in"], hashes["pay_out"]]
    assert [(e["height"], e["position"]) for e in one] == [(1, 2), (1, 1), (1, 0)]
    assert all(e["status"] == "included" for e in one)
    assert [e["hash"] for e in node.history(ADDRESSES[3])] == [hashes["release"], hashes["lock"]]
    assert [e["hash"] for e in node.history(ADDRESSES[4])] == [hashes["release"]]
    assert [e["hash"] for e in node.history(OUTSIDER)] == [hashes["pay_out"]]
    assert node.history(ADDRESSES[5]) == []
    assert node.query("history", {"address": ADDRESSES[1], "limit": 1})[0]["hash"] == hashes["lock"]


def test_history_pages_with_a_cursor(node: ChainNode) -> None:
    _history_chain(node)
    everything = node.history(ADDRESSES[1], limit=10)
    first = node.history(ADDRESSES[1], limit=2)
    second = node.history(ADDRESSES[1], limit=2, before=first[-1]["id"])
    assert first + second == everything
    assert node.history(ADDRESSES[1], limit=2, before=second[-1]["id"]) == []


def test_pending_transactions_of_the_sender_come_first(node: ChainNode) -> None:
    hashes = _history_chain(node)
    later = [signed(KEYS[1], n, payload={"to": OUTSIDER, "amount": 1}) for n in (2, 3)]
    for tx in later:
        node.check_tx(tx)
    entries = node.history(ADDRESSES[1], limit=1)
    assert [(e["hash"], e["status"]) for e in entries] == [
        (later[1].hash, "pending"),
        (later[0].hash, "pending"),
        (hashes["lock"], "included"),
    ]
    assert entries[0]["height"] is None and entries[0]["id"] is None
    # Later pages hold committed transactions only.
    assert all(
        e["status"] != "pending" for e in node.history(ADDRESSES[1], before=entries[-1]["id"])
    )
    # A pending transfer TO an address is not in that address's history until it is committed.
    assert node.history(OUTSIDER)[0]["hash"] == hashes["pay_out"]


def test_failed_transactions_are_in_history(node: ChainNode) -> None:
    node.check_tx(
        signed(KEYS[1], 0, "escrow_lock", {"escrow_id": "j", "amount": 5, "arbiter": ADDRESSES[3]})
    )
    node.produce_block(T0 + 1)
    release = signed(KEYS[3], 0, "escrow_release", {"escrow_id": "j", "to": ADDRESSES[4]})
    refund = signed(KEYS[3], 1, "escrow_refund", {"escrow_id": "j"})
    node.check_tx(release)
    node.check_tx(refund)
    node.produce_block(T0 + 2)
    latest = node.history(ADDRESSES[3], limit=1)[0]
    assert latest["hash"] == refund.hash and latest["status"] == "failed"
    assert latest["code"] == "escrow_closed"


def test_history_query_is_an_index_range_scan(node: ChainNode) -> None:
    _history_chain(node)
    plan = node.store._conn.execute(
        "EXPLAIN QUERY PLAN " + HISTORY_SQL, (ADDRESSES[1], 2**63 - 1, 10)
    ).fetchall()
    details = [row[-1] for row in plan]
    assert any("SEARCH a USING PRIMARY KEY (address=? AND tx_id<?)" in d for d in details), details
    assert any("SEARCH t USING INTEGER PRIMARY KEY (rowid=?)" in d for d in details), details
    assert not any(d.startswith("SCAN") for d in details), details
    assert not any("TEMP B-TREE" in d for d in details), details


def test_history_refuses_bad_arguments(node: ChainNode) -> None:
    for kwargs in ({"limit": 0}, {"limit": 1001}, {"limit": "5"}, {"before": "x"}):
        with pytest.raises(InvalidQuery):
            node.history(ADDRESSES[1], **kwargs)
    with pytest.raises(InvalidQuery):
        node.history("ait1nope")


def test_file_from_before_the_history_table_opens_without_backfill(chain_path: Path) -> None:
    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    old = signed(KEYS[1], 0)
    node.check_tx(old)
    node.produce_block(T0 + 1)
    node.close()
    conn = sqlite3.connect(chain_path)
    conn.execute("DROP TABLE account_txs")  # what a file written by the previous version lacks
    conn.commit()
    conn.close()

    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        assert node.store.history_since() == 2
        assert node.history(ADDRESSES[1]) == []  # no backfill
        assert node.transaction(old.hash).status == "included"
        new = signed(KEYS[1], 1)
        node.check_tx(new)
        node.produce_block(T0 + 2)
        assert [e["hash"] for e in node.history(ADDRESSES[1])] == [new.hash]
    finally:
        node.close()
    node = ChainNode.open(chain_path, GENESIS)
    try:
        assert node.store.history_since() == 2  # reopening does not move it
    finally:
        node.close()


def test_new_file_history_starts_at_one(node: ChainNode) -> None:
    assert node.store.history_since() == 1
