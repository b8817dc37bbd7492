"""A real single-node chain with a DAO (blocks produced at chosen timestamps), for the dao tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.genesis import Genesis, devnet_signing_keys, genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.dao.proposals import load_proposal, proposal_state
from aitbc_daemon.wallet.addresses import address_from_public_key

KEYS = devnet_signing_keys(6)
ADDRESSES = [address_from_public_key(bytes(k.verify_key)) for k in KEYS]
COUNCIL = (3, 4, 5)
T0 = 1_767_225_600
DAY = 86_400
UNIT = 10**6
TREASURY = 100_000 * UNIT
BOND = 1_000 * UNIT


def dao_genesis(
    balances: tuple[int, ...] = (400_000, 300_000, 200_000, 50_000, 30_000, 20_000), **settings: int
) -> Genesis:
    """Total supply = 1,000,000 AIT of balances + the 100,000 AIT treasury = 1,100,000 AIT."""
    data: dict[str, Any] = {
        "chain_id": "dao-test",
        "timestamp": T0,
        "authorities": [bytes(KEYS[0].verify_key).hex()],
        "allocations": {a: b * UNIT for a, b in zip(ADDRESSES, balances, strict=True)},
        "block_time": 2,
        "is_devnet": False,
        "staking": {
            "pools": {
                "flex": {
                    "reward_rate": 7,
                    "lock_seconds": 0,
                    "early_exit_penalty_bps": 0,
                    "budget": 5_000,
                }
            }
        },
        "dao": {
            "treasury": TREASURY,
            "council": [ADDRESSES[i] for i in COUNCIL],
            "council_threshold": 2,
        },
    }
    if settings:
        data["dao"]["settings"] = settings
    return genesis_from_dict(data)


class DaoChain:
    """Sign, submit and mine: `block(t, txs...)` makes one block at timestamp t."""

    def __init__(self, path: Path, genesis: Genesis | None = None) -> None:
        self.genesis = genesis or dao_genesis()
        self.node = ChainNode.open(path, self.genesis, signing_keys=[KEYS[0]])
        self.nonces = [0] * len(KEYS)
        self.now = T0

    def tx(self, account: int, tx_type: str, payload: dict[str, Any], fee: int = 0) -> Any:
        tx = sign_transaction(
            KEYS[account],
            chain_id=self.genesis.chain_id,
            type=tx_type,
            nonce=self.nonces[account],
            fee=fee,
            payload=payload,
        )
        self.nonces[account] += 1
        return tx

    def block(self, timestamp: int, *txs: Any) -> list[Any]:
        """Mine `txs` in one block at `timestamp`; their statuses (TxStatus)."""
        for tx in txs:
            self.node.check_tx(tx)
        self.node.produce_block(timestamp)
        self.now = timestamp
        state = self.node.state
        assert circulating_supply(state) == issued_supply(state) == self.genesis.total_supply
        return [self.node.transaction(tx.hash) for tx in txs]

    def send(self, timestamp: int, account: int, tx_type: str, payload: dict[str, Any]) -> Any:
        return self.block(timestamp, self.tx(account, tx_type, payload))[0]

    def try_send(self, timestamp: int, account: int, tx_type: str, payload: dict[str, Any]) -> Any:
        """`send`, or None if the mempool refuses it (e.g. it overdraws): then nothing is mined."""
        tx = self.tx(account, tx_type, payload)
        try:
            self.node.check_tx(tx)
        except ChainError:
            self.nonces[account] -= 1
            return None
        return self._mine_one(timestamp, tx)

    def _mine_one(self, timestamp: int, tx: Any) -> Any:
        self.node.produce_block(timestamp)
        self.now = timestamp
        state = self.node.state
        assert circulating_supply(state) == issued_supply(state) == self.genesis.total_supply
        return self.node.transaction(tx.hash)

    def balance(self, account: int) -> int:
        return self.node.state.balance(ADDRESSES[account])

    def proposal(self, proposal_id: int = 1) -> dict[str, Any]:
        found = load_proposal(self.node.state, proposal_id)
        assert found is not None
        return found

    def state_of(self, proposal_id: int, now: int) -> str:
        return proposal_state(self.proposal(proposal_id), now)

    def propose(self, timestamp: int, kind: str, action: dict[str, Any], account: int = 0) -> Any:
        return self.send(
            timestamp,
            account,
            "dao_propose",
            {"type": kind, "title": f"{kind} test", "action": action},
        )
