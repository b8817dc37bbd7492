"""The node end to end on real SQLite files: produce, commit, query, reopen, replay, verify."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.block import Block, header_from_dict, sign_block
from aitbc_daemon.chain.errors import (
    AppHashMismatch,
    BadBlockSignature,
    BadParent,
    BadTimestamp,
    BlockTxInvalid,
    ChainError,
    CorruptStore,
    GenesisMismatch,
    InvalidQuery,
    NonceTooLow,
    NoPendingBlock,
    NotProposer,
    WrongProposer,
)
from aitbc_daemon.chain.genesis import devnet_genesis
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.chain.state_hash import app_hash
from aitbc_daemon.chain.tx import transaction_from_dict

from .conftest import ADDRESSES, AUTHORITY_KEY, GENESIS, KEYS, OUTSIDER, signed

T0 = GENESIS.timestamp


def pay(amount: int, to: str = OUTSIDER) -> dict:
    return {"to": to, "amount": amount}


def test_produce_commit_and_query(node: ChainNode) -> None:
    tx = signed(KEYS[1], 0, payload=pay(1_000))
    node.check_tx(tx)
    assert node.transaction(tx.hash).status == "pending"
    assert node.account(ADDRESSES[1])["pending_nonce"] == 1
    block = node.produce_block(T0 + 2)
    assert block.height == node.height == 1 and block.transactions == (tx,)
    assert block.header.previous_hash == GENESIS.hash
    assert node.balance(OUTSIDER) == 1_000
    assert node.nonce(ADDRESSES[1]) == 1
    status = node.query("tx", {"hash": tx.hash})
    assert status["status"] == "included" and status["height"] == 1
    assert node.query("block", {"height": 1})["hash"] == block.hash
    assert node.block(block_hash=block.hash).transactions == (tx,)
    assert node.query("balance", {"address": OUTSIDER}) == {"address": OUTSIDER, "balance": 1_000}
    assert node.query("tx", {"hash": "00" * 32}) is None
    assert node.query("block", {"height": 7}) is None
    assert len(node.mempool) == 0
    with pytest.raises(InvalidQuery):
        node.query("balance", {"address": "ait1nope"})
    with pytest.raises(InvalidQuery):
        node.query("nothing", {})


def test_failed_tx_is_included_with_reason(node: ChainNode) -> None:
    # Admitted against the committed state, then the escrow is settled in the same block first.
    node.check_tx(
        signed(
            KEYS[1], 0, "escrow_lock", {"escrow_id": "j", "amount": 500, "arbiter": ADDRESSES[3]}
        )
    )
    node.produce_block(T0 + 1)
    first = signed(KEYS[3], 0, "escrow_release", {"escrow_id": "j", "to": ADDRESSES[4]}, fee=20)
    second = signed(KEYS[3], 1, "escrow_refund", {"escrow_id": "j"}, fee=20)
    node.check_tx(first)
    node.check_tx(second)
    node.produce_block(T0 + 2)
    assert node.transaction(first.hash).status == "included"
    failed = node.transaction(second.hash)
    assert (
        failed.status == "failed" and failed.code == "escrow_closed" and "released" in failed.reason
    )
    assert node.nonce(ADDRESSES[3]) == 2
    assert node.escrow("j").payee == ADDRESSES[4]
    assert circulating_supply(node.state) == issued_supply(node.state) == GENESIS.total_supply


def test_replayed_tx_refused_after_inclusion(node: ChainNode) -> None:
    tx = signed(KEYS[1], 0)
    node.check_tx(tx)
    node.produce_block(T0 + 1)
    with pytest.raises(NonceTooLow):
        node.check_tx(tx)


def test_empty_blocks_and_timestamps(node: ChainNode) -> None:
    node.produce_block(T0)
    with pytest.raises(BadTimestamp):
        node.produce_block(T0 - 1)
    assert node.produce_block(T0 + 5).header.tx_count == 0
    assert node.height == 2


def test_only_the_authority_key_proposes(chain_path: Path) -> None:
    chain = ChainNode.open(chain_path, GENESIS, signing_keys=[KEYS[1]])
    with pytest.raises(NotProposer):
        chain.produce_block(T0 + 1)
    chain.close()


def test_round_robin_proposers(tmp_path: Path) -> None:
    genesis = devnet_genesis()
    data = genesis.to_dict()
    data["authorities"] = [bytes(KEYS[0].verify_key).hex(), bytes(KEYS[1].verify_key).hex()]
    from aitbc_daemon.chain.genesis import genesis_from_dict

    two = genesis_from_dict(data)
    first = ChainNode.open(tmp_path / "a.sqlite", two, signing_keys=[KEYS[0]])
    block1 = first.produce_block(T0 + 1)
    with pytest.raises(NotProposer):
        first.produce_block(T0 + 2)
    second = ChainNode.open(tmp_path / "b.sqlite", two, signing_keys=[KEYS[1]])
    assert second.process_proposal(block1)
    second.finalize_block(block1)
    second.commit()
    block2 = second.produce_block(T0 + 2)
    assert block2.header.proposer == ADDRESSES[1]
    first.finalize_block(block2)
    first.commit()
    assert first.app_hash == second.app_hash and first.head_hash == second.head_hash
    first.close()
    second.close()


def test_process_proposal_rejects_bad_blocks(node: ChainNode, tmp_path: Path) -> None:
    other = ChainNode.open(tmp_path / "other.sqlite", GENESIS, signing_keys=[AUTHORITY_KEY])
    tx = signed(KEYS[1], 0)
    other.check_tx(tx)
    good = other.produce_block(T0 + 1)

    def resign(key=AUTHORITY_KEY, **changes) -> Block:
        fields = {
            "chain_id": good.header.chain_id,
            "height": 1,
            "previous_hash": good.header.previous_hash,
            "timestamp": good.header.timestamp,
            "transactions": good.transactions,
            "app_hash": good.header.app_hash,
        }
        fields.update(changes)
        return sign_block(key, **fields)

    forged = Block(
        header_from_dict({**good.header.to_dict(), "timestamp": T0 + 9}), good.transactions
    )
    cases = [
        (forged, BadBlockSignature),
        (resign(app_hash="00" * 32), AppHashMismatch),
        (resign(previous_hash="11" * 32), BadParent),
        (resign(key=KEYS[1]), WrongProposer),
        (resign(transactions=(tx, tx)), BlockTxInvalid),
        (resign(transactions=(signed(KEYS[1], 3),)), BlockTxInvalid),
        (resign(transactions=(signed(KEYS[8], 0, chain_id="ait-other"),)), BlockTxInvalid),
    ]
    before = node.app_hash
    for block, error in cases:
        assert not node.process_proposal(block)
        with pytest.raises(error):
            node.finalize_block(block)
    with pytest.raises(NoPendingBlock):
        node.commit()
    assert node.height == 0 and node.app_hash == before
    assert node.process_proposal(good)
    node.finalize_block(good)
    node.commit()
    assert node.app_hash == other.app_hash
    other.close()


def test_reopen_gives_same_head_state_and_mempool(chain_path: Path) -> None:
    chain = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    chain.check_tx(signed(KEYS[1], 0, payload=pay(10)))
    chain.produce_block(T0 + 1)
    waiting = signed(KEYS[2], 0, payload=pay(20))
    chain.check_tx(waiting)
    head, state_hash = chain.head_hash, app_hash(chain.state)
    chain.close()
    again = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    assert again.head_hash == head and app_hash(again.state) == state_hash
    assert again.transaction(waiting.hash).status == "pending"
    again.produce_block(T0 + 2)
    assert again.balance(OUTSIDER) == 30
    again.close()


def test_other_genesis_refused(chain_path: Path) -> None:
    ChainNode.open(chain_path, GENESIS).close()
    with pytest.raises(GenesisMismatch):
        ChainNode.open(chain_path, devnet_genesis(timestamp=T0 + 1))


def test_replay_into_fresh_store_reproduces_app_hash(node: ChainNode, tmp_path: Path) -> None:
    for n in range(3):
        node.check_tx(signed(KEYS[1], n, payload=pay(100 + n)))
        node.check_tx(
            signed(
                KEYS[2],
                n,
                "escrow_lock",
                {"escrow_id": f"e{n}", "amount": 7, "arbiter": ADDRESSES[1]},
            )
        )
        node.produce_block(T0 + n)
    fresh = ChainNode.open(tmp_path / "replay.sqlite", GENESIS)
    assert fresh.replay(node.store.blocks()) == node.app_hash
    assert fresh.head_hash == node.head_hash
    fresh.close()


def build_chain(path: Path, blocks: int = 3) -> None:
    chain = ChainNode.open(path, GENESIS, signing_keys=[AUTHORITY_KEY])
    for n in range(blocks):
        chain.check_tx(signed(KEYS[1], n, payload=pay(5)))
        chain.produce_block(T0 + n)
    chain.close()


@pytest.mark.parametrize(
    "damage",
    [
        "UPDATE blocks SET header = substr(header, 1, 40) WHERE height = 3",
        "UPDATE blocks SET header = replace(header, '\"tx_count\":1', '\"tx_count\":2') WHERE height = 3",
        "DELETE FROM blocks WHERE height = 3",
        "DELETE FROM blocks WHERE height = 2",
        "DELETE FROM transactions WHERE height = 3",
        "UPDATE transactions SET body = substr(body, 1, 30) WHERE height = 3",
        "UPDATE accounts SET balance = balance + 1 WHERE rowid = (SELECT MIN(rowid) FROM accounts)",
        "UPDATE blocks SET hash = '" + "0" * 64 + "' WHERE height = 2",
    ],
)
def test_corrupted_store_detected_on_open(chain_path: Path, damage: str) -> None:
    build_chain(chain_path)
    conn = sqlite3.connect(chain_path)
    conn.execute(damage)
    conn.commit()
    conn.close()
    with pytest.raises(CorruptStore):
        ChainNode.open(chain_path, GENESIS)


def test_garbage_file_detected(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CorruptStore):
        ChainNode.open(path, GENESIS)


def test_state_edit_before_first_block_detected(chain_path: Path) -> None:
    ChainNode.open(chain_path, GENESIS).close()
    conn = sqlite3.connect(chain_path)
    conn.execute("UPDATE accounts SET balance = 1")
    conn.commit()
    conn.close()
    with pytest.raises(CorruptStore, match="genesis"):
        ChainNode.open(chain_path, GENESIS)


@pytest.mark.parametrize(
    "make_tx, code",
    [
        (lambda: signed(KEYS[1], 0, chain_id="ait-mainnet"), "wrong_chain"),
        (
            lambda: transaction_from_dict({**signed(KEYS[1], 0).to_dict(), "nonce": 1}),
            "bad_signature",
        ),
        (lambda: signed(KEYS[1], 0, payload=pay(0)), "invalid_amount"),
        (lambda: signed(KEYS[1], 0, payload=pay(-1)), "invalid_amount"),
        (lambda: signed(KEYS[1], 0, payload=pay(GENESIS.total_supply)), "insufficient_funds"),
        (lambda: signed(KEYS[1], 0, payload={"to": "ait1xyz", "amount": 5}), "invalid_payload"),
        (lambda: signed(KEYS[1], 0, payload={**pay(5), "memo": "hi"}), "invalid_payload"),
        (lambda: signed(KEYS[1], 0, "print_money", {}), "unknown_tx_type"),
        (lambda: signed(KEYS[1], 1_000), "nonce_too_high"),
        (lambda: signed(SigningKey(b"\x09" * 32), 0), "insufficient_funds"),
    ],
)
def test_check_tx_refusals_leave_everything_untouched(node: ChainNode, make_tx, code: str) -> None:
    node.check_tx(signed(KEYS[2], 0))
    before = (app_hash(node.state), len(node.mempool), node.store.mempool_transactions())
    with pytest.raises(ChainError) as caught:
        node.check_tx(make_tx())
    assert caught.value.code == code
    assert (app_hash(node.state), len(node.mempool), node.store.mempool_transactions()) == before


def test_check_tx_reads_committed_state_not_the_block_being_finalized(
    node: ChainNode, tmp_path: Path
) -> None:
    other = ChainNode.open(tmp_path / "other.sqlite", GENESIS, signing_keys=[AUTHORITY_KEY])
    included = signed(KEYS[1], 0, payload=pay(10))
    other.check_tx(included)
    block = other.produce_block(T0 + 1)
    node.finalize_block(block)  # executed in memory, not committed
    assert node.nonce(ADDRESSES[1]) == 0
    rival = signed(KEYS[1], 0, payload=pay(11))
    node.check_tx(rival)  # still valid against the committed state
    node.commit()
    assert node.nonce(ADDRESSES[1]) == 1
    assert node.transaction(rival.hash) is None  # rechecked away: its nonce is now used
    assert node.store.mempool_transactions() == []
    other.close()


def test_queries(node: ChainNode) -> None:
    node.check_tx(
        signed(KEYS[1], 0, "escrow_lock", {"escrow_id": "j", "amount": 9, "arbiter": ADDRESSES[2]})
    )
    node.produce_block(T0 + 1)
    assert node.query("account", {"address": ADDRESSES[1]}) == {
        "address": ADDRESSES[1],
        "balance": 1_000_000 * 10**6 - 19,
        "nonce": 1,
        "pending_nonce": 1,
    }
    assert node.query("nonce", {"address": ADDRESSES[1]}) == {"address": ADDRESSES[1], "nonce": 1}
    assert node.query("escrow", {"escrow_id": "j"})["status"] == "locked"
    assert node.query("escrow", {"escrow_id": "nope"}) is None
    with pytest.raises(InvalidQuery):
        node.query("block", {"height": "1"})
    with pytest.raises(InvalidQuery):
        node.query("block", {})
    with pytest.raises(InvalidQuery):
        node.query("balance", {})


def test_check_tx_can_skip_a_verification_already_done(node: ChainNode) -> None:
    tx = signed(KEYS[1], 0)
    node.check_tx(tx, verified=True)
    assert node.transaction(tx.hash).status == "pending"
