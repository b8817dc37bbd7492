"""Request and response bodies of the DAO endpoints, shared with the client.

Amounts are integer units; times are block timestamps (seconds since the epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Fee = Annotated[int, Ge(0), Le(2**53 - 1)]
Password = Annotated[str, MinLen(1), MaxLen(1024)]
DaoTxType = Literal[
    "dao_propose",
    "dao_vote",
    "dao_queue",
    "dao_execute",
    "dao_cancel",
    "dao_challenge",
    "dao_council",
    "dao_reclaim_bond",
    "dao_delegate",
    "dao_claim_grant",
]


@dataclass
class DaoParams(ApiModel):
    chain: str
    settings: dict[str, int]
    council: list[str]
    council_threshold: int
    treasury: int
    bonds: int  # proposal and challenge bonds held
    grants_held: int  # granted, not yet claimed
    paused: list[str]
    upgrades: dict[str, int]  # scheduled protocol upgrades: name -> height
    agent_trading: dict[str, Any] | None
    chain_params: dict[str, int] | None = None  # consensus parameters: min_fee, block_reward (units)


@dataclass
class VoterWeight(ApiModel):
    """A voter's weight on a proposal and why: min(min(snapshot power, TWAS) + agent bonus, cap)."""

    address: str
    snapshot_power: int
    twas: int
    cap: int
    weight: int
    limited_by: str  # snapshot, twas or cap
    voted: str | None  # for, against, abstain, or None
    voted_weight: int | None
    bonus: int = 0  # a registered agent's reputation bonus at the snapshot (docs/agents.md)


@dataclass
class ProposalInfo(ApiModel):
    chain: str
    time: int  # the head's timestamp: the state is as of then
    id: int
    type: str
    title: str
    state: str
    proposer: str
    action: dict[str, Any]
    created_height: int
    vote_start: int
    vote_end: int
    eta: int | None
    supply: int
    quorum: int
    cap: int
    votes_for: int
    votes_against: int
    votes_abstain: int
    voters: int
    quorum_progress_bps: int  # (for + abstain) / quorum, in basis points
    bond: int
    bond_held: int
    approvals: list[str]
    vetoes: list[str]
    council_threshold: int
    needs_council: bool
    challenge: dict[str, Any] | None
    grant: dict[str, Any] | None = None
    voter: VoterWeight | None = None


@dataclass
class ProposalSummary(ApiModel):
    id: int
    type: str
    title: str
    state: str
    votes_for: int
    votes_against: int
    votes_abstain: int
    vote_end: int


@dataclass
class ProposalList(ApiModel):
    chain: str
    time: int
    proposals: list[ProposalSummary]


@dataclass
class PowerInfo(ApiModel):
    chain: str
    address: str
    height: int  # the block the power is at (the head when not asked)
    power: int  # as a delegate, at the end of `height`
    delegate: str  # whom this address delegates to now (itself by default)
    delegators: list[str]  # who delegates to it now
    twas_24h: int  # average power over the 24 h before `timestamp`
    timestamp: int | None = None  # block `height`'s timestamp (the genesis's for height 0)


@dataclass
class DaoTxRequest(ApiModel):
    chain: str
    type: DaoTxType
    payload: dict[str, Any]
    fee: Fee = 0
    password: Password | None = None


@dataclass
class DaoTxResult(ApiModel):
    hash: str
    chain: str
    type: str
    status: str  # pending, included, failed, forwarded
    height: int | None = None
    reason: str | None = None
    code: str | None = None
    proposal: int | None = None  # the proposal a dao_propose opened
