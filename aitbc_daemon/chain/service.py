"""The chains this daemon hosts: opening them, admitting transactions, producing blocks.

Each chain lives in `<data>/chains/<chain id>/` (its `genesis.json` and its own
SQLite file). `ait-devnet` is created on first start. A devnet mines
instantly by default, like anvil: a submission returns once its block is
committed, so a script can read its result at once; `block_time` switches a
chain to interval mining. Devnet-only controls (mine, advance, faucet) are
refused on other chains.

A devnet's clock (wall time plus what `advance` added) is saved with the chain,
as an anvil state dump keeps `evm_increaseTime`: after a restart block time
runs on from where the clock stood instead of stalling at the head.

`ChainNode` is not thread-safe and FastAPI runs sync handlers in a thread
pool, so every use of a node holds its chain's lock. Signature verification,
most of the cost of a transaction, runs before the lock and across every core
(PyNaCl releases the GIL while it verifies).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.chain.archive import (
    ArchiveHeader,
    export_chain,
    import_chain,
    read_archive_genesis,
)
from aitbc_daemon.chain.block import Block, block_from_dict
from aitbc_daemon.chain.errors import ChainError, StorageError
from aitbc_daemon.chain.follower import FollowTarget, Upstream
from aitbc_daemon.chain.genesis import (
    DEVNET_CHAIN_ID,
    Genesis,
    devnet_genesis,
    devnet_signing_keys,
    genesis_from_dict,
    load_genesis,
    save_genesis,
)
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.tx import Transaction, transaction_from_dict, verify_transaction
from aitbc_daemon.chain.validator_key import ValidatorKey
from aitbc_daemon.errors import AitbcError, Conflict, Forbidden, NotFound
from aitbc_daemon.events import EventBus
from aitbc_daemon.wallet.addresses import address_from_public_key

log = logging.getLogger("aitbc.chain")

CHAIN_DB = "chain.db"
GENESIS_FILE = "genesis.json"
RATE_WINDOW_SECONDS = 60.0
MAX_BATCH = 5_000


class DevnetOnly(Forbidden):
    code = "devnet_only"


@dataclass(frozen=True)
class Submission:
    """The fate of one submitted transaction: accepted (pending or already in a block) or refused."""

    hash: str | None
    error: ChainError | None = None

    @property
    def accepted(self) -> bool:
        return self.error is None


@dataclass
class HostedChain:
    """One open chain, its lock, its clock and its recent throughput."""

    node: ChainNode
    directory: Path
    instant: bool
    upstream: Upstream | None = None  # set when this chain follows another daemon
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock_offset: int = 0
    committed: deque[tuple[float, int]] = field(default_factory=deque)
    upstream_height: int | None = None
    follow_error: str | None = None

    @property
    def chain_id(self) -> str:
        return self.node.chain_id

    @property
    def is_devnet(self) -> bool:
        return self.node.genesis.is_devnet

    def block_time_now(self) -> int:
        """The timestamp for a new block: wall clock plus devnet advances, never before the head."""
        return max(int(time.time()) + self.clock_offset, self.node.head_timestamp)

    def restore_clock(self) -> None:
        """Devnet: take the clock up where it stood when the chain was last open.

        The saved offset keeps "wall time + offset" running across a restart. A
        devnet file without one (an imported archive: archives hold blocks only)
        whose head is ahead of wall time gets the offset that puts the clock at
        its head, so new blocks move on from there rather than stall at it.
        Followers never stamp blocks, so they keep no clock.
        """
        if not self.is_devnet or self.upstream is not None:
            return
        saved = self.node.store.clock_offset()
        if saved is None:
            saved = max(0, self.node.head_timestamp - int(time.time()))
            if saved:
                try:
                    self.node.store.set_clock_offset(saved)
                except StorageError as exc:  # the clock runs; only the next restart may lose it
                    log.warning("chain %s: devnet clock offset not saved: %s", self.chain_id, exc)
        self.clock_offset = saved

    def move_clock(self, seconds: int) -> None:
        """Devnet: add `seconds` to the clock, saved before use (so a crash keeps the advance)."""
        self.node.store.set_clock_offset(self.clock_offset + seconds)
        self.clock_offset += seconds

    def can_propose(self) -> bool:
        return self.node.proposer_for_next_block() in self.node.authority_addresses()

    def record_block(self, block: Block) -> None:
        now = time.monotonic()
        self.committed.append((now, len(block.transactions)))
        while self.committed and self.committed[0][0] < now - RATE_WINDOW_SECONDS:
            self.committed.popleft()

    def tx_rate(self) -> float:
        now = time.monotonic()
        recent = sum(n for t, n in self.committed if t >= now - RATE_WINDOW_SECONDS)
        return recent / RATE_WINDOW_SECONDS

    def mining(self, interval: float) -> str:
        if self.upstream is not None:
            return "following"
        if not self.can_propose():
            return "not an authority here"
        return "instant" if self.instant else f"every {interval:g}s"


class ChainService:
    """Opens, creates and drives the daemon's chains; publishes `chain.*` events."""

    def __init__(self, chains_dir: Path, bus: EventBus, *, block_time: float = 0.0):
        self.chains_dir = chains_dir
        self.bus = bus
        self.block_time = block_time
        self.chains: dict[str, HostedChain] = {}
        self._verify_workers = os.cpu_count() or 1
        self._verifier = ThreadPoolExecutor(self._verify_workers, thread_name_prefix="verify")

    # --- opening and creating ----------------------------------------------------------------

    def open_all(self) -> None:
        self.chains_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not (self.chains_dir / DEVNET_CHAIN_ID / GENESIS_FILE).exists():
            self._write_genesis(devnet_genesis())
        for directory in sorted(
            p for p in self.chains_dir.iterdir() if (p / GENESIS_FILE).exists()
        ):
            genesis = load_genesis(directory / GENESIS_FILE)
            self.chains[genesis.chain_id] = self._open(directory, genesis)

    def create(self, genesis: Genesis, authority_key: SigningKey | None = None) -> HostedChain:
        """Host a new chain; with `authority_key` (one of the genesis authorities) this daemon proposes."""
        if genesis.chain_id in self.chains:
            raise Conflict(f"chain {genesis.chain_id!r} already exists", code="chain_exists")
        if authority_key is not None:
            address = address_from_public_key(bytes(authority_key.verify_key))
            if genesis.authority_by_address(address) is None:
                raise AitbcError(
                    f"the key's address {address} is not an authority of {genesis.chain_id!r}",
                    code="not_an_authority",
                )
        directory = self._write_genesis(genesis)
        if authority_key is not None:
            ValidatorKey(authority_key).save(directory)
        hosted = self._open(directory, genesis)
        self.chains[genesis.chain_id] = hosted
        self.bus.publish("chain.created", {"chain": genesis.chain_id})
        return hosted

    def _write_genesis(self, genesis: Genesis) -> Path:
        directory = self.chains_dir / genesis.chain_id
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        save_genesis(genesis, directory / GENESIS_FILE)
        return directory

    def _open(self, directory: Path, genesis: Genesis) -> HostedChain:
        target = FollowTarget.load(directory)
        # A follower never proposes, even on a devnet whose keys everyone knows.
        keys: list[SigningKey] = devnet_signing_keys() if genesis.is_devnet and target is None else []
        validator = ValidatorKey.load(directory)
        if validator is not None and target is None:
            keys.append(validator.key)
        node = ChainNode.open(directory / CHAIN_DB, genesis, signing_keys=keys)
        log.info("opened chain %s at height %d (%s)", genesis.chain_id, node.height, directory)
        if target is not None:
            return HostedChain(node, directory, instant=False, upstream=Upstream(target, genesis.chain_id))
        hosted = HostedChain(node, directory, instant=genesis.is_devnet and self.block_time <= 0)
        hosted.restore_clock()
        return hosted

    def follow(self, url: str, token: str, chain_id: str) -> HostedChain:
        """Host `chain_id` as a follower of the daemon at `url` (its TCP listener)."""
        target = FollowTarget(url, token)
        upstream = Upstream(target, chain_id)
        try:
            genesis = genesis_from_dict(upstream.genesis())
        finally:
            upstream.close()
        existing = self.chains.get(chain_id)
        if existing is not None:
            self._check_replaceable(existing, genesis)
            with existing.lock:
                existing.node.close()
        directory = self._write_genesis(genesis)
        target.save(directory)
        hosted = self._open(directory, genesis)
        self.chains[chain_id] = hosted
        self.bus.publish("chain.following", {"chain": chain_id, "url": url})
        return hosted

    @staticmethod
    def _check_replaceable(existing: HostedChain, genesis: Genesis) -> None:
        """Only an untouched local copy of the same genesis may turn into a follower."""
        chain_id = genesis.chain_id
        if existing.upstream is not None:
            raise Conflict(f"chain {chain_id!r} is already followed", code="already_following")
        if existing.node.genesis.hash != genesis.hash:
            raise Conflict(f"the local chain {chain_id!r} has another genesis than the one followed",
                           code="genesis_mismatch")
        if existing.node.height or len(existing.node.mempool):
            raise Conflict(
                f"the local chain {chain_id!r} has {existing.node.height} blocks of its own; "
                "follow it from a fresh AITBC_HOME",
                code="chain_not_empty",
            )

    def export(self, chain_id: str, path: Path) -> ArchiveHeader:
        """Write the whole chain to `path` (an archive that `import_archive` verifies block by block)."""
        hosted = self.get(chain_id)
        with hosted.lock:  # the store's connection is shared: one user at a time
            return export_chain(hosted.node, path)

    def import_archive(self, path: Path) -> HostedChain:
        """Host a chain rebuilt from an archive; every block is replayed and verified first."""
        genesis = read_archive_genesis(path)
        directory = self.chains_dir / genesis.chain_id
        existing = self.chains.get(genesis.chain_id)
        if existing is not None:
            if existing.node.height or existing.upstream is not None:
                raise Conflict(f"chain {genesis.chain_id!r} is already hosted here", code="chain_exists")
            self._check_replaceable(existing, genesis)  # an untouched copy of the same genesis gives way
            with existing.lock:
                existing.node.close()
                for leftover in directory.glob(CHAIN_DB + "*"):
                    leftover.unlink()
        try:
            import_chain(path, directory / CHAIN_DB, expected_genesis=genesis)
        except ChainError:
            if existing is not None:  # put the empty chain back as it was
                self.chains[genesis.chain_id] = self._open(directory, existing.node.genesis)
            raise
        save_genesis(genesis, directory / GENESIS_FILE)
        hosted = self._open(directory, genesis)
        self.chains[genesis.chain_id] = hosted
        self.bus.publish("chain.imported", {"chain": genesis.chain_id, "height": hosted.node.height})
        return hosted

    def sync_once(self, chain_id: str) -> int:
        """Fetch, verify, re-execute and commit the next blocks from upstream; how many were applied."""
        hosted = self.get(chain_id)
        assert hosted.upstream is not None
        answer = hosted.upstream.sync(hosted.node.height + 1)
        hosted.upstream_height = int(answer["height"])
        applied = 0
        for raw in answer["blocks"]:
            block = block_from_dict(raw)
            with hosted.lock:
                hosted.node.finalize_block(block)
                hosted.node.commit()
            hosted.record_block(block)
            applied += 1
            self.bus.publish(
                "chain.block",
                {"chain": chain_id, "height": block.height, "hash": block.hash, "txs": len(block.transactions)},
            )
        hosted.follow_error = None
        return applied

    def next_nonce(self, chain_id: str, address: str) -> int:
        """The nonce a new transaction from `address` should carry, counting pending ones."""
        hosted = self.get(chain_id)
        if hosted.upstream is not None:
            return int(hosted.upstream.account(address)["pending_nonce"])
        with hosted.lock:
            return int(hosted.node.account(address)["pending_nonce"])

    def get(self, chain_id: str) -> HostedChain:
        try:
            return self.chains[chain_id]
        except KeyError:
            known = ", ".join(sorted(self.chains)) or "none"
            raise NotFound(
                f"no chain named {chain_id!r} (hosted: {known})", code="chain_not_found"
            ) from None

    def interval(self, hosted: HostedChain) -> float:
        """Seconds between blocks when not instant: the setting on a devnet, else the genesis."""
        if hosted.is_devnet and self.block_time > 0:
            return self.block_time
        return float(hosted.node.genesis.block_time)

    def close(self) -> None:
        self._verifier.shutdown(wait=True)
        for hosted in self.chains.values():
            with hosted.lock:
                hosted.node.close()
            if hosted.upstream is not None:
                hosted.upstream.close()

    # --- transactions ------------------------------------------------------------------------

    def submit(self, chain_id: str, raw_transactions: Sequence[Any]) -> list[Submission]:
        """Admit each transaction or say why not; on an instant chain, mine them before returning."""
        if len(raw_transactions) > MAX_BATCH:
            raise AitbcError(
                f"a batch holds at most {MAX_BATCH} transactions", code="batch_too_large"
            )
        hosted = self.get(chain_id)
        if hosted.upstream is not None:
            return self._forward(hosted, raw_transactions)
        parsed: list[Transaction | ChainError] = [_parse(raw) for raw in raw_transactions]
        verdicts = self._verify_all(parsed, hosted.chain_id)
        sound = [
            item for item, verdict in zip(parsed, verdicts, strict=True)
            if isinstance(item, Transaction) and verdict is None
        ]
        with hosted.lock:
            admitted = iter(hosted.node.check_txs(sound, verified=True))  # one SQLite write for all
            results: list[Submission] = []
            for item, verdict in zip(parsed, verdicts, strict=True):
                problem = item if isinstance(item, ChainError) else verdict
                if problem is not None:
                    results.append(Submission(getattr(item, "hash", None), problem))
                    continue
                outcome = next(admitted)
                results.append(Submission(item.hash, outcome if isinstance(outcome, ChainError) else None))
            if hosted.instant and any(r.accepted for r in results):
                self._mine_pending(hosted)
        accepted = sum(r.accepted for r in results)
        if accepted:
            self.bus.publish("chain.txs_accepted", {"chain": chain_id, "count": accepted})
        return results

    def _forward(self, hosted: HostedChain, raw_transactions: Sequence[Any]) -> list[Submission]:
        """A follower passes submissions to the authority and reports its verdicts as its own."""
        assert hosted.upstream is not None
        answer = hosted.upstream.submit_batch(list(raw_transactions))
        return [
            Submission(r["hash"], None if r["accepted"] else _upstream_refusal(r["code"], r["message"]))
            for r in answer["results"]
        ]

    def _verify_all(
        self, parsed: Sequence[Transaction | ChainError], chain_id: str
    ) -> list[ChainError | None]:
        """Signature and chain-id checks for every transaction, spread over the verifier threads."""
        transactions = [item for item in parsed if isinstance(item, Transaction)]
        size = max(1, -(-len(transactions) // self._verify_workers))
        chunks = [transactions[i : i + size] for i in range(0, len(transactions), size)]
        verdicts: dict[int, ChainError | None] = {}
        for chunk, outcome in zip(
            chunks, self._verifier.map(lambda c: _verify_chunk(c, chain_id), chunks)
        ):
            verdicts.update(zip((id(tx) for tx in chunk), outcome))
        return [None if isinstance(item, ChainError) else verdicts[id(item)] for item in parsed]

    # --- blocks ------------------------------------------------------------------------------

    def _mine_pending(self, hosted: HostedChain) -> list[Block]:
        """Produce blocks until the mempool has nothing includable (caller holds the lock)."""
        blocks = []
        while len(hosted.node.mempool):
            block = self._produce(hosted)
            blocks.append(block)
            if not block.transactions:
                break
        return blocks

    def _produce(self, hosted: HostedChain) -> Block:
        block = hosted.node.produce_block(hosted.block_time_now())
        hosted.record_block(block)
        self.bus.publish(
            "chain.block",
            {
                "chain": hosted.chain_id,
                "height": block.height,
                "hash": block.hash,
                "txs": len(block.transactions),
            },
        )
        return block

    def mine(self, chain_id: str, blocks: int) -> list[Block]:
        """Devnet: produce `blocks` blocks now, with whatever the mempool holds."""
        hosted = self.devnet(chain_id, "mine")
        with hosted.lock:
            return [self._produce(hosted) for _ in range(blocks)]

    def advance(self, chain_id: str, seconds: int) -> int:
        """Devnet: move block time forward by `seconds` and seal that in a block; the new time."""
        hosted = self.devnet(chain_id, "advance")
        with hosted.lock:
            hosted.move_clock(seconds)
            try:
                block = self._produce(hosted)
            except BaseException:
                try:  # a refused advance changes nothing
                    hosted.move_clock(-seconds)
                except StorageError as exc:
                    log.warning("chain %s: devnet clock not moved back: %s", chain_id, exc)
                raise
        return block.header.timestamp

    def produce_next(self, chain_id: str) -> Block | None:
        """Interval mining: the next block (empty if need be, as anvil does) if it is ours to propose."""
        hosted = self.get(chain_id)
        with hosted.lock:
            if not hosted.can_propose():
                return None
            return self._produce(hosted)

    def devnet(self, chain_id: str, control: str) -> HostedChain:
        hosted = self.get(chain_id)
        if not hosted.is_devnet:
            raise DevnetOnly(f"'{control}' is a devnet control; chain {chain_id!r} is not a devnet")
        return hosted


def _upstream_refusal(code: str | None, message: str | None) -> ChainError:
    refusal = ChainError(f"refused by the chain's authority: {message}")
    refusal.code = code or "tx_rejected"
    refusal.status = 409
    return refusal


def _parse(raw: Any) -> Transaction | ChainError:
    try:
        return transaction_from_dict(raw)
    except ChainError as exc:
        return exc


def _verify_chunk(transactions: Sequence[Transaction], chain_id: str) -> list[ChainError | None]:
    verdicts: list[ChainError | None] = []
    for tx in transactions:
        try:
            verify_transaction(tx, chain_id)
        except ChainError as exc:
            verdicts.append(exc)
        else:
            verdicts.append(None)
    return verdicts
