"""Request and response bodies of the staking endpoints, shared with the client.

Amounts are integer units; times are block timestamps (seconds since the epoch).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Units = Annotated[int, Ge(1), Le(2**53 - 1)]
Fee = Annotated[int, Ge(0), Le(2**53 - 1)]
Password = Annotated[str, MinLen(1), MaxLen(1024)]
PositionId = Annotated[int, Ge(1), Le(2**53 - 1)]


@dataclass
class PoolInfo(ApiModel):
    id: str
    reward_rate: int  # units per second, shared by the pool's stakers
    lock_seconds: int
    early_exit_penalty_bps: int
    budget: int  # emission budget at genesis
    remaining: int  # budget not yet paid out or accrued (penalties flow back into it)
    staked: int
    total_weight: int


@dataclass
class PoolList(ApiModel):
    chain: str
    time: int  # the head's timestamp, to which the pools are accrued
    pools: list[PoolInfo]


@dataclass
class PositionInfo(ApiModel):
    id: int
    owner: str
    pool: str
    amount: int
    weight: int
    multiplier_bps: int
    start: int
    unlock_at: int
    locked: bool
    penalty: int  # what unstaking at `time` would keep back
    pending: int  # rewards claimable at `time`
    tx: str


@dataclass
class PositionList(ApiModel):
    chain: str
    owner: str
    time: int  # the head's timestamp: pending rewards and locks are as of then
    positions: list[PositionInfo]
    pending: int  # total over the positions


@dataclass
class StakeRequest(ApiModel):
    chain: str
    pool: Annotated[str, MaxLen(32)]
    amount: Units
    fee: Fee = 0
    password: Password | None = None


@dataclass
class UnstakeRequest(ApiModel):
    chain: str
    position: PositionId
    accept_penalty: bool = False
    fee: Fee = 0
    password: Password | None = None


@dataclass
class ClaimRequest(ApiModel):
    """`position` None claims every position of the wallet."""

    chain: str
    position: PositionId | None = None
    fee: Fee = 0
    password: Password | None = None


@dataclass
class StakingTxResult(ApiModel):
    hash: str
    chain: str
    type: str  # stake, unstake or claim_rewards
    status: str  # pending, included or failed (forwarded on a follower)
    height: int | None = None
    reason: str | None = None
    code: str | None = None
    position: int | None = None  # the position a stake opened


@dataclass
class MinerMultiplier(ApiModel):
    """One payout address in a coordinator's staking report: its multiplier and why."""

    address: str
    multiplier_bps: int  # reputation x (0.5 + 0.5 x utilization), in basis points
    previous_bps: int  # what the chain held before this report
    reputation: float
    utilization: float
    completed: int
    failed: int
    lost: int
    busy_seconds: float  # time in the window with a paid job running
    status: str  # posted (tx sent), included, failed, unchanged (nothing sent), refused
    tx: str | None = None
    reason: str | None = None


@dataclass
class StakingReport(ApiModel):
    """The coordinator's last `staking_report` round on one chain (`at` None: none yet)."""

    chain: str
    reporter: str  # the address that signs the reports on this chain
    reporter_listed: bool  # in the genesis `staking.reporters`; if not, reports are skipped
    window_seconds: float
    next_at: float  # when the background loop reports next (coordinator clock, seconds since the epoch)
    at: float | None = None
    skipped: str | None = None  # why nothing was reported, when nothing was
    miners: list[MinerMultiplier] = field(default_factory=list)
