"""Request and response bodies of the agent endpoints, shared with the client.

Amounts are integer units; times are seconds since the epoch (decisions: the
daemon's clock; chain records: block heights and timestamps).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from annotated_types import Ge, Le, MaxLen, MinLen

from aitbc_daemon.api_model import ApiModel

Password = Annotated[str, MinLen(1), MaxLen(1024)]
Name = Annotated[str, MinLen(1), MaxLen(64)]
Role = Literal["provider", "consumer", "builder", "coordinator"]


@dataclass
class CreateAgentRequest(ApiModel):
    name: Name
    role: Role
    owner: Annotated[str, MinLen(1), MaxLen(64)]  # a keystore wallet's name
    strategy: Annotated[str, MinLen(1), MaxLen(128)] = "role-preferences"
    chain: Annotated[str, MinLen(1), MaxLen(128)] = "ait-devnet"
    confidence: Annotated[float, Ge(0.0), Le(1.0)] = 0.6
    password: Password | None = None  # unused by create (the agent key signs); accepted like other routes


@dataclass
class ControllerRequest(ApiModel):
    address: Annotated[str, MinLen(1), MaxLen(128)]
    password: Password | None = None  # the owner wallet's (not needed while it is unlocked)


@dataclass
class OwnerRequest(ApiModel):
    password: Password | None = None  # the owner wallet's (not needed while it is unlocked)


@dataclass
class DecisionInfo(ApiModel):
    agent: str
    chain: str
    proposal: int
    outcome: str  # voted, skipped (confidence below the threshold), failed (the chain refused)
    support: str
    confidence: float
    reason: str
    time: float
    tx: str | None = None
    error: str | None = None
    id: int | None = None


@dataclass
class DecisionList(ApiModel):
    agent: str
    decisions: list[DecisionInfo]


@dataclass
class ChainAgent(ApiModel):
    """An agent's record on chain: who controls it, whether it is stopped, its reputation."""

    chain: str
    address: str
    name: str
    role: str
    strategy: str
    owner: str
    controllers: list[str]
    stopped: bool
    registered_height: int
    reputation: dict[str, int]  # jobs_completed, jobs_paid, proposals_executed, escrows_settled, votes_cast
    points: int  # the counters its role counts
    bonus: int  # voting power units now (proposals use the value at their snapshot)


@dataclass
class AgentInfo(ApiModel):
    name: str
    chain: str
    address: str
    role: str
    strategy: str
    owner: str
    owner_wallet: str
    confidence: float
    running: bool  # the local runner votes for it
    created_at: float
    onchain: ChainAgent | None  # None until its registration is in a block
    decisions: list[DecisionInfo] = field(default_factory=list)  # the latest few


@dataclass
class AgentSummary(ApiModel):
    name: str
    chain: str
    address: str
    role: str
    strategy: str
    running: bool
    stopped: bool | None  # on chain; None if not registered (yet)
    bonus: int


@dataclass
class AgentList(ApiModel):
    agents: list[AgentSummary]
    strategies: list[str]  # the strategies this daemon can run


@dataclass
class AgentTxResult(ApiModel):
    agent: str
    action: str  # create, authorize, revoke, stop, start
    running: bool
    hash: str | None = None
    status: str | None = None  # pending, included, failed, forwarded
    height: int | None = None
    reason: str | None = None
    code: str | None = None


@dataclass
class TickResult(ApiModel):
    decisions: list[DecisionInfo]  # what this run decided (empty if nothing new was active)
