"""Consensus parameters of the chain core: the minimum fee and the block reward.

Genesis section (optional; a genesis without it hashes exactly as before and
its state holds no `params` key, so its app hashes do not change either):

    "params": {"min_fee": 0, "block_reward": 0}      # units; both default to 0

State: kv module "chain", key "params" (`{"min_fee": .., "block_reward": ..}`),
absent until a genesis section or a DAO `parameter-change` (`chain.min_fee`,
`chain.block_reward`) writes it; absent reads as `DEFAULT_PARAMS`.

- `min_fee`: admission (`apply_transaction`'s ante step) refuses a lower fee
  with `FeeTooLow`: such a transaction is never included, and the mempool
  refuses it at submit and drops it after a raise.
- `block_reward`: paid to each block's proposer out of the DAO treasury by an
  end-of-block hook (see `aitbc_daemon.dao.block_reward`); never new issuance.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.errors import InvalidGenesis
from aitbc_daemon.chain.state import CHAIN_MODULE, ChainState
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import get_tx_type

PARAMS_KEY = "params"
DEFAULT_PARAMS: dict[str, int] = {"min_fee": 0, "block_reward": 0}
# (min, max) of each parameter, in genesis and in a parameter-change: a fee or a reward above
# 1,000 AIT per transaction or block is far more likely a typo in units than a decision.
PARAM_BOUNDS: dict[str, tuple[int, int]] = {
    "min_fee": (0, 1_000 * UNIT),
    "block_reward": (0, 1_000 * UNIT),
}


@dataclass(frozen=True)
class ChainParams:
    min_fee: int = 0
    block_reward: int = 0

    def to_dict(self) -> dict[str, int]:
        return {"min_fee": self.min_fee, "block_reward": self.block_reward}


def check_param(name: str, value: object) -> int:
    """`value` if `name` is a chain parameter and the value is in its bounds; ValueError otherwise."""
    if name not in PARAM_BOUNDS:
        raise ValueError(f"unknown chain parameter {name!r} (known: {', '.join(sorted(PARAM_BOUNDS))})")
    low, high = PARAM_BOUNDS[name]
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"chain parameter {name} must be an integer from {low} to {high} units")
    return value


def params_from_dict(data: object) -> ChainParams:
    """The genesis `params` section, validated; every problem names the field."""
    if not isinstance(data, dict):
        raise InvalidGenesis("params must be an object of parameter -> integer (min_fee, block_reward)")
    values = dict(DEFAULT_PARAMS)
    for name, value in data.items():
        try:
            values[name] = check_param(name, value)
        except ValueError as exc:
            raise InvalidGenesis(f"params: {exc}") from None
    return ChainParams(**values)


def write_initial_state(state: ChainState, params: ChainParams) -> None:
    state.kv[(CHAIN_MODULE, PARAMS_KEY)] = params.to_dict()


def chain_params(view: Any) -> dict[str, int]:
    """Every parameter's current value (defaults for those the state does not hold)."""
    stored = view.kv_get(CHAIN_MODULE, PARAMS_KEY)
    return {**DEFAULT_PARAMS, **stored} if stored else dict(DEFAULT_PARAMS)


def min_fee(view: Any) -> int:
    stored = view.kv_get(CHAIN_MODULE, PARAMS_KEY)
    return int(stored.get("min_fee", 0)) if stored else 0


def required_fee(view: Any, tx: Transaction) -> int:
    """The least fee `tx` must pay on `view`: the chain's `min_fee`, unless its type waives it."""
    floor = min_fee(view)
    if floor and get_tx_type(tx.type).fee_waived(view, tx):
        return 0
    return floor


def block_reward(view: Any) -> int:
    stored = view.kv_get(CHAIN_MODULE, PARAMS_KEY)
    return int(stored.get("block_reward", 0)) if stored else 0
