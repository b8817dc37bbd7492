"""The agents chain module's kv layout (module "agents") and the reads every part shares.

- `agent:<address>`: {address, name, role, strategy, owner, controllers, stopped,
  registered_height, registered_at}; `controllers` always holds the owner first.
- `rep:<address>`: reputation counters {jobs_completed, jobs_paid,
  proposals_executed, escrows_settled, votes_cast}, kept by `reputation.record_block`.
- `volume:<address>`: [utc_day, units] transferred by the agent on that day (only
  while the DAO has set agent-trading limits).

The reputation bonus (voting power units) is a checkpoint series of the DAO's
`checkpoints` module, `bonus:<address>`, so it is snapshotted exactly like power.
"""

from __future__ import annotations

from typing import Any

from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.dao.params import MODULE as DAO_MODULE
from aitbc_daemon.dao.params import settings as dao_settings

MODULE = "agents"
# `trader`: a live trading bot's wallet (aitbc_daemon/trading/bots); it earns no reputation points
# and the agents' runner never votes with it.
ROLES = ("provider", "consumer", "builder", "coordinator", "trader")
COUNTERS = ("jobs_completed", "jobs_paid", "proposals_executed", "escrows_settled", "votes_cast")
# Which counters make an agent's reputation points, by role (docs/agents.md).
POINTS_BY_ROLE: dict[str, tuple[str, ...]] = {
    "provider": ("jobs_completed",),
    "consumer": ("jobs_paid",),
    "builder": ("proposals_executed",),
    "coordinator": ("escrows_settled", "votes_cast"),
    "trader": (),
}
TRADER = "trader"
# Two DAO settings read with defaults: dao/params.py's whitelist does not hold them yet.
BONUS_PER_POINT_SETTING = "agent_bonus_per_point"
BONUS_MAX_SETTING = "agent_bonus_max"
DEFAULT_BONUS_PER_POINT = 10 * UNIT
DEFAULT_BONUS_MAX = 1_000 * UNIT
AGENT_TRADING_KEY = "agent_trading"  # in the dao module, written by an executed agent-trading proposal
DAY = 86_400


def agent_key(address: str) -> str:
    return f"agent:{address}"


def reputation_key(address: str) -> str:
    return f"rep:{address}"


def volume_key(address: str) -> str:
    return f"volume:{address}"


def bonus_series(address: str) -> str:
    """The checkpoint series (dao/checkpoints.py) that holds an agent's reputation bonus."""
    return f"bonus:{address}"


def load_agent(view: Any, address: str) -> dict[str, Any] | None:
    """A copy of the agent record (its lists belong to a parent layer), or None."""
    value = view.kv_get(MODULE, agent_key(address))
    if value is None:
        return None
    record = dict(value)
    record["controllers"] = list(record["controllers"])
    return record


def reputation(view: Any, address: str) -> dict[str, int]:
    stored = view.kv_get(MODULE, reputation_key(address)) or {}
    return {name: int(stored.get(name, 0)) for name in COUNTERS}


def points(role: str, counters: dict[str, int]) -> int:
    return sum(counters[name] for name in POINTS_BY_ROLE[role])


def bonus_settings(view: Any) -> tuple[int, int]:
    """(units per point, maximum): DAO settings when governance has set them, else the defaults."""
    found = dao_settings(view)
    return (
        int(found.get(BONUS_PER_POINT_SETTING, DEFAULT_BONUS_PER_POINT)),
        int(found.get(BONUS_MAX_SETTING, DEFAULT_BONUS_MAX)),
    )


def bonus_of(view: Any, role: str, counters: dict[str, int]) -> int:
    per_point, maximum = bonus_settings(view)
    return min(points(role, counters) * per_point, maximum)


def trading_limits(view: Any) -> dict[str, Any] | None:
    """{max_order, max_daily_volume, height} once an agent-trading proposal executed, else None."""
    value = view.kv_get(DAO_MODULE, AGENT_TRADING_KEY)
    return None if value is None else dict(value)
