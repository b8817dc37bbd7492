"""Chain archives: the whole block log in one file, and a new chain file rebuilt from one.

Format (JSON lines, UTF-8, each line canonical JSON ending in "\\n"):

- line 1, the header: `{"format": "aitbc-chain-archive", "version": 1,
  "genesis": <genesis document>, "height": H, "head_hash": ..., "app_hash": ...}`
  (for an empty chain, head_hash is the genesis hash and app_hash the genesis
  state's, as `ChainNode` reports them);
- lines 2..H+1: `block.to_dict()` for heights 1..H, in order.

An archive is a log, not a snapshot: importing it trusts nothing in it. Every
block is replayed through a fresh node (`finalize_block` + `commit`), which
checks signatures, parents, merkle roots and app hashes, and the replayed
head must equal the header's. Export writes a temp file, fsyncs it and
renames it into place, so a crash never leaves half an archive under the
final name; import builds the chain file under a temp name and links it into
place only once everything verified, so a failed import leaves nothing.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from aitbc_daemon.atomic_files import fsync_directory
from aitbc_daemon.chain.block import Block, block_from_dict
from aitbc_daemon.chain.encoding import canonical_json, parse_json_strict
from aitbc_daemon.chain.errors import (
    ArchiveError,
    ArchiveMismatch,
    ArchiveTargetExists,
    ChainError,
    CorruptArchive,
    UnsupportedArchive,
)
from aitbc_daemon.chain.genesis import Genesis, genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state_hash import app_hash
from aitbc_daemon.chain.store import ChainStore

ARCHIVE_FORMAT = "aitbc-chain-archive"
ARCHIVE_VERSION = 1
HEADER_FIELDS = frozenset({"format", "version", "genesis", "height", "head_hash", "app_hash"})
MAX_LINE_BYTES = 64 * 1024 * 1024  # far above any valid block; stops a garbage file eating memory
_SQLITE_SIDECARS = ("-wal", "-shm", "-journal")


@dataclass(frozen=True)
class ArchiveHeader:
    genesis: Genesis
    height: int
    head_hash: str
    app_hash: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ARCHIVE_FORMAT,
            "version": ARCHIVE_VERSION,
            "genesis": self.genesis.to_dict(),
            "height": self.height,
            "head_hash": self.head_hash,
            "app_hash": self.app_hash,
        }


@dataclass(frozen=True)
class ImportSummary:
    """What `import_chain` built; open it with `ChainNode.open(path, genesis)`."""

    path: Path
    genesis: Genesis
    height: int
    head_hash: str
    app_hash: str
    transactions: int


# --- export -------------------------------------------------------------------------------------


def export_chain(source: ChainStore | ChainNode, path: Path) -> ArchiveHeader:
    """Write every block of `source` to `path` atomically; returns the header written.

    Blocks are append-only, so exporting up to the head read at the start is
    consistent even if blocks are committed meanwhile (they are simply not in it).
    """
    store = source.store if isinstance(source, ChainNode) else source
    header = _current_header(store)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(canonical_json(header.to_dict()) + b"\n")
            for height in range(1, header.height + 1):
                block = store.block(height)
                if block is None:  # the log has no holes; verify() checks it at open
                    raise ArchiveError(
                        f"block {height} is missing from {store.path}", height=height
                    )
                out.write(canonical_json(block.to_dict()) + b"\n")
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp_name, path)
    except BaseException:
        _unlink(Path(temp_name))
        raise
    fsync_directory(path.parent)
    return header


def _current_header(store: ChainStore) -> ArchiveHeader:
    head = store.head()
    if head is None:
        genesis = store.genesis
        return ArchiveHeader(genesis, 0, genesis.hash, app_hash(genesis.initial_state()))
    return ArchiveHeader(store.genesis, head.height, head.hash, head.app_hash)


# --- import -------------------------------------------------------------------------------------


def import_chain(
    path: Path, target_db_path: Path, *, expected_genesis: Genesis | None = None
) -> ImportSummary:
    """Build a NEW chain file at `target_db_path` by replaying the archive at `path`.

    Raises `ArchiveTargetExists` if the target exists (never overwrites), an
    `ArchiveError` naming the line and height of the first problem otherwise;
    then nothing is left at the target. `expected_genesis`, when given, must
    be the archive's genesis (importing into a chain the caller already knows).
    """
    target = Path(target_db_path)
    if _exists_with_sidecars(target):
        raise ArchiveTargetExists(f"{target} already exists; import never overwrites a chain file")
    target.parent.mkdir(parents=True, exist_ok=True)
    building = target.with_name(f".{target.name}.importing-{os.getpid()}")
    _remove_chain_file(building)  # a leftover of a crashed import by a process with our pid
    try:
        try:
            archive = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except OSError as exc:
            raise ArchiveError(f"cannot read archive {path}: {exc.strerror or exc}") from None
        with archive:
            lines = _lines(archive)
            header = _read_header(lines, expected_genesis)
            summary = _replay(lines, header, building)
        _publish(building, target)
    except BaseException:
        _remove_chain_file(building)
        raise
    return ImportSummary(
        target,
        header.genesis,
        summary.height,
        summary.head_hash,
        summary.app_hash,
        summary.transactions,
    )


def read_archive_genesis(path: Path) -> Genesis:
    """The genesis in an archive's header: which chain it holds, before anything is imported."""
    try:
        archive = open(path, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise ArchiveError(f"cannot read archive {path}: {exc.strerror or exc}") from None
    with archive:
        return _read_header(_lines(archive), None).genesis


def _lines(archive: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, line without its newline); a missing final newline is truncation."""
    number = 0
    while True:
        line = archive.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                raise CorruptArchive(
                    f"line {number} is longer than {MAX_LINE_BYTES} bytes", line=number
                )
            raise CorruptArchive(f"line {number} is truncated (no final newline)", line=number)
        yield number, line[:-1]


def _read_header(lines: Iterator[tuple[int, bytes]], expected: Genesis | None) -> ArchiveHeader:
    first = next(lines, None)
    if first is None:
        raise UnsupportedArchive("the archive is empty", line=1)
    _, raw = first
    try:
        data = parse_json_strict(raw)
    except ChainError as exc:
        raise UnsupportedArchive(f"line 1 is not an archive header: {exc}", line=1) from None
    if not isinstance(data, dict) or data.get("format") != ARCHIVE_FORMAT:
        raise UnsupportedArchive(f"line 1 is not an {ARCHIVE_FORMAT} header", line=1)
    if data.get("version") != ARCHIVE_VERSION:
        raise UnsupportedArchive(
            f"archive format version {data.get('version')!r} is not supported "
            f"(this code reads version {ARCHIVE_VERSION})",
            line=1,
        )
    if set(data) != HEADER_FIELDS:
        raise CorruptArchive(
            f"line 1: the header needs exactly the fields {', '.join(sorted(HEADER_FIELDS))}",
            line=1,
        )
    try:
        genesis = genesis_from_dict(data["genesis"])
    except ChainError as exc:
        raise CorruptArchive(f"line 1: the archive's genesis is invalid: {exc}", line=1) from None
    height, head_hash, state_hash = data["height"], data["head_hash"], data["app_hash"]
    if type(height) is not int or height < 0:
        raise CorruptArchive("line 1: height must be a non-negative integer", line=1)
    if not isinstance(head_hash, str) or not isinstance(state_hash, str):
        raise CorruptArchive("line 1: head_hash and app_hash must be strings", line=1)
    if expected is not None and genesis.hash != expected.hash:
        raise ArchiveMismatch(
            f"the archive is of chain {genesis.chain_id!r} with genesis {genesis.hash[:16]}, "
            f"not {expected.chain_id!r} with genesis {expected.hash[:16]}",
            line=1,
        )
    return ArchiveHeader(genesis, height, head_hash, state_hash)


@dataclass(frozen=True)
class _Replayed:
    height: int
    head_hash: str
    app_hash: str
    transactions: int


def _replay(lines: Iterator[tuple[int, bytes]], header: ArchiveHeader, building: Path) -> _Replayed:
    node = ChainNode.open(building, header.genesis)
    try:
        transactions = 0
        for number, raw in lines:
            height = node.height + 1
            block = _parse_block(raw, number, height)
            if height > header.height:
                raise CorruptArchive(
                    f"line {number}: block {height} is beyond the header's height {header.height}",
                    line=number,
                    height=height,
                )
            try:
                node.finalize_block(block)
            except ChainError as exc:
                raise CorruptArchive(
                    f"line {number}: block {height} does not verify: {exc}",
                    line=number,
                    height=height,
                ) from None
            node.commit()
            transactions += len(block.transactions)
        if node.height != header.height:
            raise CorruptArchive(
                f"the archive ends at block {node.height}, its header says {header.height} (truncated)",
                height=node.height + 1,
            )
        if node.head_hash != header.head_hash or node.app_hash != header.app_hash:
            raise ArchiveMismatch(
                f"replaying the archive gives head {node.head_hash} with app hash {node.app_hash}; "
                f"its header claims {header.head_hash} with app hash {header.app_hash}",
                line=1,
                height=node.height,
            )
        return _Replayed(node.height, node.head_hash, node.app_hash, transactions)
    finally:
        node.close()


def _parse_block(raw: bytes, number: int, height: int) -> Block:
    try:
        block = block_from_dict(parse_json_strict(raw))
    except ChainError as exc:
        raise CorruptArchive(
            f"line {number} (block {height}) is unreadable: {exc}", line=number, height=height
        ) from None
    if block.height != height:
        raise CorruptArchive(
            f"line {number} holds block {block.height}, block {height} was expected",
            line=number,
            height=height,
        )
    return block


def _publish(building: Path, target: Path) -> None:
    """Move the verified file into place without ever overwriting (link fails if target exists)."""
    for suffix in _SQLITE_SIDECARS:  # closed cleanly, so these should be gone; never carry them
        _unlink(Path(f"{building}{suffix}"))
    try:
        os.link(building, target)
    except FileExistsError:
        raise ArchiveTargetExists(
            f"{target} appeared during the import; import never overwrites a chain file"
        ) from None
    except OSError:  # a filesystem without hard links: check, then rename (a tiny race)
        if _exists_with_sidecars(target):
            raise ArchiveTargetExists(
                f"{target} appeared during the import; import never overwrites a chain file"
            ) from None
        os.replace(building, target)
    _unlink(building)
    fsync_directory(target.parent)


# --- files --------------------------------------------------------------------------------------


def _exists_with_sidecars(path: Path) -> bool:
    return any(Path(f"{path}{suffix}").exists() for suffix in ("", *_SQLITE_SIDECARS))


def _remove_chain_file(path: Path) -> None:
    for suffix in ("", *_SQLITE_SIDECARS):
        _unlink(Path(f"{path}{suffix}"))


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


