"""Agent refusals, each with a stable code (ExecutionFailed: the transaction is included as failed)."""

from __future__ import annotations

from aitbc_daemon.chain.errors import ExecutionFailed


class AgentExists(ExecutionFailed):
    status, code = 409, "agent_exists"


class AgentNotFound(ExecutionFailed):
    status, code = 404, "agent_not_found"


class NotController(ExecutionFailed):
    """Only the owner (authorize, revoke) or a controller (stop, start) may act on an agent."""

    status, code = 403, "not_controller"


class WrongAgentState(ExecutionFailed):
    """Starting a running agent, stopping a stopped one, authorizing a controller twice."""

    code = "wrong_agent_state"


class AgentStopped(ExecutionFailed):
    """Every transaction sent by a stopped agent fails, whatever its type."""

    status, code = 403, "agent_stopped"


class AgentTradingLimit(ExecutionFailed):
    """A transfer above the DAO's `max_order`, or past its `max_daily_volume` for the UTC day."""

    code = "agent_trading_limit"
