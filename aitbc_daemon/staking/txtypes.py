"""The staking transactions: pure transitions over the state's kv module "staking".

- `stake` {pool, amount}: lock `amount` in `pool`; opens position `next_position`.
- `unstake` {position, accept_penalty?}: close the position, pay back the principal
  and its pending rewards. Before the lock ends it fails (`position_locked`)
  unless `accept_penalty` is true; then the pool's early-exit penalty is kept
  back and returned to the pool's budget (there is no DAO treasury yet, so the
  pool's future stakers get it).
- `claim_rewards` {position} or {all: true}: pay the pending rewards of one or
  all of the sender's positions. Pending rewards are settled when paid, so a
  second claim at the same time pays nothing (and fails `nothing_to_claim`).
- `staking_report` {miner, multiplier_bps}: a reporter listed in the genesis
  sets a miner's reward multiplier (0 to 10000 basis points; 10000 = 1.0, the
  default). The coordinator posts it (`aitbc_daemon.jobs.staking_reporter`):
  reputation x (0.5 + 0.5 x utilization) from its job store, so a miner's
  stake earns with the work it does (`aitbc_daemon.jobs.staking_reports`).
  Existing positions are settled at their old weight first, then re-weighted:
  O(positions of that miner), at most `MAX_POSITIONS_PER_OWNER`.

Time is the block's timestamp (`BlockContext.timestamp`), never the wall clock.
Every pool touched is first accrued to that time (see `accumulator`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import (
    BlockContext,
    address_field,
    amount_field,
    register_tx_type,
    require_fields,
)
from aitbc_daemon.dao.params import require_running
from aitbc_daemon.staking.accumulator import (
    BPS,
    PoolState,
    Position,
    accrue,
    early_exit_penalty,
    pending,
    weight_of,
)
from aitbc_daemon.staking.errors import (
    NothingToClaim,
    NotPositionOwner,
    NotReporter,
    PoolNotFound,
    PositionLocked,
    PositionNotFound,
    TooManyPositions,
)
from aitbc_daemon.staking.pools import (
    MODULE,
    NEXT_POSITION_KEY,
    POOL_ID,
    REPORTERS_KEY,
    load_pool,
    multiplier_key,
    owner_key,
    pool_key,
    position_key,
)

MAX_POSITIONS_PER_OWNER = 32
MAX_POSITION_ID = 2**53 - 1


# --- state helpers -------------------------------------------------------------------------


def multiplier(view: Any, address: str) -> int:
    value = view.kv_get(MODULE, multiplier_key(address))
    return BPS if value is None else int(value)


def load_position(view: Any, position_id: int) -> Position | None:
    raw = view.kv_get(MODULE, position_key(position_id))
    return None if raw is None else Position.from_dict(raw)


def owner_positions(view: Any, address: str) -> list[int]:
    return list(view.kv_get(MODULE, owner_key(address)) or [])


def staked_amount(view: Any, address: str) -> int:
    """Principal of `address`'s open positions (read by the dao module for voting power)."""
    total = 0
    for position_id in owner_positions(view, address):
        raw = view.kv_get(MODULE, position_key(position_id))
        total += 0 if raw is None else int(raw["amount"])
    return total


def _refuse_if_withdrawals_paused(view: Any) -> None:
    """A passed emergency proposal may pause staking withdrawals (unstake, claim)."""
    require_running(view, "staking-withdrawals")


def _accrued_pool(state: StateOverlay, pool_id: str, now: int) -> PoolState:
    pool = load_pool(state, pool_id)
    if pool is None:
        raise PoolNotFound(f"no staking pool {pool_id!r}")
    return accrue(pool, now)


def _put_pool(state: StateOverlay, pool: PoolState) -> None:
    state.kv_put(MODULE, pool_key(pool.id), pool.to_dict())


def _put_position(state: StateOverlay, position: Position) -> None:
    state.kv_put(MODULE, position_key(position.id), position.to_dict())


def _owned_position(state: StateOverlay, tx: Transaction, position_id: int) -> Position:
    position = load_position(state, position_id)
    if position is None:
        raise PositionNotFound(f"no open staking position {position_id}")
    if position.owner != tx.sender:
        raise NotPositionOwner(f"position {position_id} belongs to {position.owner}")
    return position


def _position_field(payload: Mapping[str, Any], tx_type: str) -> int:
    value = payload["position"]
    if type(value) is not int or not 1 <= value <= MAX_POSITION_ID:
        raise InvalidPayload(f"{tx_type}: position must be a position id (a positive integer)")
    return value


# --- stake ---------------------------------------------------------------------------------


def _validate_stake(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("pool", "amount"), "stake")
    if not isinstance(payload["pool"], str) or POOL_ID.fullmatch(payload["pool"]) is None:
        raise InvalidPayload("stake: pool must be a pool id")
    amount_field(payload, "amount", "stake")


