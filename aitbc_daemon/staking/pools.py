"""Staking pools as the genesis declares them, the state they start as, and the supply holder.

Genesis section (optional; a genesis without it hashes exactly as before):

    "staking": {
      "pools": {"gpu-flex": {"reward_rate": 10000, "lock_seconds": 0,
                             "early_exit_penalty_bps": 0, "budget": 100000000000}, ...},
      "reporters": ["ait1..."]          # may post `staking_report` (the miner multiplier)
    }

A pool's budget is issued at genesis into the pool (counted in `issued`), not
into any balance: rewards are paid out of it. State (kv module "staking"):
`pools` (the ids), `pool:<id>` (a `PoolState`), `position:<n>`, `owner:<address>`
(its open position ids), `multiplier:<address>` (basis points), `reporters`,
`next_position`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aitbc_daemon.chain.amounts import MAX_AMOUNT, check_amount
from aitbc_daemon.chain.errors import ChainError, InvalidGenesis
from aitbc_daemon.chain.state import ChainState, register_supply_holder
from aitbc_daemon.staking.accumulator import BPS, PoolState
from aitbc_daemon.wallet.addresses import InvalidAddress, decode_address

MODULE = "staking"
POOLS_KEY = "pools"
REPORTERS_KEY = "reporters"
NEXT_POSITION_KEY = "next_position"
POOL_FIELDS = ("reward_rate", "lock_seconds", "early_exit_penalty_bps", "budget")
MAX_LOCK_SECONDS = 4 * 365 * 24 * 3600
POOL_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


def pool_key(pool_id: str) -> str:
    return f"pool:{pool_id}"


def staker_addresses(state: ChainState) -> list[str]:
    """Every address with an open position: a scan of the committed kv, for the coordinator's
    report round (hourly), never for a transition."""
    prefix = "owner:"
    return sorted(
        key[len(prefix) :]
        for (module, key), value in state.kv.items()
        if module == MODULE and key.startswith(prefix) and value
    )


def position_key(position_id: int) -> str:
    return f"position:{position_id}"


def owner_key(address: str) -> str:
    return f"owner:{address}"


def multiplier_key(address: str) -> str:
    return f"multiplier:{address}"


@dataclass(frozen=True)
class PoolParams:
    id: str
    reward_rate: int  # units per second, shared by the pool's stakers
    lock_seconds: int
    early_exit_penalty_bps: int
    budget: int  # units the pool may ever pay (plus penalties that flow back into it)

    def to_dict(self) -> dict[str, int]:
        return {
            "reward_rate": self.reward_rate,
            "lock_seconds": self.lock_seconds,
            "early_exit_penalty_bps": self.early_exit_penalty_bps,
            "budget": self.budget,
        }


@dataclass(frozen=True)
class StakingConfig:
    pools: tuple[PoolParams, ...]  # sorted by id
    reporters: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"pools": {p.id: p.to_dict() for p in self.pools}, "reporters": list(self.reporters)}

    @property
    def total_budget(self) -> int:
        return sum(p.budget for p in self.pools)


def staking_from_dict(data: object) -> StakingConfig:
    """The genesis `staking` section, validated; every problem names the field."""
    if not isinstance(data, dict):
        raise InvalidGenesis("staking must be an object with 'pools' and optionally 'reporters'")
    unknown = sorted(set(data) - {"pools", "reporters"})
    if unknown:
        raise InvalidGenesis(f"unknown staking field(s): {', '.join(unknown)}")
    raw_pools = data.get("pools")
    if not isinstance(raw_pools, dict) or not raw_pools:
        raise InvalidGenesis("staking.pools must be a non-empty object of pool id -> parameters")
    pools = tuple(_pool(pool_id, raw) for pool_id, raw in sorted(raw_pools.items()))
    reporters = data.get("reporters", [])
    if not isinstance(reporters, list):
        raise InvalidGenesis("staking.reporters must be a list of addresses")
    for address in reporters:
        try:
            decode_address(address)
        except (InvalidAddress, TypeError, AttributeError) as exc:
            raise InvalidGenesis(f"staking reporter {address!r}: {exc}") from None
    if len(set(reporters)) != len(reporters):
        raise InvalidGenesis("staking.reporters must be distinct")
    return StakingConfig(pools, tuple(reporters))


def _pool(pool_id: object, raw: object) -> PoolParams:
    if not isinstance(pool_id, str) or POOL_ID.fullmatch(pool_id) is None:
        raise InvalidGenesis(
            f"staking pool id {pool_id!r} must be 1-32 of a-z 0-9 _ - (starting with a-z or 0-9)"
        )
    if not isinstance(raw, dict):
        raise InvalidGenesis(f"staking pool {pool_id}: parameters must be an object")
    unknown = sorted(set(raw) - set(POOL_FIELDS))
    missing = [name for name in POOL_FIELDS if name not in raw]
    if unknown or missing:
        raise InvalidGenesis(
            f"staking pool {pool_id}: needs exactly {', '.join(POOL_FIELDS)}"
            f" (unknown: {', '.join(unknown) or 'none'}; missing: {', '.join(missing) or 'none'})"
        )
    try:
        rate = check_amount(raw["reward_rate"], field=f"staking pool {pool_id}: reward_rate")
        budget = check_amount(raw["budget"], field=f"staking pool {pool_id}: budget")
    except ChainError as exc:
        raise InvalidGenesis(str(exc)) from None
    lock, penalty = raw["lock_seconds"], raw["early_exit_penalty_bps"]
    if type(lock) is not int or not 0 <= lock <= MAX_LOCK_SECONDS:
        raise InvalidGenesis(f"staking pool {pool_id}: lock_seconds must be 0 to {MAX_LOCK_SECONDS}")
    if type(penalty) is not int or not 0 <= penalty <= BPS:
        raise InvalidGenesis(f"staking pool {pool_id}: early_exit_penalty_bps must be 0 to {BPS}")
    return PoolParams(pool_id, rate, lock, penalty, budget)


def write_initial_state(state: ChainState, config: StakingConfig, timestamp: int) -> None:
    """Put the pools (budgets in full, nothing staked) and the reporters into a genesis state."""
    state.kv[(MODULE, POOLS_KEY)] = [p.id for p in config.pools]
    state.kv[(MODULE, REPORTERS_KEY)] = list(config.reporters)
    for params in config.pools:
        pool = PoolState(
            params.id,
            params.reward_rate,
            params.lock_seconds,
            params.early_exit_penalty_bps,
            params.budget,
            last=timestamp,
            remaining=params.budget,
        )
        state.kv[(MODULE, pool_key(params.id))] = pool.to_dict()


def load_pool(view: Any, pool_id: str) -> PoolState | None:
    raw = view.kv_get(MODULE, pool_key(pool_id))
    return None if raw is None else PoolState.from_dict(raw)


def pool_ids(view: Any) -> list[str]:
    return list(view.kv_get(MODULE, POOLS_KEY) or [])


def units_held(state: ChainState) -> int:
    """Staked principal + budget not yet accrued + accrued rewards not yet paid, over all pools."""
    total = 0
    for pool_id in state.kv.get((MODULE, POOLS_KEY)) or []:
        pool: Mapping[str, Any] = state.kv[(MODULE, pool_key(pool_id))]
        total += pool["staked"] + pool["remaining"] + pool["owed"]
    return total


def check_total(allocations_total: int, config: StakingConfig) -> None:
    if allocations_total + config.total_budget > MAX_AMOUNT:
        raise InvalidGenesis(
            f"allocations and staking budgets total more than the maximum supply {MAX_AMOUNT}"
        )


register_supply_holder(MODULE, units_held)
