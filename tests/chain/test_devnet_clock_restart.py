"""The devnet clock (`chain advance`) is saved with the chain: a real daemon, stopped and started
again, keeps stamping blocks where the clock stood instead of falling back toward wall time.

Bounds only, never durations: with the offset kept, a block mined after `now` is stamped at
least `now + offset`; without it, it would stall at the old head (or fall back to wall time).
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.errors import CorruptStore
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.store import CLOCK_OFFSET_KEY
from aitbc_daemon.client import ApiError, Client
from tests.chain.conftest import AUTHORITY_KEY, GENESIS
from tests.conftest import RunningDaemon, make_home, start_daemon

CHAIN = "ait-devnet"
HOUR = 3600


def head_time(client: Client, chain: str = CHAIN) -> int:
    return client.chain_status(chain).head_time


def mined_time(client: Client) -> int:
    """Mine one block now and return its timestamp."""
    height = client.mine(CHAIN, 1).height
    return int(client.block(CHAIN, height).header["timestamp"])


def saved_offset(daemon: RunningDaemon, chain: str) -> int | None:
    """The offset row of the chain's SQLite file, read directly (the daemon must be stopped)."""
    path = daemon.paths.data_dir / "chains" / chain / "chain.db"
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (CLOCK_OFFSET_KEY,)).fetchone()
    return None if row is None else int(row[0])


def restarted(daemon: RunningDaemon) -> RunningDaemon:
    assert daemon.stop() == 0
    return start_daemon(daemon.home)


def test_the_store_keeps_the_offset_outside_blocks_and_state(chain_path):
    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        assert node.store.clock_offset() is None
        node.produce_block(GENESIS.timestamp + 10)
        head, app = node.head_hash, node.store.head().app_hash
        node.store.set_clock_offset(HOUR)
        node.store.set_clock_offset(HOUR + 60)
    finally:
        node.close()
    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        assert node.store.clock_offset() == HOUR + 60
        assert (node.head_hash, node.store.head().app_hash) == (head, app)  # no block, no state
    finally:
        node.close()
    with closing(sqlite3.connect(chain_path)) as conn, conn:
        conn.execute("UPDATE meta SET value = 'soon' WHERE key = ?", (CLOCK_OFFSET_KEY,))
    node = ChainNode.open(chain_path, GENESIS, signing_keys=[AUTHORITY_KEY])
    try:
        with pytest.raises(CorruptStore):
            node.store.clock_offset()
    finally:
        node.close()


def test_the_clock_runs_on_after_a_restart_and_advances_move_it_at_once(daemon):
    with daemon.client() as client:
        advanced = client.advance(CHAIN, HOUR).block_time
    assert saved_offset(daemon, CHAIN) == HOUR
    again = restarted(daemon)
    try:
        with again.client() as client:
            before = int(time.time())
            first = mined_time(client)
            assert first >= before + HOUR and first >= advanced  # not stalled at the old head
            moved = client.advance(CHAIN, 60).block_time
            assert moved >= first + 60  # the advance lands at once, not once wall time catches up
            assert mined_time(client) >= moved
    finally:
        again.stop()


def test_the_offset_survives_two_restarts(aitbc_home: Path):
    daemon = start_daemon(aitbc_home)
    try:
        with daemon.client() as client:
            client.advance(CHAIN, HOUR)
        daemon = restarted(daemon)
        with daemon.client() as client:
            client.advance(CHAIN, 60)
        daemon = restarted(daemon)
        with daemon.client() as client:
            before = int(time.time())
            assert mined_time(client) >= before + HOUR + 60
    finally:
        daemon.stop()
    assert saved_offset(daemon, CHAIN) == HOUR + 60


def test_a_refused_advance_changes_no_saved_offset(daemon):
    with daemon.client() as client:
        client.advance(CHAIN, 120)
        with pytest.raises(ApiError):
            client.advance(CHAIN, 0)
        with pytest.raises(ApiError):
            client.advance(CHAIN, -60)
    assert daemon.stop() == 0
    assert saved_offset(daemon, CHAIN) == 120


def test_a_chain_that_is_not_a_devnet_keeps_no_clock_offset(daemon):
    authority = SigningKey.generate()
    with daemon.client() as client:
        client.create_chain(_private_chain(authority), bytes(authority).hex())
        with pytest.raises(ApiError) as refused:
            client.advance("team-net", HOUR)
        assert refused.value.code == "devnet_only"
        client.advance(CHAIN, 60)
    again = restarted(daemon)
    again.stop()
    assert saved_offset(again, "team-net") is None
    assert saved_offset(again, CHAIN) == 60


@pytest.fixture
def other_home() -> Iterator[Path]:
    home = make_home()
    yield home
    shutil.rmtree(home, ignore_errors=True)


def test_an_imported_devnet_runs_on_from_its_head(daemon, other_home, tmp_path):
    """An archive holds blocks only, not the clock: the import takes the clock up at the head."""
    archive = tmp_path / "devnet.jsonl"
    with daemon.client() as client:
        head = client.advance(CHAIN, HOUR).block_time
        client.export_chain(CHAIN, str(archive))
    other = start_daemon(other_home)
    try:
        with other.client() as client:
            client.import_chain(str(archive))
            assert head_time(client) == head
            first = mined_time(client)
            assert first >= head
            moved = client.advance(CHAIN, 60).block_time
            assert moved >= first + 60  # not swallowed by the gap between wall time and the head
        other = restarted(other)
        with other.client() as client:
            after = mined_time(client)
            assert after >= moved
            assert client.advance(CHAIN, 60).block_time >= after + 60
    finally:
        other.stop()
    saved = saved_offset(other, CHAIN)
    assert saved is not None and saved >= 120


def _private_chain(authority: SigningKey) -> dict[str, Any]:
    """A non-devnet chain this daemon proposes on (its authority key is given at creation)."""
    return {
        "chain_id": "team-net",
        "timestamp": 1_767_225_600,
        "authorities": [bytes(authority.verify_key).hex()],
        "allocations": {},
        "block_time": 1,
        "is_devnet": False,
    }