def _apply_stake(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    pool = _accrued_pool(state, tx.payload["pool"], ctx.timestamp)
    amount = tx.payload["amount"]
    owned = owner_positions(state, tx.sender)
    if len(owned) >= MAX_POSITIONS_PER_OWNER:
        raise TooManyPositions(
            f"{tx.sender} already has {len(owned)} open positions (at most {MAX_POSITIONS_PER_OWNER})"
        )
    state.debit(tx.sender, amount)
    position_id = int(state.kv_get(MODULE, NEXT_POSITION_KEY) or 1)
    weight = weight_of(amount, multiplier(state, tx.sender))
    position = Position(
        position_id,
        tx.sender,
        pool.id,
        amount,
        weight,
        pool.acc,
        0,
        ctx.timestamp,
        ctx.timestamp + pool.lock_seconds,
        tx.hash,
    )
    _put_position(state, position)
    _put_pool(state, replace(pool, total_weight=pool.total_weight + weight, staked=pool.staked + amount))
    state.kv_put(MODULE, owner_key(tx.sender), [*owned, position_id])
    state.kv_put(MODULE, NEXT_POSITION_KEY, position_id + 1)


def _spends_amount(payload: Mapping[str, Any]) -> int:
    return int(payload["amount"])


# --- unstake -------------------------------------------------------------------------------


def _validate_unstake(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("position",), "unstake", optional=("accept_penalty",))
    _position_field(payload, "unstake")
    if type(payload.get("accept_penalty", False)) is not bool:
        raise InvalidPayload("unstake: accept_penalty must be true or false")


def _apply_unstake(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _refuse_if_withdrawals_paused(state)
    position = _owned_position(state, tx, tx.payload["position"])
    pool = _accrued_pool(state, position.pool, ctx.timestamp)
    penalty = early_exit_penalty(position, pool, ctx.timestamp)
    if penalty and not tx.payload.get("accept_penalty", False):
        raise PositionLocked(
            f"position {position.id} is locked until {position.unlock_at}; leaving now costs "
            f"{penalty} units ({pool.penalty_bps / 100:g}%): set accept_penalty to go ahead"
        )
    reward = min(pending(position, pool), pool.owed)  # the min never binds (see accumulator)
    state.credit(tx.sender, position.amount - penalty + reward)
    _put_pool(
        state,
        replace(
            pool,
            total_weight=pool.total_weight - position.weight,
            staked=pool.staked - position.amount,
            remaining=pool.remaining + penalty,  # no DAO treasury yet: the penalty refills the budget
            owed=pool.owed - reward,
        ),
    )
    state.kv_delete(MODULE, position_key(position.id))
    remaining = [p for p in owner_positions(state, tx.sender) if p != position.id]
    state.kv_put(MODULE, owner_key(tx.sender), remaining or None)


# --- claim_rewards -------------------------------------------------------------------------


def _validate_claim(payload: Mapping[str, Any]) -> None:
    require_fields(payload, (), "claim_rewards", optional=("position", "all"))
    if ("position" in payload) == ("all" in payload):
        raise InvalidPayload("claim_rewards: give exactly one of position or all")
    if "position" in payload:
        _position_field(payload, "claim_rewards")
    elif payload["all"] is not True:
        raise InvalidPayload("claim_rewards: all must be true")


def _claim_one(state: StateOverlay, position: Position, now: int) -> int:
    """Pay `position` its pending rewards; what was paid."""
    pool = _accrued_pool(state, position.pool, now)
    reward = min(pending(position, pool), pool.owed)
    _put_pool(state, replace(pool, owed=pool.owed - reward))
    _put_position(state, replace(position, acc_at=pool.acc, credited=0))
    state.credit(position.owner, reward)
    return reward


def _apply_claim(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _refuse_if_withdrawals_paused(state)
    if "position" in tx.payload:
        positions = [_owned_position(state, tx, tx.payload["position"])]
    else:
        positions = [_owned_position(state, tx, p) for p in owner_positions(state, tx.sender)]
    paid = sum(_claim_one(state, position, ctx.timestamp) for position in positions)
    if paid == 0:
        raise NothingToClaim(f"no rewards pending for {tx.sender} at time {ctx.timestamp}")


# --- staking_report ------------------------------------------------------------------------


def _validate_report(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("miner", "multiplier_bps"), "staking_report")
    address_field(payload, "miner", "staking_report")
    value = payload["multiplier_bps"]
    if type(value) is not int or not 0 <= value <= BPS:
        raise InvalidPayload(f"staking_report: multiplier_bps must be an integer from 0 to {BPS}")


def _apply_report(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    reporters = state.kv_get(MODULE, REPORTERS_KEY) or []
    if tx.sender not in reporters:
        raise NotReporter(f"{tx.sender} is not a staking reporter of this chain")
    miner, bps = tx.payload["miner"], tx.payload["multiplier_bps"]
    state.kv_put(MODULE, multiplier_key(miner), None if bps == BPS else bps)
    for position_id in owner_positions(state, miner):
        position = load_position(state, position_id)
        assert position is not None  # the owner index lists open positions only
        pool = _accrued_pool(state, position.pool, ctx.timestamp)
        weight = weight_of(position.amount, bps)
        settled = replace(position, credited=pending(position, pool), acc_at=pool.acc, weight=weight)
        _put_position(state, settled)
        _put_pool(state, replace(pool, total_weight=pool.total_weight - position.weight + weight))


def _touches_miner(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["miner"],)


STAKE = register_tx_type("stake", validate_payload=_validate_stake, apply=_apply_stake, spends=_spends_amount)
UNSTAKE = register_tx_type("unstake", validate_payload=_validate_unstake, apply=_apply_unstake)
CLAIM_REWARDS = register_tx_type("claim_rewards", validate_payload=_validate_claim, apply=_apply_claim)


def _reporter_reporting(view: Any, tx: Transaction) -> bool:
    """A genesis reporter's report pays no minimum fee (the coordinator's key earns nothing)."""
    return tx.sender in (view.kv_get(MODULE, REPORTERS_KEY) or ())


STAKING_REPORT = register_tx_type(
    "staking_report",
    validate_payload=_validate_report,
    apply=_apply_report,
    touches=_touches_miner,
    fee_waived=_reporter_reporting,
)
