"""How an agent decides its vote: strategies are plugins of the `aitbc.agent_strategies` group.

A strategy is a function, an object with a `decide` method, or a class whose
instances have one (instantiated once, without arguments):

    decide(proposal: ProposalView, agent: AgentView) -> Decision

It must be pure and quick (it runs in the daemon, on every new active proposal
once per agent) and should always give a reason: the reason is the vote's
on-chain reason and the line in `aitbc agent log`. The runner votes only when
`decision.confidence >= agent.confidence_threshold`; otherwise it logs a skip.

Built-ins (registered as entry points in pyproject.toml, and always available):

- `role-preferences`: a table of role x proposal type -> (support, confidence,
  reason), reading the action's content (which parameter, up or down; which
  module is paused; whether the council approved).
- `follow-council`: for council-gated proposals, `for` once the council
  approved, `abstain` otherwise, with low confidence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

SUPPORTS = ("for", "against", "abstain")
GROUP = "aitbc.agent_strategies"


@dataclass(frozen=True)
class ProposalView:
    """What a strategy sees of an active proposal (copied from chain state, safe to keep)."""

    id: int
    type: str
    title: str
    action: Mapping[str, Any]
    proposer: str
    state: str
    approvals: int  # council approvals so far
    council_threshold: int
    needs_council: bool  # emergency and protocol-upgrade proposals
    votes_for: int = 0
    votes_against: int = 0
    votes_abstain: int = 0
    current_value: int | None = None  # parameter-change: the parameter's value now, when known

    @property
    def council_approved(self) -> bool:
        return self.needs_council and self.approvals >= self.council_threshold > 0


@dataclass(frozen=True)
class AgentView:
    """What a strategy knows about the agent it decides for."""

    name: str
    address: str
    role: str  # provider, consumer, builder, coordinator
    owner: str
    confidence_threshold: float
    reputation: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    support: str  # for, against, abstain
    confidence: float  # 0.0 to 1.0
    reason: str

    def __post_init__(self) -> None:
        if self.support not in SUPPORTS:
            raise ValueError(f"support must be one of {', '.join(SUPPORTS)}, not {self.support!r}")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be from 0.0 to 1.0, not {self.confidence}")


Strategy = Callable[[ProposalView, AgentView], Decision]


# --- role-preferences --------------------------------------------------------------------------


def _direction(proposal: ProposalView) -> str:
    """'up', 'down' or 'set' (unknown current value) for a parameter-change."""
    value, current = proposal.action.get("value"), proposal.current_value
    if not isinstance(value, int) or current is None or value == current:
        return "set"
    return "up" if value > current else "down"


def _parameter(role: str, proposal: ProposalView) -> Decision:
    param = str(proposal.action.get("param", ""))
    direction = _direction(proposal)
    if param.startswith("staking.") and param.endswith(".reward_rate"):
        if role == "provider" and direction != "set":
            support = "for" if direction == "up" else "against"
            return Decision(support, 0.8, f"providers stake GPUs: a reward rate {direction} on {param}")
        if role == "consumer" and direction == "up":
            return Decision("abstain", 0.4, f"a higher {param} does not touch what consumers pay")
    if "fee" in param or param.endswith("block_reward"):
        if role == "consumer" and direction != "set":
            support = "for" if direction == "down" else "against"
            return Decision(support, 0.8, f"consumers favour lower fees: {param} goes {direction}")
        if role == "provider" and param.endswith("block_reward") and direction != "set":
            support = "for" if direction == "up" else "against"
            return Decision(support, 0.6, f"providers earn block rewards: {param} goes {direction}")
    if param.startswith("dao.agent_bonus") and direction != "set":
        support = "for" if direction == "up" else "against"
        return Decision(support, 0.6, f"agents earn a reputation bonus: {param} goes {direction}")
    return Decision("abstain", 0.3, f"a {role} has no preference on {param or 'this parameter'}")


def _emergency(role: str, proposal: ProposalView) -> Decision:
    module, action = proposal.action.get("module"), proposal.action.get("action")
    if role == "coordinator":
        if proposal.council_approved:
            return Decision("for", 0.9, f"the council approved: {action} {module}")
        return Decision("abstain", 0.5, f"an emergency {action} of {module} the council has not approved yet")
    if module == "job-payments" and role in ("provider", "consumer"):
        if action == "pause":
            return Decision("against", 0.9, f"{role}s need job payments running: oppose pausing them")
        return Decision("for", 0.8, f"{role}s need job payments running: resume them")
    if module == "staking-withdrawals" and role == "provider":
        support = "against" if action == "pause" else "for"
        return Decision(support, 0.7, f"providers' stakes must stay withdrawable: {action} {module}")
    return Decision("abstain", 0.3, f"a {role} has no preference on an emergency {action} of {module}")


def role_preferences(proposal: ProposalView, agent: AgentView) -> Decision:
    """The built-in table of role x proposal type, reading the action's content."""
    role, kind = agent.role, proposal.type
    if kind == "parameter-change":
        return _parameter(role, proposal)
    if kind == "emergency":
        return _emergency(role, proposal)
    if role == "builder":
        if kind == "dao-grant":
            return Decision("for", 0.8, "builders favour grants that fund work on the network")
        if kind == "protocol-upgrade":
            return Decision("for", 0.8, f"builders favour protocol upgrades ({proposal.action.get('name')})")
        if kind == "treasury":
            return Decision("for", 0.6, "builders favour the treasury paying for work")
    if role == "coordinator" and kind == "protocol-upgrade":
        if proposal.council_approved:
            return Decision("for", 0.7, "the council approved this protocol upgrade")
        return Decision("abstain", 0.4, "a protocol upgrade the council has not approved yet")
    if role == "consumer" and kind == "agent-trading":
        return Decision("for", 0.6, "consumers favour limits on what agents can trade")
    return Decision("abstain", 0.2, f"a {role} has no preference on {kind} proposals")


# --- follow-council ----------------------------------------------------------------------------


def follow_council(proposal: ProposalView, agent: AgentView) -> Decision:
    """Council-gated proposals: follow the council's approval; everything else: no opinion."""
    if not proposal.needs_council:
        return Decision("abstain", 0.1, f"{proposal.type} proposals are not council-gated")
    if proposal.council_approved:
        return Decision(
            "for", 0.7, f"the council approved ({proposal.approvals} of {proposal.council_threshold})"
        )
    return Decision(
        "abstain", 0.3, f"the council has not approved ({proposal.approvals} of {proposal.council_threshold})"
    )


BUILTIN: dict[str, Strategy] = {"role-preferences": role_preferences, "follow-council": follow_council}


def as_strategy(obj: object) -> Strategy | None:
    """A loaded plugin object as a strategy callable, or None if it is not one."""
    if isinstance(obj, type):
        try:
            obj = obj()
        except Exception:  # a plugin class that cannot be built is not a strategy
            return None
    decide = getattr(obj, "decide", None)
    if callable(decide):
        return decide  # type: ignore[no-any-return]
    if callable(obj):
        return obj  # type: ignore[return-value]
    return None


def available(plugins: Mapping[str, object]) -> dict[str, Strategy]:
    """The built-ins plus every loaded plugin of the group that is a strategy (a plugin wins a name)."""
    found: dict[str, Strategy] = dict(BUILTIN)
    for name, obj in plugins.items():
        strategy = as_strategy(obj)
        if strategy is not None:
            found[name] = strategy
    return found
