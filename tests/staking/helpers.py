"""A small chain with staking pools, driven straight through `apply_transaction` (no daemon)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import Genesis, devnet_signing_keys, genesis_from_dict
from aitbc_daemon.chain.state import ChainState, StateOverlay, circulating_supply, issued_supply
from aitbc_daemon.chain.transitions import TxOutcome, apply_transaction
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.chain.txtypes import BlockContext, validate_tx_payload
from aitbc_daemon.staking.accumulator import PoolState, Position, accrue, pending
from aitbc_daemon.staking.pools import load_pool
from aitbc_daemon.staking.txtypes import load_position, owner_positions
from aitbc_daemon.wallet.addresses import address_from_public_key

KEYS = devnet_signing_keys(4)
ADDRESSES = [address_from_public_key(bytes(k.verify_key)) for k in KEYS]
REPORTER = 3  # account 3 is the genesis reporter
START = 1_000_000
T0 = 1_767_225_600


def staking_genesis(
    *, rate: int = 7, budget: int = 5_000, lock: int = 300, penalty_bps: int = 1_000
) -> Genesis:
    return genesis_from_dict(
        {
            "chain_id": "stake-test",
            "timestamp": T0,
            "authorities": [bytes(KEYS[0].verify_key).hex()],
            "allocations": {a: START for a in ADDRESSES},
            "block_time": 2,
            "is_devnet": False,
            "staking": {
                "pools": {
                    "flex": {
                        "reward_rate": rate,
                        "lock_seconds": 0,
                        "early_exit_penalty_bps": 0,
                        "budget": budget,
                    },
                    "locked": {
                        "reward_rate": rate * 3,
                        "lock_seconds": lock,
                        "early_exit_penalty_bps": penalty_bps,
                        "budget": budget,
                    },
                },
                "reporters": [ADDRESSES[REPORTER]],
            },
        }
    )


@dataclass
class Chain:
    """State plus per-account nonces; `send` runs one transaction at a block time."""

    genesis: Genesis
    state: StateOverlay = field(init=False)
    committed: ChainState = field(init=False)

    def __post_init__(self) -> None:
        self.committed = self.genesis.initial_state()
        self.state = StateOverlay(self.committed)

    def send(
        self, account: int, tx_type: str, payload: dict[str, Any], now: int, *, fee: int = 0
    ) -> TxOutcome:
        key: SigningKey = KEYS[account]
        tx = sign_transaction(
            key,
            chain_id=self.genesis.chain_id,
            type=tx_type,
            nonce=self.state.nonce(ADDRESSES[account]),
            fee=fee,
            payload=payload,
        )
        validate_tx_payload(tx)
        outcome = apply_transaction(self.state, tx, BlockContext(self.genesis.chain_id, 1, now, ADDRESSES[0]))
        outcome.state.merge_into(self.state)
        assert circulating_supply(self.state) == issued_supply(self.state) == self.genesis.total_supply
        return outcome

    def balance(self, account: int) -> int:
        return self.state.balance(ADDRESSES[account])

    def pool(self, pool_id: str) -> PoolState:
        pool = load_pool(self.state, pool_id)
        assert pool is not None
        return pool

    def positions(self, account: int) -> list[Position]:
        found = [load_position(self.state, p) for p in owner_positions(self.state, ADDRESSES[account])]
        return [p for p in found if p is not None]

    def pending(self, account: int, now: int) -> int:
        return sum(pending(p, accrue(self.pool(p.pool), now)) for p in self.positions(account))
