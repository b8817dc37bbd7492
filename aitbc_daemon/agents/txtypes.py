"""The agent transactions: pure transitions over kv module "agents" (layout in `records`).

- `agent_register` {name, role, strategy, owner}: signed by the agent's own (hot)
  key; records the agent. The owner, a person's keystore wallet, is its first controller.
- `agent_authorize` / `agent_revoke` {agent, address}: signed by the owner only;
  add or remove a controller (the owner itself cannot be revoked).
- `agent_stop` / `agent_start` {agent}: the owner or any controller; the emergency stop.

The agent's own key is never a controller and a stopped agent's transactions all
fail (the guard below), so a leaked hot key can neither restart the agent nor
change who controls it.

The guard (`register_tx_guard`) runs before every transaction's own transition:

- a transaction SENT BY a stopped agent fails with `agent_stopped`;
- once the DAO has set agent-trading limits (an executed `agent-trading`
  proposal: kv ("dao", "agent_trading") = {max_order, max_daily_volume}), a
  `transfer` from a registered agent above `max_order`, or beyond
  `max_daily_volume` summed over the UTC day of the block's timestamp, fails
  with `agent_trading_limit`. The day's volume is the one write this guard
  makes, into the transaction's own overlay: it is kept only if the transfer
  itself succeeds. The exchange counts agents' orders and buys against the same
  limits and `volume:<address>` record (`count_agent_volume`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aitbc_daemon.agents import errors
from aitbc_daemon.agents.records import (
    DAY,
    MODULE,
    ROLES,
    agent_key,
    load_agent,
    trading_limits,
    volume_key,
)
from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.state import StateOverlay
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import (
    BlockContext,
    address_field,
    identifier_field,
    register_tx_guard,
    register_tx_type,
    require_fields,
)

MAX_NAME = 64


# --- payload checks ------------------------------------------------------------------------


def _validate_register(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("name", "role", "strategy", "owner"), "agent_register")
    name = identifier_field(payload, "name", "agent_register")
    if len(name) > MAX_NAME:
        raise InvalidPayload(f"agent_register: name must be at most {MAX_NAME} characters")
    if payload["role"] not in ROLES:
        raise InvalidPayload(f"agent_register: role must be one of {', '.join(ROLES)}")
    identifier_field(payload, "strategy", "agent_register")
    address_field(payload, "owner", "agent_register")


def _validate_controller_change(tx_type: str) -> Any:
    def validate(payload: Mapping[str, Any]) -> None:
        require_fields(payload, ("agent", "address"), tx_type)
        address_field(payload, "agent", tx_type)
        address_field(payload, "address", tx_type)

    return validate


def _validate_agent_only(tx_type: str) -> Any:
    def validate(payload: Mapping[str, Any]) -> None:
        require_fields(payload, ("agent",), tx_type)
        address_field(payload, "agent", tx_type)

    return validate


# --- transitions ---------------------------------------------------------------------------


def _agent(state: StateOverlay, address: str) -> dict[str, Any]:
    record = load_agent(state, address)
    if record is None:
        raise errors.AgentNotFound(f"{address} is not a registered agent")
    return record


def _put(state: StateOverlay, record: dict[str, Any]) -> None:
    state.kv_put(MODULE, agent_key(record["address"]), record)


def _apply_register(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    if load_agent(state, tx.sender) is not None:
        raise errors.AgentExists(f"{tx.sender} is already a registered agent")
    owner = tx.payload["owner"]
    if owner == tx.sender:
        raise errors.NotController("an agent cannot own itself: its owner must be another (cold) wallet")
    _put(
        state,
        {
            "address": tx.sender,
            "name": tx.payload["name"],
            "role": tx.payload["role"],
            "strategy": tx.payload["strategy"],
            "owner": owner,
            "controllers": [owner],
            "stopped": False,
            "registered_height": ctx.height,
            "registered_at": ctx.timestamp,
        },
    )


def _require_owner(record: dict[str, Any], sender: str, doing: str) -> None:
    if sender != record["owner"]:
        raise errors.NotController(f"only the owner {record['owner']} can {doing} agent {record['address']}")


def _require_controller(record: dict[str, Any], sender: str, doing: str) -> None:
    if sender not in record["controllers"]:
        raise errors.NotController(
            f"{sender} is not a controller of agent {record['address']}; it cannot {doing} it"
        )


def _apply_authorize(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    record = _agent(state, tx.payload["agent"])
    _require_owner(record, tx.sender, "authorize controllers of")
    address = tx.payload["address"]
    if address == record["address"]:
        raise errors.NotController("an agent's own key can never be one of its controllers")
    if address in record["controllers"]:
        raise errors.WrongAgentState(f"{address} already controls agent {record['address']}")
    record["controllers"].append(address)
    _put(state, record)


def _apply_revoke(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    record = _agent(state, tx.payload["agent"])
    _require_owner(record, tx.sender, "revoke controllers of")
    address = tx.payload["address"]
    if address == record["owner"]:
        raise errors.WrongAgentState("the owner cannot be revoked")
    if address not in record["controllers"]:
        raise errors.WrongAgentState(f"{address} does not control agent {record['address']}")
    record["controllers"].remove(address)
    _put(state, record)


def _apply_stop(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    record = _agent(state, tx.payload["agent"])
    _require_controller(record, tx.sender, "stop")
    if record["stopped"]:
        raise errors.WrongAgentState(f"agent {record['address']} is already stopped")
    record["stopped"] = True
    record["stopped_by"] = tx.sender
    record["stopped_height"] = ctx.height
    _put(state, record)


def _apply_start(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    record = _agent(state, tx.payload["agent"])
    _require_controller(record, tx.sender, "start")
    if not record["stopped"]:
        raise errors.WrongAgentState(f"agent {record['address']} is not stopped")
    record["stopped"] = False
    record.pop("stopped_by", None)
    record.pop("stopped_height", None)
    _put(state, record)


# --- the guard: emergency stop and trading limits ------------------------------------------


def guard_agents(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    """Fail every transaction of a stopped agent, and an agent's transfers beyond the DAO's limits."""
    record = state.kv_get(MODULE, agent_key(tx.sender))
    if record is None:
        return
    if record["stopped"]:
        raise errors.AgentStopped(f"agent {tx.sender} is stopped by its controllers")
    if tx.type == "transfer":
        count_agent_volume(state, tx.sender, int(tx.payload["amount"]), ctx)


def count_agent_volume(state: StateOverlay, sender: str, amount: int, ctx: BlockContext) -> None:
    """Count `amount` AIT units an agent moves or trades against the DAO's agent-trading limits:
    `max_order` per transaction, `max_daily_volume` per UTC day of the block's time. The one
    check for transfers (the guard) and the exchange's orders and buys; nothing for non-agents
    or while the DAO has set no limits."""
    if state.kv_get(MODULE, agent_key(sender)) is None:
        return
    limits = trading_limits(state)
    if limits is None:
        return
    if amount > limits["max_order"]:
        raise errors.AgentTradingLimit(
            f"agent {sender}: {amount} units is above the DAO's max_order of {limits['max_order']}"
        )
    day = ctx.timestamp // DAY
    stored = state.kv_get(MODULE, volume_key(sender))
    used = int(stored[1]) if stored is not None and stored[0] == day else 0
    if used + amount > limits["max_daily_volume"]:
        raise errors.AgentTradingLimit(
            f"agent {sender}: {used} units already moved today; {amount} more exceeds the DAO's "
            f"max_daily_volume of {limits['max_daily_volume']}"
        )
    state.kv_put(MODULE, volume_key(sender), [day, used + amount])


def _touches_address(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["agent"], payload["address"])


def _touches_agent(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["agent"],)


def _touches_owner(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["owner"],)


register_tx_guard(guard_agents)
AGENT_REGISTER = register_tx_type(
    "agent_register", validate_payload=_validate_register, apply=_apply_register, touches=_touches_owner
)
AGENT_AUTHORIZE = register_tx_type(
    "agent_authorize",
    validate_payload=_validate_controller_change("agent_authorize"),
    apply=_apply_authorize,
    touches=_touches_address,
)
AGENT_REVOKE = register_tx_type(
    "agent_revoke",
    validate_payload=_validate_controller_change("agent_revoke"),
    apply=_apply_revoke,
    touches=_touches_address,
)
AGENT_STOP = register_tx_type(
    "agent_stop",
    validate_payload=_validate_agent_only("agent_stop"),
    apply=_apply_stop,
    touches=_touches_agent,
)
AGENT_START = register_tx_type(
    "agent_start",
    validate_payload=_validate_agent_only("agent_start"),
    apply=_apply_start,
    touches=_touches_agent,
)
