"""HTTP layer of the chains and their explorer queries. Thin: parse, call the service, shape."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from nacl.signing import SigningKey

from aitbc_daemon.chain.block import Block
from aitbc_daemon.chain.genesis import devnet_signing_keys, genesis_from_dict
from aitbc_daemon.chain.models import (
    AccountInfo,
    AdvanceRequest,
    AdvanceResult,
    ArchivePath,
    BatchResult,
    BlockHeaders,
    BlockInfo,
    ChainList,
    ChainStatus,
    ChainSummary,
    CreateChain,
    DevAccount,
    DevAccounts,
    EscrowInfo,
    ExportResult,
    FaucetRequest,
    FollowRequest,
    HistoryPage,
    MineRequest,
    MineResult,
    SearchResult,
    SubmitBatch,
    SubmitResult,
    SyncAnswer,
    TxInfo,
)
from aitbc_daemon.chain.producer import background_job
from aitbc_daemon.chain.service import ChainService, HostedChain, Submission
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.runtime import DaemonRuntime, get_runtime
from aitbc_daemon.wallet import service as wallet_service
from aitbc_daemon.wallet.addresses import address_from_public_key
from aitbc_daemon.wallet.keystore import parse_private_key
from aitbc_daemon.wallet.models import TransferResult

router = APIRouter(prefix="/v1/chains", tags=["chain"])
MAX_BLOCK_RANGE = 1000
_HEX64 = re.compile(r"[0-9a-f]{64}")


def get_chains(runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> ChainService:
    return runtime.chains


Chains = Annotated[ChainService, Depends(get_chains)]


def _summary(chains: ChainService, hosted: HostedChain) -> ChainSummary:
    node = hosted.node
    return ChainSummary(
        node.chain_id,
        node.height,
        node.head_hash,
        hosted.is_devnet,
        hosted.mining(chains.interval(hosted)),
    )


@router.get("")
def list_chains(chains: Chains) -> ChainList:
    return ChainList([_summary(chains, hosted) for hosted in chains.chains.values()])


@router.post("", status_code=201)
async def create_chain(body: CreateChain, runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> ChainSummary:
    genesis = genesis_from_dict(body.genesis)
    key = SigningKey(parse_private_key(body.authority_key)) if body.authority_key else None
    hosted = await asyncio.to_thread(runtime.chains.create, genesis, key)
    _start_background_job(runtime, genesis.chain_id)
    return _summary(runtime.chains, hosted)


def _start_background_job(runtime: DaemonRuntime, chain_id: str) -> None:
    """Interval production or following, for a chain added while the daemon runs."""
    job = background_job(runtime.chains, chain_id)
    if job is not None:
        name, coroutine = job
        runtime.start_task(coroutine, name=name)


@router.post("/follow", status_code=201)
async def follow_chain(body: FollowRequest, runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> ChainSummary:
    """Follow a chain of another daemon: verify and re-execute its blocks, forward submissions to it."""
    hosted = await asyncio.to_thread(runtime.chains.follow, body.url, body.token, body.chain)
    _start_background_job(runtime, body.chain)
    return _summary(runtime.chains, hosted)


@router.post("/import", status_code=201)
def import_archive(body: ArchivePath, chains: Chains) -> ChainSummary:
    """Host a chain from an archive; every block is replayed and verified before it is hosted."""
    return _summary(chains, chains.import_archive(_absolute(body.path)))


@router.post("/{chain}/export")
def export_archive(chain: str, body: ArchivePath, chains: Chains) -> ExportResult:
    header = chains.export(chain, _absolute(body.path))
    return ExportResult(chain, body.path, header.height, header.head_hash, header.app_hash)


def _absolute(path: str) -> Path:
    if not Path(path).is_absolute():
        raise AitbcError(f"archive path {path!r} must be absolute", code="invalid_path")
    return Path(path)


@router.get("/{chain}/accounts/{address}/history")
def account_history(
    chain: str,
    address: str,
    chains: Chains,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> HistoryPage:
    """An address's transactions, newest first (its pending ones lead the first page)."""
    hosted = chains.get(chain)
    with hosted.lock:
        entries = hosted.node.history(address, limit, before)
    committed = [e for e in entries if e["id"] is not None]
    next_before = committed[-1]["id"] if len(committed) == limit else None
    return HistoryPage(address, entries, next_before)


