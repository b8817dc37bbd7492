"""find_by_hash_prefix: blocks and transactions by the first hex digits of their hash."""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.errors import InvalidQuery
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.store import PREFIX_OPEN_SQL, PREFIX_SQL, HashMatch, prefix_upper_bound

from .conftest import GENESIS, KEYS, signed

T0 = GENESIS.timestamp


@pytest.fixture
def busy_node(node: ChainNode) -> ChainNode:
    for height in range(1, 4):
        node.check_txs([signed(KEYS[k], height - 1) for k in range(1, 6)])
        node.produce_block(T0 + height)
    return node


def test_prefix_upper_bound() -> None:
    assert prefix_upper_bound("abc012") == "abc013"
    assert prefix_upper_bound("abc0ff") == "abc1"
    assert prefix_upper_bound("00000f") == "00001"
    assert prefix_upper_bound("a9ffff") == "aa"
    assert prefix_upper_bound("ffffff") is None


def test_finds_blocks_and_transactions(busy_node: ChainNode) -> None:
    store = busy_node.store
    block = store.block(2)
    tx = block.transactions[3]
    assert store.find_by_hash_prefix(block.hash[:6]) == [HashMatch("block", block.hash, 2)]
    assert store.find_by_hash_prefix(tx.hash[:8]) == [HashMatch("tx", tx.hash, 2)]
    assert store.find_by_hash_prefix(tx.hash) == [HashMatch("tx", tx.hash, 2)]
    assert store.find_by_hash_prefix("0" * 64) == []


def test_every_match_starts_with_the_prefix(busy_node: ChainNode) -> None:
    store = busy_node.store
    everything = [("block", store.block(h).hash, h) for h in range(1, 4)] + [
        ("tx", tx.hash, h) for h in range(1, 4) for tx in store.block(h).transactions
    ]
    for digit in "0123456789abcdef":
        prefix = digit * 6
        expected = sorted(
            (HashMatch(*m) for m in everything if m[1].startswith(prefix)),
            key=lambda m: m.hash,
        )
        assert store.find_by_hash_prefix(prefix, limit=100) == expected


@pytest.mark.parametrize("prefix", ["abcde", "ABCDEF", "abcdeg", "", "a" * 65, 123456, "abc def"])
def test_bad_prefixes_refused(busy_node: ChainNode, prefix: object) -> None:
    with pytest.raises(InvalidQuery):
        busy_node.store.find_by_hash_prefix(prefix)  # type: ignore[arg-type]


def test_bad_limits_refused(busy_node: ChainNode) -> None:
    for limit in (0, 101, "3"):
        with pytest.raises(InvalidQuery):
            busy_node.store.find_by_hash_prefix("abcdef", limit)  # type: ignore[arg-type]


@pytest.mark.parametrize("table", ["blocks", "transactions"])
def test_prefix_queries_search_the_hash_index(busy_node: ChainNode, table: str) -> None:
    conn = busy_node.store._conn  # the query plan is the point of this test
    for sql, params in (
        (PREFIX_SQL.format(table=table), ("abcdef", "abcdf0", 10)),
        (PREFIX_OPEN_SQL.format(table=table), ("ffffff", 10)),
    ):
        details = [row[-1] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
        assert any(d.startswith("SEARCH") and "INDEX" in d and "hash>?" in d for d in details), (
            details
        )
        assert not any(d.startswith("SCAN") for d in details), details
