"""Request and response bodies of the chain and explorer endpoints, shared with the client.

Blocks and transactions travel in their canonical dict form (`to_dict()` of
the chain core), the same form that is signed and hashed, so a client can
re-verify what it receives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from annotated_types import Ge, Le, MaxLen

from aitbc_daemon.api_model import ApiModel


@dataclass
class ChainSummary(ApiModel):
    chain_id: str
    height: int
    head_hash: str
    is_devnet: bool
    mining: str  # "instant", "every Ns" or "follower"


@dataclass
class ChainList(ApiModel):
    chains: list[ChainSummary]


@dataclass
class ChainStatus(ApiModel):
    chain_id: str
    height: int
    head_hash: str
    head_time: int
    app_hash: str
    block_time: str
    mining: str
    is_devnet: bool
    mempool_size: int
    tx_per_second: float
    authorities: list[str]
    total_supply: int
    following: str | None = None
    upstream_height: int | None = None
    follow_error: str | None = None
    # With a DAO: scheduled protocol upgrades (name -> height) and modules paused by the DAO.
    upgrades: dict[str, int] | None = None
    paused: list[str] | None = None
    halted: str | None = None  # why this node produces and accepts no next block, if it does not
    min_fee: int = 0  # the chain's consensus minimum fee (chain.min_fee)
    block_reward: int = 0  # paid to each block's proposer from the DAO treasury (chain.block_reward)


@dataclass
class CreateChain(ApiModel):
    """A genesis, and optionally the hex ed25519 key of one of its authorities (then this daemon proposes)."""

    genesis: dict[str, Any]
    authority_key: Annotated[str, MaxLen(64)] | None = None


@dataclass
class SubmitBatch(ApiModel):
    transactions: Annotated[list[dict[str, Any]], MaxLen(5000)]


@dataclass
class SubmitResult(ApiModel):
    hash: str | None
    accepted: bool
    code: str | None = None
    message: str | None = None


@dataclass
class BatchResult(ApiModel):
    accepted: int
    rejected: int
    height: int
    results: list[SubmitResult]


@dataclass
class TxInfo(ApiModel):
    hash: str
    status: str  # pending, included or failed
    height: int | None
    reason: str | None
    code: str | None
    transaction: dict[str, Any]


@dataclass
class BlockInfo(ApiModel):
    hash: str
    header: dict[str, Any]
    transactions: list[dict[str, Any]]


@dataclass
class BlockHeaders(ApiModel):
    blocks: list[dict[str, Any]]


@dataclass
class AccountInfo(ApiModel):
    address: str
    balance: int
    nonce: int
    pending_nonce: int


@dataclass
class EscrowInfo(ApiModel):
    escrow_id: str
    payer: str
    arbiter: str
    amount: int
    status: str  # locked, released or refunded
    payee: str | None = None
    receipt_hash: str | None = None  # the job receipt a release paid for


@dataclass
class SearchResult(ApiModel):
    kind: str  # block, tx or account
    value: dict[str, Any]


@dataclass
class MineRequest(ApiModel):
    blocks: Annotated[int, Ge(1), Le(1000)] = 1


@dataclass
class MineResult(ApiModel):
    height: int
    blocks: list[dict[str, Any]]


@dataclass
class AdvanceRequest(ApiModel):
    seconds: Annotated[int, Ge(1), Le(10 * 365 * 24 * 3600)]


@dataclass
class AdvanceResult(ApiModel):
    height: int
    block_time: int


@dataclass
class DevAccount(ApiModel):
    index: int
    address: str
    private_key: str
    balance: int


@dataclass
class DevAccounts(ApiModel):
    warning: str
    accounts: list[DevAccount]


@dataclass
class FaucetRequest(ApiModel):
    to: Annotated[str, MaxLen(128)]
    amount: Annotated[int, Ge(1), Le(2**53 - 1)]


@dataclass
class FollowRequest(ApiModel):
    url: Annotated[str, MaxLen(512)]
    token: Annotated[str, MaxLen(512)]
    chain: Annotated[str, MaxLen(64)] = "ait-devnet"


@dataclass
class SyncAnswer(ApiModel):
    """Full blocks from a height on, for followers: they verify and re-execute each."""

    height: int
    blocks: list[dict[str, Any]]


@dataclass
class ArchivePath(ApiModel):
    """An absolute path on this machine: the daemon runs as the same user as its CLI."""

    path: Annotated[str, MaxLen(4096)]


@dataclass
class ExportResult(ApiModel):
    chain_id: str
    path: str
    height: int
    head_hash: str
    app_hash: str


@dataclass
class HistoryPage(ApiModel):
    address: str
    transactions: list[dict[str, Any]]
    next_before: int | None