@router.get("/{chain}/genesis")
def get_genesis(chain: str, chains: Chains) -> dict:  # type: ignore[type-arg]
    return chains.get(chain).node.genesis.to_dict()


@router.get("/{chain}/sync")
def sync(
    chain: str,
    chains: Chains,
    start: Annotated[int, Query(alias="from", ge=1)],
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> SyncAnswer:
    hosted = chains.get(chain)
    with hosted.lock:
        height = hosted.node.height
        blocks = [hosted.node.block(height=h) for h in range(start, min(height, start + limit - 1) + 1)]
    return SyncAnswer(height, [b.to_dict() for b in blocks if b is not None])


@router.get("/{chain}/status")
def chain_status(chain: str, chains: Chains) -> ChainStatus:
    hosted = chains.get(chain)
    with hosted.lock:
        node = hosted.node
        interval = chains.interval(hosted)
        governance = node.governance()
        return ChainStatus(
            chain_id=node.chain_id,
            height=node.height,
            head_hash=node.head_hash,
            head_time=node.head_timestamp,
            app_hash=node.app_hash,
            block_time="instant" if hosted.instant else f"{interval:g}s",
            mining=hosted.mining(interval),
            is_devnet=hosted.is_devnet,
            mempool_size=len(node.mempool),
            tx_per_second=round(hosted.tx_rate(), 3),
            authorities=[a.address for a in node.genesis.authorities],
            total_supply=node.genesis.total_supply,
            following=hosted.upstream.url if hosted.upstream else None,
            upstream_height=hosted.upstream_height,
            follow_error=hosted.follow_error,
            **governance,
        )


def _result(submission: Submission) -> SubmitResult:
    error = submission.error
    return SubmitResult(submission.hash, error is None, error and error.code, error and error.message)


@router.post("/{chain}/txs", status_code=202)
def submit_transaction(chain: str, body: dict, chains: Chains) -> SubmitResult:  # type: ignore[type-arg]
    """Submit one signed transaction; a refusal is a 4xx with the reason's code."""
    (submission,) = chains.submit(chain, [body])
    if submission.error is not None:
        raise submission.error
    return _result(submission)


@router.post("/{chain}/txs/batch")
def submit_batch(chain: str, body: SubmitBatch, chains: Chains) -> BatchResult:
    """Submit up to 5,000 signed transactions; each gets its own verdict."""
    submissions = chains.submit(chain, body.transactions)
    accepted = sum(s.accepted for s in submissions)
    return BatchResult(
        accepted,
        len(submissions) - accepted,
        chains.get(chain).node.height,
        [_result(s) for s in submissions],
    )


@router.get("/{chain}/txs/{tx_hash}")
def get_transaction(chain: str, tx_hash: str, chains: Chains) -> TxInfo:
    hosted = chains.get(chain)
    with hosted.lock:
        status = hosted.node.transaction(tx_hash.lower())
    if status is None:
        raise NotFound(f"no transaction {tx_hash} on {chain}", code="tx_not_found")
    return TxInfo(**status.to_dict())


@router.get("/{chain}/blocks")
def list_blocks(
    chain: str,
    chains: Chains,
    start: Annotated[int | None, Query(alias="from", ge=1)] = None,
    end: Annotated[int | None, Query(alias="to", ge=1)] = None,
) -> BlockHeaders:
    """Block headers from `from` to `to` (inclusive; default the latest 20), at most 1,000."""
    hosted = chains.get(chain)
    with hosted.lock:
        height = hosted.node.height
        last = min(end or height, height)
        first = start or max(1, last - 19)
        if first > last + 1 and start is not None:
            raise AitbcError(f"from ({first}) is after to ({last})", code="invalid_range")
        if last - first + 1 > MAX_BLOCK_RANGE:
            raise AitbcError(f"at most {MAX_BLOCK_RANGE} blocks at a time", code="invalid_range")
        headers = [hosted.node.store.header(h) for h in range(first, last + 1)]
    return BlockHeaders([{"hash": h.hash, **h.to_dict()} for h in headers if h is not None])


@router.get("/{chain}/blocks/{ref}")
def get_block(chain: str, ref: str, chains: Chains) -> BlockInfo:
    """A block by height, hash, or `latest`."""
    hosted = chains.get(chain)
    with hosted.lock:
        block = _find_block(hosted, ref)
    if block is None:
        raise NotFound(f"no block {ref} on {chain}", code="block_not_found")
    return BlockInfo(hash=block.hash, **block.to_dict())


def _find_block(hosted: HostedChain, ref: str) -> Block | None:
    node = hosted.node
    if ref == "latest":
        return node.block(height=node.height) if node.height else None
    if ref.isdigit():
        return node.block(height=int(ref))
    if _HEX64.fullmatch(ref.lower()):
        return node.block(block_hash=ref.lower())
    raise AitbcError(f"{ref!r} is not a height, a block hash or 'latest'", code="invalid_block_ref")


@router.get("/{chain}/accounts/{address}")
def get_account(chain: str, address: str, chains: Chains) -> AccountInfo:
    hosted = chains.get(chain)
    with hosted.lock:
        return AccountInfo(**hosted.node.account(address))


@router.get("/{chain}/escrows/{escrow_id}")
def get_escrow(chain: str, escrow_id: str, chains: Chains) -> EscrowInfo:
    """An escrow as the chain holds it: payer, arbiter, amount, status, payee, receipt hash."""
    hosted = chains.get(chain)
    with hosted.lock:
        found = hosted.node.query("escrow", {"escrow_id": escrow_id})
    if found is None:
        raise NotFound(f"no escrow {escrow_id!r} on {chain}", code="escrow_not_found")
    return EscrowInfo(**found)


@router.get("/{chain}/search")
def search(
    chain: str, q: Annotated[str, Query(min_length=1, max_length=128)], chains: Chains
) -> SearchResult:
    """Find a block (height or hash), a transaction (hash) or an account (address)."""
    hosted = chains.get(chain)
    text = q.strip().lower()
    with hosted.lock:
        node = hosted.node
        if text.isdigit():
            block = node.block(height=int(text))
            if block is not None:
                return SearchResult("block", {"hash": block.hash, **block.header.to_dict()})
        elif text.startswith("ait1"):
            return SearchResult("account", node.account(text))
        elif _HEX64.fullmatch(text):
            block = node.block(block_hash=text)
            if block is not None:
                return SearchResult("block", {"hash": block.hash, **block.header.to_dict()})
            status = node.transaction(text)
            if status is not None:
                return SearchResult("tx", status.to_dict())
        elif len(text) >= 6 and all(c in "0123456789abcdef" for c in text):
            matches = node.store.find_by_hash_prefix(text, limit=10)
            if len(matches) == 1:
                match = matches[0]
                return SearchResult(match.kind, {"hash": match.hash, "height": match.height})
            if matches:
                listed = [{"kind": m.kind, "hash": m.hash, "height": m.height} for m in matches]
                return SearchResult("matches", {"prefix": text, "matches": listed})
    raise NotFound(f"nothing on {chain} matches {q!r}", code="no_match")


@router.post("/{chain}/mine")
def mine(chain: str, body: MineRequest, chains: Chains) -> MineResult:
    blocks = chains.mine(chain, body.blocks)
    return MineResult(
        blocks[-1].height,
        [{"hash": b.hash, "height": b.height, "txs": len(b.transactions)} for b in blocks],
    )


@router.post("/{chain}/advance")
def advance(chain: str, body: AdvanceRequest, chains: Chains) -> AdvanceResult:
    block_time = chains.advance(chain, body.seconds)
    return AdvanceResult(chains.get(chain).node.height, block_time)


@router.get("/{chain}/dev-accounts")
def dev_accounts(chain: str, chains: Chains) -> DevAccounts:
    hosted = chains.devnet(chain, "dev-accounts")
    with hosted.lock:
        accounts = [
            DevAccount(i, address, bytes(key).hex(), hosted.node.balance(address))
            for i, key in enumerate(devnet_signing_keys())
            for address in [address_from_public_key(bytes(key.verify_key))]
        ]
    return DevAccounts(
        "UNSAFE: these keys are derived from a public string; anyone can spend from them. Devnet only.",
        accounts,
    )


@router.post("/{chain}/faucet", status_code=202)
def faucet(chain: str, body: FaucetRequest, runtime: Annotated[DaemonRuntime, Depends(get_runtime)]) -> TransferResult:
    """Devnet: pay from the faucet dev account."""
    submission = wallet_service.faucet(runtime.chains, chain, body.to, body.amount)
    return wallet_service.transfer_result(runtime.chains, chain, submission)
