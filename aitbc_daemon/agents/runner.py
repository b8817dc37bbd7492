"""The agents' runner: each running, not-stopped local agent votes on active proposals by its strategy.

One pass (`run_once`) looks, for every agent, at the proposals that are
`active` at the chain's head and that the agent has not decided on yet, asks
its strategy, and

- confidence >= the agent's threshold: signs `dao_vote` with the agent's hot key
  (the strategy's reason is the vote's reason) -> `voted`, or `failed` with the
  chain's reason (e.g. no voting power at the snapshot);
- below the threshold: `skipped`, nothing sent.

Every decision is logged (agents.db) and each proposal is decided once per
agent. The daemon runs a pass after every new block (`chain.block` events) and
at least every `POLL_SECONDS`; `POST /v1/agents/tick` (`aitbc agent tick`) runs
one pass now and answers what it decided, which is how tests and scripts
avoid waiting. Passes never overlap (one lock), so a tick and the background
loop cannot vote twice.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from aitbc_daemon.agents.records import TRADER, load_agent, reputation
from aitbc_daemon.agents.service import AgentService
from aitbc_daemon.agents.store import DecisionRow, LocalAgent
from aitbc_daemon.agents.strategies import AgentView, Decision, ProposalView
from aitbc_daemon.chain.params import chain_params, min_fee
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import NEXT_PROPOSAL_KEY, council, enabled, settings
from aitbc_daemon.dao.proposals import ACTIVE, COUNCIL_GATED, load_proposal, proposal_state
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.events import EventBus, after_blocks
from aitbc_daemon.staking.pools import load_pool
from aitbc_daemon.wallet.service import sign_and_submit

log = logging.getLogger("aitbc.agents")

POLL_SECONDS = 5.0
SCAN_PROPOSALS = 200  # newest proposals looked at per pass (the same window as `dao list`)
MAX_REASON = 500  # dao_vote's limit


def current_value(view: Any, param: str) -> int | None:
    """The value a parameter-change would replace, so a strategy can tell a rise from a cut."""
    parts = param.split(".")
    if parts[0] == "dao" and len(parts) == 2:
        value = settings(view).get(parts[1])
    elif parts[0] == "chain" and len(parts) == 2:
        value = chain_params(view).get(parts[1])
    elif parts[0] == "staking" and len(parts) == 3 and parts[2] == "reward_rate":
        pool = load_pool(view, parts[1])
        value = None if pool is None else pool.reward_rate
    else:
        value = None
    return value if isinstance(value, int) else None


def _proposal_view(view: Any, proposal: dict[str, Any], now: int, threshold: int) -> ProposalView:
    action = dict(proposal["action"])
    current = (
        current_value(view, str(action.get("param", ""))) if proposal["type"] == "parameter-change" else None
    )
    return ProposalView(
        proposal["id"],
        proposal["type"],
        proposal["title"],
        action,
        proposal["proposer"],
        proposal_state(proposal, now),
        len(proposal["approvals"]),
        threshold,
        proposal["type"] in COUNCIL_GATED,
        proposal["for"],
        proposal["against"],
        proposal["abstain"],
        current,
    )


class AgentRunner:
    """Runs the agents' passes; thread-safe (passes are serialised)."""

    def __init__(self, service: AgentService) -> None:
        self.service = service
        self._lock = threading.Lock()

    def run_once(self) -> list[DecisionRow]:
        with self._lock:
            decided: list[DecisionRow] = []
            for agent in self.service.store.list():
                if agent.running:
                    decided.extend(self._run_agent(agent))
            return decided

    def _pending(self, agent: LocalAgent) -> tuple[AgentView | None, list[ProposalView]]:
        """The agent as its strategy sees it and the active proposals it has not decided yet."""
        hosted = self.service.chains.chains.get(agent.chain)
        if hosted is None:
            return None, []
        done = self.service.log.decided(agent.name, agent.chain)
        with hosted.lock:
            view = hosted.node.state
            record = load_agent(view, agent.address)
            if record is None or record["stopped"] or record["role"] == TRADER or not enabled(view):
                return None, []
            now = hosted.node.head_timestamp
            _, threshold = council(view)
            last = int(view.kv_get(DAO_MODULE, NEXT_PROPOSAL_KEY) or 1) - 1
            found = []
            for proposal_id in range(max(last - SCAN_PROPOSALS, 0) + 1, last + 1):
                if proposal_id in done:
                    continue
                proposal = load_proposal(view, proposal_id)
                if proposal is not None and proposal_state(proposal, now) == ACTIVE:
                    found.append(_proposal_view(view, proposal, now, threshold))
            me = AgentView(
                agent.name,
                agent.address,
                record["role"],
                record["owner"],
                agent.confidence,
                reputation(view, agent.address),
            )
        return me, found

    def _run_agent(self, agent: LocalAgent) -> list[DecisionRow]:
        me, proposals = self._pending(agent)
        if me is None:
            return []
        strategy = self.service.strategies.get(agent.strategy)
        rows = []
        for proposal in proposals:
            try:
                if strategy is None:
                    raise LookupError(f"strategy {agent.strategy!r} is not loaded in this daemon")
                decision = strategy(proposal, me)
                if not isinstance(decision, Decision):
                    raise TypeError(f"strategy {agent.strategy!r} returned {type(decision).__name__}")
            except Exception as exc:  # a plugin's failure is logged as the agent's decision, never raised
                rows.append(
                    self._log(agent, proposal.id, "failed", "abstain", 0.0, "strategy error", error=str(exc))
                )
                continue
            if decision.confidence < agent.confidence:
                reason = f"{decision.reason} (confidence {decision.confidence:g} < {agent.confidence:g})"
                rows.append(
                    self._log(agent, proposal.id, "skipped", decision.support, decision.confidence, reason)
                )
                continue
            rows.append(self._vote(agent, proposal.id, decision))
        return rows

    def _vote(self, agent: LocalAgent, proposal_id: int, decision: Decision) -> DecisionRow:
        chains = self.service.chains
        payload = {
            "proposal": proposal_id,
            "support": decision.support,
            "reason": decision.reason[:MAX_REASON],
        }
        try:
            key = self.service.store.key(agent.name)
            hosted = chains.get(agent.chain)
            with hosted.lock:
                fee = min_fee(hosted.node.state)
            submission = sign_and_submit(chains, agent.chain, key, "dao_vote", payload, fee=fee, dry_run=True)
        except AitbcError as exc:
            outcome, tx_hash, error = "failed", None, exc.message
        else:
            tx_hash, error = submission.hash or "", None
            with hosted.lock:
                status = hosted.node.transaction(tx_hash)
            outcome = "voted"
            if status is not None and status.status == "failed":
                outcome, error = "failed", status.reason
        return self._log(
            agent,
            proposal_id,
            outcome,
            decision.support,
            decision.confidence,
            decision.reason,
            tx=tx_hash,
            error=error,
        )

    def _log(
        self,
        agent: LocalAgent,
        proposal_id: int,
        outcome: str,
        support: str,
        confidence: float,
        reason: str,
        *,
        tx: str | None = None,
        error: str | None = None,
    ) -> DecisionRow:
        row = self.service.log.add(
            DecisionRow(
                agent.name,
                agent.chain,
                proposal_id,
                outcome,
                support,
                confidence,
                reason,
                time.time(),
                tx,
                error,
            )
        )
        log.info("agent %s on proposal %s: %s %s (%s)", agent.name, proposal_id, outcome, support, reason)
        return row


async def run_agents(runner: AgentRunner, bus: EventBus, poll_seconds: float = POLL_SECONDS) -> None:
    """The daemon's background loop: a pass after each new block, and at least every `poll_seconds`."""
    await after_blocks(bus, runner.run_once, name="agents pass", poll_seconds=poll_seconds)
