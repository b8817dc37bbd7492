"""Pure integer reward arithmetic: a per-pool accumulator of reward per unit of weight.

A pool pays `reward_rate` units per second, shared among its positions in
proportion to their weight, until its emission budget is spent. Instead of
touching every position each second (the brute-force reference in the tests),
the pool keeps `acc`, the reward paid so far per unit of weight, scaled by
`SCALE` = 10**18; a position remembers `acc` when it was last settled
(`acc_at`), so its pending reward is

    pending = credited + weight * (acc - acc_at) // SCALE

and every action is O(1). `accrue(pool, now)` moves the pool to `now`:

    reward = min(reward_rate * (now - last), remaining)      # never past the budget
    acc   += reward * SCALE // total_weight                   # nothing accrues with no weight
    remaining -= reward;  owed += reward

`owed` is what has accrued but not been paid yet. Both divisions round down,
so the positions together are owed at most what was accrued (never more than
the budget), and each position at most what exact per-second sharing would
give it; the rounding dust stays in `owed`, counted in the supply.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

SCALE = 10**18
BPS = 10_000  # basis points in 1.0


@dataclass(frozen=True, slots=True)
class PoolState:
    """A pool's parameters and its running totals (kv "pool:<id>" of module "staking")."""

    id: str
    reward_rate: int  # units per second for the whole pool
    lock_seconds: int
    penalty_bps: int  # early-exit penalty, of the staked amount
    budget: int  # the pool's emission budget at genesis (for display; `remaining` is what is left)
    acc: int = 0  # reward per unit of weight, times SCALE
    last: int = 0  # block timestamp the pool was last accrued to
    total_weight: int = 0
    remaining: int = 0  # budget not yet accrued (early-exit penalties flow back here)
    owed: int = 0  # accrued, not yet paid to positions
    staked: int = 0  # principal of the open positions

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reward_rate": self.reward_rate,
            "lock_seconds": self.lock_seconds,
            "penalty_bps": self.penalty_bps,
            "budget": self.budget,
            "acc": str(self.acc),  # beyond 2**53: kv values are canonical JSON
            "last": self.last,
            "total_weight": self.total_weight,
            "remaining": self.remaining,
            "owed": self.owed,
            "staked": self.staked,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PoolState:
        return cls(**{**data, "acc": int(data["acc"])})


@dataclass(frozen=True, slots=True)
class Position:
    """A stake (kv "position:<id>"): principal, weight, and where its rewards were last settled."""

    id: int
    owner: str
    pool: str
    amount: int
    weight: int  # amount * the owner's multiplier
    acc_at: int  # the pool's acc when last settled
    credited: int  # rewards settled (on a weight change) but not paid yet
    start: int
    unlock_at: int
    tx: str  # hash of the stake transaction

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "owner": self.owner,
            "pool": self.pool,
            "amount": self.amount,
            "weight": self.weight,
            "acc_at": str(self.acc_at),
            "credited": self.credited,
            "start": self.start,
            "unlock_at": self.unlock_at,
            "tx": self.tx,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Position:
        return cls(**{**data, "acc_at": int(data["acc_at"])})


def accrue(pool: PoolState, now: int) -> PoolState:
    """The pool moved forward to `now` (a block timestamp); unchanged if `now` is not later."""
    if now <= pool.last:
        return pool
    if pool.total_weight == 0 or pool.remaining == 0:
        return replace(pool, last=now)  # nobody to pay, or nothing left: the budget is kept
    reward = min(pool.reward_rate * (now - pool.last), pool.remaining)
    return replace(
        pool,
        acc=pool.acc + reward * SCALE // pool.total_weight,
        last=now,
        remaining=pool.remaining - reward,
        owed=pool.owed + reward,
    )


def pending(position: Position, pool: PoolState) -> int:
    """Rewards `position` could claim from `pool` (accrue the pool to the time of interest first)."""
    return position.credited + position.weight * (pool.acc - position.acc_at) // SCALE


def weight_of(amount: int, multiplier_bps: int) -> int:
    return amount * multiplier_bps // BPS


def early_exit_penalty(position: Position, pool: PoolState, now: int) -> int:
    """What leaving at `now` costs: the pool's penalty before the lock ends, else nothing."""
    return position.amount * pool.penalty_bps // BPS if now < position.unlock_at else 0
