"""HTTP layer of the agents. Thin: parse, call the service or the runner, shape.

Local agents under `/v1/agents` (create, list, show, log, owner-signed
authorize/revoke/stop/start, and `tick`: run the agents once now); any
address's chain record under `/v1/chains/{chain}/agents/{address}`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from aitbc_daemon.agents.models import (
    AgentInfo,
    AgentList,
    AgentTxResult,
    ChainAgent,
    ControllerRequest,
    CreateAgentRequest,
    DecisionList,
    OwnerRequest,
    TickResult,
)
from aitbc_daemon.agents.service import AgentService, decision_info
from aitbc_daemon.runtime import DaemonRuntime, get_runtime

router = APIRouter(tags=["agents"])
Runtime = Annotated[DaemonRuntime, Depends(get_runtime)]


def _agents(runtime: DaemonRuntime) -> AgentService:
    return runtime.agents.service


@router.get("/v1/agents")
def list_agents(runtime: Runtime) -> AgentList:
    """This daemon's agents with their chain state, and the strategies it can run."""
    return _agents(runtime).list()


@router.post("/v1/agents", status_code=201)
def create_agent(body: CreateAgentRequest, runtime: Runtime) -> AgentTxResult:
    """Make an agent's hot key, register it on chain (owner: a keystore wallet) and start its runner."""
    return _agents(runtime).create(body)


@router.post("/v1/agents/tick")
def tick(runtime: Runtime) -> TickResult:
    """Run every running agent once now; what they decided."""
    return TickResult([decision_info(row) for row in runtime.agents.run_once()])


@router.get("/v1/agents/{name}")
def show_agent(name: str, runtime: Runtime) -> AgentInfo:
    return _agents(runtime).show(name)


@router.get("/v1/agents/{name}/log")
def agent_log(
    name: str, runtime: Runtime, limit: Annotated[int, Query(ge=1, le=10_000)] = 50
) -> DecisionList:
    """The agent's decisions, newest first, each with its reason."""
    return _agents(runtime).decisions(name, limit)


@router.post("/v1/agents/{name}/authorize")
def authorize(name: str, body: ControllerRequest, runtime: Runtime) -> AgentTxResult:
    return _agents(runtime).authorize(name, body.address, body.password)


@router.post("/v1/agents/{name}/revoke")
def revoke(name: str, body: ControllerRequest, runtime: Runtime) -> AgentTxResult:
    return _agents(runtime).revoke(name, body.address, body.password)


@router.post("/v1/agents/{name}/stop")
def stop(name: str, body: OwnerRequest, runtime: Runtime) -> AgentTxResult:
    """Emergency stop: the runner stops now and the owner signs `agent_stop`."""
    return _agents(runtime).stop(name, body.password)


@router.post("/v1/agents/{name}/start")
def start(name: str, body: OwnerRequest, runtime: Runtime) -> AgentTxResult:
    return _agents(runtime).start(name, body.password)


@router.get("/v1/chains/{chain}/agents/{address}")
def chain_agent(chain: str, address: str, runtime: Runtime) -> ChainAgent:
    """Any address's agent record on chain: role, controllers, stopped, reputation, bonus."""
    return _agents(runtime).chain_agent(chain, address)
