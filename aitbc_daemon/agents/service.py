"""The daemon's agents: create, inspect and control them (owner-signed), and read their chain record.

Transactions an agent's owner signs (authorize, revoke, stop, start) go through
the keystore like any wallet transaction; the agent's own hot key signs only
its registration and its votes (`runner`). Every transaction is dry-run first
(`sign_and_submit(dry_run=True)`), so a refused action costs no fee and no
nonce, and changes nothing locally either.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path

from aitbc_daemon.agents import strategies
from aitbc_daemon.agents.models import (
    AgentInfo,
    AgentList,
    AgentSummary,
    AgentTxResult,
    ChainAgent,
    CreateAgentRequest,
    DecisionInfo,
    DecisionList,
)
from aitbc_daemon.agents.records import bonus_of, load_agent, points, reputation
from aitbc_daemon.agents.store import (
    AgentExists,
    AgentStore,
    DecisionLog,
    DecisionRow,
    LocalAgent,
    check_name,
)
from aitbc_daemon.chain.genesis import devnet_signing_key
from aitbc_daemon.chain.params import min_fee
from aitbc_daemon.chain.service import ChainService, Submission
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.service_key import key_address
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import FAUCET_ACCOUNT, check_recipient, sign_and_submit, transfer

SHOWN_DECISIONS = 10
FEE_BUDGET_TXS = 1_000  # devnet with a non-zero min_fee: fund the agent this many transactions' fees


class UnknownStrategy(AitbcError):
    code = "unknown_strategy"


class ChainAgentMissing(AitbcError):
    status, code = 404, "agent_not_found"


def decision_info(row: DecisionRow) -> DecisionInfo:
    return DecisionInfo(**asdict(row))


class AgentService:
    """Local agents (records, keys, decision log) and their on-chain side."""

    def __init__(
        self, data_dir: Path, keystore: Keystore, chains: ChainService, plugins: Mapping[str, object]
    ) -> None:
        self.store = AgentStore(data_dir / "agents")
        self.log = DecisionLog(data_dir / "agents.db")
        self.keystore = keystore
        self.chains = chains
        self.strategies = strategies.available(plugins)

    def close(self) -> None:
        self.log.close()

    # --- reads -------------------------------------------------------------------------------

    def strategy(self, name: str) -> strategies.Strategy:
        try:
            return self.strategies[name]
        except KeyError:
            known = ", ".join(sorted(self.strategies))
            raise UnknownStrategy(f"unknown strategy {name!r} (known: {known})") from None

    def chain_agent(self, chain_id: str, address: str) -> ChainAgent:
        check_recipient(address)
        found = self._chain_record(chain_id, address)
        if found is None:
            raise ChainAgentMissing(f"{address} is not a registered agent on {chain_id}")
        return found

    def _chain_record(self, chain_id: str, address: str) -> ChainAgent | None:
        hosted = self.chains.get(chain_id)
        with hosted.lock:
            view = hosted.node.state
            record = load_agent(view, address)
            if record is None:
                return None
            counters = reputation(view, address)
            bonus = bonus_of(view, record["role"], counters)
        return ChainAgent(
            chain_id,
            address,
            record["name"],
            record["role"],
            record["strategy"],
            record["owner"],
            record["controllers"],
            record["stopped"],
            record["registered_height"],
            counters,
            points(record["role"], counters),
            bonus,
        )

    def list(self) -> AgentList:
        found = []
        for agent in self.store.list():
            onchain = self._chain_record_or_none(agent)
            found.append(
                AgentSummary(
                    agent.name,
                    agent.chain,
                    agent.address,
                    agent.role,
                    agent.strategy,
                    agent.running,
                    None if onchain is None else onchain.stopped,
                    0 if onchain is None else onchain.bonus,
                )
            )
        return AgentList(found, sorted(self.strategies))

    def _chain_record_or_none(self, agent: LocalAgent) -> ChainAgent | None:
        if agent.chain not in self.chains.chains:
            return None
        return self._chain_record(agent.chain, agent.address)

    def show(self, name: str) -> AgentInfo:
        agent = self.store.get(check_name(name))
        decisions = [decision_info(row) for row in self.log.recent(agent.name, SHOWN_DECISIONS)]
        return AgentInfo(
            agent.name,
            agent.chain,
            agent.address,
            agent.role,
            agent.strategy,
            agent.owner,
            agent.owner_wallet,
            agent.confidence,
            agent.running,
            agent.created_at,
            self._chain_record_or_none(agent),
            decisions,
        )

    def decisions(self, name: str, limit: int) -> DecisionList:
        agent = self.store.get(check_name(name))
        return DecisionList(agent.name, [decision_info(row) for row in self.log.recent(agent.name, limit)])

    # --- create ------------------------------------------------------------------------------

    def create(self, request: CreateAgentRequest) -> AgentTxResult:
        """Make the agent's hot key, register it on chain (signed by that key), then record it here."""
        name = check_name(request.name)
        if self.store.exists(name):
            raise AgentExists(f"agent {name!r} exists already")
        self.strategy(request.strategy)
        owner = self.keystore.address(request.owner)
        hosted = self.chains.get(request.chain)
        fresh_key = not self.store.key_path(name).exists()
        key = self.store.new_key(name)
        address = key_address(key)
        try:
            fee = self._fee(request.chain)
            if fee and hosted.is_devnet and fresh_key:
                # the faucet account pays with the chain's fee (wallet.service.faucet signs with fee 0)
                funder = devnet_signing_key(FAUCET_ACCOUNT)
                transfer(self.chains, request.chain, funder, address, fee * FEE_BUDGET_TXS, fee=fee)
            payload = {"name": name, "role": request.role, "strategy": request.strategy, "owner": owner}
            submission = None
            if self._chain_record(request.chain, address) is None:
                submission = sign_and_submit(
                    self.chains, request.chain, key, "agent_register", payload, fee=fee, dry_run=True
                )
        except Exception:
            if fresh_key:
                self.store.key_path(name).unlink(missing_ok=True)
            raise
        agent = LocalAgent(
            name,
            request.chain,
            address,
            request.role,
            request.strategy,
            owner,
            request.owner,
            request.confidence,
            True,
            time.time(),
        )
        self.store.save(agent)
        return self._result(agent, "create", submission)

    # --- owner-signed control ----------------------------------------------------------------

    def authorize(self, name: str, address: str, password: str | None) -> AgentTxResult:
        return self._controllers(name, "agent_authorize", address, password)

    def revoke(self, name: str, address: str, password: str | None) -> AgentTxResult:
        return self._controllers(name, "agent_revoke", address, password)

    def _controllers(self, name: str, tx_type: str, address: str, password: str | None) -> AgentTxResult:
        agent = self.store.get(check_name(name))
        check_recipient(address)
        key = self.keystore.signing_key(agent.owner_wallet, password)
        submission = sign_and_submit(
            self.chains,
            agent.chain,
            key,
            tx_type,
            {"agent": agent.address, "address": address},
            fee=self._fee(agent.chain),
            dry_run=True,
        )
        return self._result(agent, tx_type.removeprefix("agent_"), submission)

    def stop(self, name: str, password: str | None) -> AgentTxResult:
        """The emergency stop: the local runner stops at once, and the owner signs `agent_stop`.

        The owner's password is checked first, so a wrong one changes nothing; after
        that the local stop holds even if the chain refuses the transaction.
        """
        agent = self.store.get(check_name(name))
        key = self.keystore.signing_key(agent.owner_wallet, password)
        agent = self.store.set_running(agent.name, False)
        onchain = self._chain_record_or_none(agent)
        submission = None
        if onchain is not None and not onchain.stopped:
            submission = sign_and_submit(
                self.chains,
                agent.chain,
                key,
                "agent_stop",
                {"agent": agent.address},
                fee=self._fee(agent.chain),
                dry_run=True,
            )
        return self._result(agent, "stop", submission)

    def start(self, name: str, password: str | None) -> AgentTxResult:
        """Undo a stop: the owner signs `agent_start` if the chain has it stopped, then the runner resumes."""
        agent = self.store.get(check_name(name))
        key = self.keystore.signing_key(agent.owner_wallet, password)
        onchain = self._chain_record_or_none(agent)
        submission = None
        if onchain is not None and onchain.stopped:
            submission = sign_and_submit(
                self.chains,
                agent.chain,
                key,
                "agent_start",
                {"agent": agent.address},
                fee=self._fee(agent.chain),
                dry_run=True,
            )
        agent = self.store.set_running(agent.name, True)
        return self._result(agent, "start", submission)

    # --- helpers -----------------------------------------------------------------------------

    def _fee(self, chain_id: str) -> int:
        hosted = self.chains.get(chain_id)
        with hosted.lock:
            return min_fee(hosted.node.state)

    def _result(self, agent: LocalAgent, action: str, submission: Submission | None) -> AgentTxResult:
        if submission is None:
            return AgentTxResult(agent.name, action, agent.running)
        tx_hash = submission.hash or ""
        hosted = self.chains.get(agent.chain)
        with hosted.lock:
            status = hosted.node.transaction(tx_hash)
        if status is None:
            return AgentTxResult(agent.name, action, agent.running, tx_hash, "forwarded")
        return AgentTxResult(
            agent.name,
            action,
            agent.running,
            tx_hash,
            status.status,
            status.height,
            status.reason,
            status.code,
        )
