"""Request and response bodies of the staking endpoints, shared with the client.

Amounts are integer units; times are block timestamps (seconds since the epoch).
"""

from __future__ import annotations

from dataclasses import dataclass
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
