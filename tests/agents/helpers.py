"""A real DAO chain (tests/dao/helpers.py) plus agent keys that sign their own transactions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.agents.records import load_agent, reputation
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.wallet.addresses import address_from_public_key
from tests.dao.helpers import ADDRESSES, DaoChain

AGENT_KEYS = [SigningKey(bytes([0xA0 + i]) * 32) for i in range(3)]
AGENTS = [address_from_public_key(bytes(k.verify_key)) for k in AGENT_KEYS]


class AgentChain(DaoChain):
    """`DaoChain` whose `agent_*` methods sign with an agent's hot key instead of a dev account."""

    def __init__(self, path: Path, genesis: Any = None) -> None:
        super().__init__(path, genesis)
        self.agent_nonces = [0] * len(AGENT_KEYS)

    def agent_tx(self, agent: int, tx_type: str, payload: dict[str, Any]) -> Any:
        tx = sign_transaction(
            AGENT_KEYS[agent],
            chain_id=self.genesis.chain_id,
            type=tx_type,
            nonce=self.agent_nonces[agent],
            fee=0,
            payload=payload,
        )
        self.agent_nonces[agent] += 1
        return tx

    def agent_send(self, timestamp: int, agent: int, tx_type: str, payload: dict[str, Any]) -> Any:
        return self.block(timestamp, self.agent_tx(agent, tx_type, payload))[0]

    def register(self, timestamp: int, agent: int, role: str, owner: int = 0) -> Any:
        payload = {
            "name": f"agent{agent}",
            "role": role,
            "strategy": "role-preferences",
            "owner": ADDRESSES[owner],
        }
        return self.agent_send(timestamp, agent, "agent_register", payload)

    def record(self, agent: int) -> dict[str, Any]:
        found = load_agent(self.node.state, AGENTS[agent])
        assert found is not None
        return found

    def counters(self, agent: int) -> dict[str, int]:
        return reputation(self.node.state, AGENTS[agent])
