"""Chain archives: export, import by full replay, and every way an archive can be wrong."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from aitbc_daemon.chain.archive import ARCHIVE_VERSION, export_chain, import_chain
from aitbc_daemon.chain.errors import (
    ArchiveError,
    ArchiveMismatch,
    ArchiveTargetExists,
    CorruptArchive,
    UnsupportedArchive,
)
from aitbc_daemon.chain.genesis import devnet_genesis
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state_hash import app_hash

from .conftest import ADDRESSES, GENESIS, KEYS, OUTSIDER, signed

T0 = GENESIS.timestamp


@pytest.fixture
def source(node: ChainNode) -> ChainNode:
    """Four blocks: transfers, an escrow released, one refunded, a failed settlement, an empty block."""
    node.check_txs(
        [
            signed(KEYS[1], 0, payload={"to": OUTSIDER, "amount": 1_234}),
            signed(KEYS[2], 0, payload={"to": ADDRESSES[1], "amount": 5_000}),
            signed(
                KEYS[1],
                1,
                "escrow_lock",
                {"escrow_id": "job-a", "amount": 700, "arbiter": ADDRESSES[3]},
            ),
            signed(
                KEYS[2],
                1,
                "escrow_lock",
                {"escrow_id": "job-b", "amount": 900, "arbiter": ADDRESSES[3]},
            ),
        ]
    )
    node.produce_block(T0 + 1)
    node.check_txs(
        [
            signed(KEYS[3], 0, "escrow_release", {"escrow_id": "job-a", "to": ADDRESSES[4]}),
            signed(KEYS[3], 1, "escrow_refund", {"escrow_id": "job-b"}),
            signed(KEYS[3], 2, "escrow_refund", {"escrow_id": "job-a"}),  # fails: already released
        ]
    )
    node.produce_block(T0 + 2)
    node.produce_block(T0 + 3)
    node.check_tx(signed(KEYS[4], 0, payload={"to": OUTSIDER, "amount": 1}))
    node.produce_block(T0 + 4)
    return node


@pytest.fixture
def archive(source: ChainNode, tmp_path: Path) -> Path:
    path = tmp_path / "export" / "chain.jsonl"
    export_chain(source, path)
    return path


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_round_trip(source: ChainNode, archive: Path, tmp_path: Path) -> None:
    assert sorted(p.name for p in archive.parent.iterdir()) == ["chain.jsonl"]  # no temp file left
    header = json.loads(_lines(archive)[0])
    assert header["version"] == ARCHIVE_VERSION and header["height"] == 4
    assert header["head_hash"] == source.head_hash and header["app_hash"] == source.app_hash

    target = tmp_path / "imported" / "chain.db"
    summary = import_chain(archive, target, expected_genesis=GENESIS)
    assert (summary.height, summary.head_hash, summary.app_hash, summary.transactions) == (
        4,
        source.head_hash,
        source.app_hash,
        8,
    )
    imported = ChainNode.open(target, summary.genesis)
    try:
        assert imported.head_hash == source.head_hash and imported.app_hash == source.app_hash
        assert imported.state.balances == source.state.balances
        assert imported.state.escrows == source.state.escrows
        assert imported.transaction(source.block(height=2).transactions[2].hash).status == "failed"
        assert imported.history(ADDRESSES[3]) == source.history(ADDRESSES[3])
        again = tmp_path / "again.jsonl"
        export_chain(imported.store, again)
        assert again.read_bytes() == archive.read_bytes()  # the archive is deterministic
    finally:
        imported.close()


def test_empty_chain_round_trip(node: ChainNode, tmp_path: Path) -> None:
    path = tmp_path / "empty.jsonl"
    export_chain(node.store, path)
    summary = import_chain(path, tmp_path / "empty.db")
    assert summary.height == 0 and summary.head_hash == GENESIS.hash
    assert summary.app_hash == app_hash(GENESIS.initial_state())


def _assert_refused(archive: Path, target: Path, error: type, **where: int | None) -> None:
    with pytest.raises(error) as caught:
        import_chain(archive, target)
    for name, value in where.items():
        assert getattr(caught.value, name) == value, (name, caught.value)
    assert list(target.parent.iterdir()) == []  # nothing half-imported, no temp file


@pytest.fixture
def target(tmp_path: Path) -> Path:
    directory = tmp_path / "target"
    directory.mkdir()
    return directory / "chain.db"


def test_truncated_inside_a_line(archive: Path, target: Path) -> None:
    archive.write_bytes(archive.read_bytes()[:-40])
    _assert_refused(archive, target, CorruptArchive, line=5)


def test_truncated_at_a_line_end(archive: Path, target: Path) -> None:
    archive.write_bytes(b"".join(_lines(archive)[:-1]))
    _assert_refused(archive, target, CorruptArchive, height=4)


def test_byte_flipped_inside_a_transaction(archive: Path, target: Path) -> None:
    lines = _lines(archive)
    assert b'"amount":5000' in lines[1]
    lines[1] = lines[1].replace(b'"amount":5000', b'"amount":6000')
    archive.write_bytes(b"".join(lines))
    _assert_refused(archive, target, CorruptArchive, line=2, height=1)


def test_byte_flipped_into_garbage(archive: Path, target: Path) -> None:
    data = bytearray(archive.read_bytes())
    second_line = data.index(b"\n") + 1
    data[second_line + 10] ^= 0xFF  # no longer UTF-8 / JSON
    archive.write_bytes(bytes(data))
    _assert_refused(archive, target, CorruptArchive, line=2, height=1)


def test_tampered_header_app_hash(archive: Path, target: Path) -> None:
    lines = _lines(archive)
    header = json.loads(lines[0])
    header["app_hash"] = "ab" * 32
    lines[0] = json.dumps(header, separators=(",", ":"), sort_keys=True).encode() + b"\n"
    archive.write_bytes(b"".join(lines))
    _assert_refused(archive, target, ArchiveMismatch, line=1, height=4)


def test_header_height_beyond_the_blocks_or_short_of_them(archive: Path, target: Path) -> None:
    lines = _lines(archive)
    header = json.loads(lines[0])
    header["height"] = 3
    archive.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(lines[1:]))
    _assert_refused(archive, target, CorruptArchive, line=5, height=4)


@pytest.mark.parametrize("version", [2, 0, "1", None])
def test_wrong_format_version(archive: Path, target: Path, version: object) -> None:
    lines = _lines(archive)
    header = json.loads(lines[0])
    header["version"] = version
    archive.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(lines[1:]))
    _assert_refused(archive, target, UnsupportedArchive, line=1)


def test_not_an_archive(tmp_path: Path, target: Path) -> None:
    for content in (b"", b"hello\n", b'{"format":"zip"}\n'):
        path = tmp_path / "junk.jsonl"
        path.write_bytes(content)
        _assert_refused(path, target, UnsupportedArchive, line=1)


def test_other_genesis(archive: Path, target: Path) -> None:
    other = devnet_genesis(accounts=3)
    with pytest.raises(ArchiveMismatch):
        import_chain(archive, target, expected_genesis=other)
    assert not target.exists()
    # A header whose genesis was swapped: block 1 no longer extends it.
    lines = _lines(archive)
    header = json.loads(lines[0])
    header["genesis"] = other.to_dict()
    archive.write_bytes(json.dumps(header).encode() + b"\n" + b"".join(lines[1:]))
    _assert_refused(archive, target, CorruptArchive, line=2, height=1)


def test_existing_target_is_never_touched(archive: Path, target: Path) -> None:
    target.write_bytes(b"precious")
    with pytest.raises(ArchiveTargetExists):
        import_chain(archive, target)
    assert target.read_bytes() == b"precious"


def test_missing_archive(tmp_path: Path, target: Path) -> None:
    _assert_refused(tmp_path / "nowhere.jsonl", target, ArchiveError, line=None)
