"""The DAO as the genesis declares it, its governable settings, kv layout and supply holder.

Genesis section (optional; a genesis without it hashes exactly as before):

    "dao": {
      "treasury": 1000000000000,              # units issued at genesis into the treasury
      "council": ["ait1...", ...],            # the council multisig's members
      "council_threshold": 2,                 # M of the N members
      "settings": {"voting_delay": 86400, ...}  # optional overrides of DEFAULT_SETTINGS
    }

State (kv module "dao"): `settings`, `council` {members, threshold}, `treasury`,
`bonds` (proposal and challenge bonds held), `grants_held` (granted, not yet
claimed), `paused` (module names), `next_proposal`, `proposal:<id>`,
`vote:<id>:<address>`, `delegate:<address>`, `delegators:<address>`,
`cpn:<address>` / `cp:<address>:<i>` (power checkpoints, see `checkpoints`),
`next_grant`, `grant:<id>`, `upgrades` {name: height}, `agent_trading` (limits),
`council_pause:<pause|resume>` (approvals collected for pausing the DAO itself).

Treasury, bonds and unvested grants are issued units held by the module: the
supply holder counts them, so circulating == issued stays true.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from aitbc_daemon.chain.amounts import UNIT, check_amount
from aitbc_daemon.chain.errors import ChainError, InvalidGenesis
from aitbc_daemon.chain.state import ChainState, register_supply_holder
from aitbc_daemon.dao.errors import ModulePaused
from aitbc_daemon.wallet.addresses import InvalidAddress, decode_address

MODULE = "dao"
DAY = 24 * 3600
BPS = 10_000

DEFAULT_SETTINGS: dict[str, int] = {
    "voting_delay": DAY,  # proposal -> voting starts (the snapshot is the state just before)
    "voting_period": 7 * DAY,
    "timelock": 2 * DAY,  # queued -> executable
    "grace_period": 14 * DAY,  # executable window; after it a passed proposal expires
    "proposal_threshold": 1_000 * UNIT,  # power needed to propose
    "proposal_bond": 1_000 * UNIT,  # locked by the proposer (and matched by a challenger)
    "quorum_bps": 400,  # for + abstain must reach 4% of the supply at the snapshot
    "power_cap_bps": 500,  # one vote weighs at most 5% of the supply at the snapshot
    "twas_window": DAY,  # anti flash-loan: weight <= average power over this window
    "agent_bonus_per_point": 10 * UNIT,  # agents module: bonus per reputation point
    "agent_bonus_max": 1_000 * UNIT,  # agents module: cap on one agent's bonus
}
# (min, max) of every governable DAO setting: a parameter-change outside them is refused.
SETTING_BOUNDS: dict[str, tuple[int, int]] = {
    "voting_delay": (0, 30 * DAY),
    "voting_period": (60, 60 * DAY),
    "timelock": (0, 30 * DAY),
    "grace_period": (60, 365 * DAY),
    "proposal_threshold": (0, 10**15),
    "proposal_bond": (0, 10**15),
    "quorum_bps": (1, BPS),
    "power_cap_bps": (1, BPS),
    "twas_window": (1, 30 * DAY),
    "agent_bonus_per_point": (0, 10**12),
    "agent_bonus_max": (0, 10**15),
}
# Settings added after the DAO's first release: a genesis stores them only when it overrides
# them (`settings()` reads the default otherwise), so an existing chain's genesis state, and
# every app hash after it, stays what it was.
SETTINGS_ADDED_LATER = frozenset({"agent_bonus_per_point", "agent_bonus_max"})
MODULES_PAUSABLE = ("exchange", "staking-withdrawals", "job-payments", "dao")

# kv keys
SETTINGS_KEY = "settings"
COUNCIL_KEY = "council"
TREASURY_KEY = "treasury"
BONDS_KEY = "bonds"
GRANTS_HELD_KEY = "grants_held"
PAUSED_KEY = "paused"
NEXT_PROPOSAL_KEY = "next_proposal"
NEXT_GRANT_KEY = "next_grant"
UPGRADES_KEY = "upgrades"
AGENT_TRADING_KEY = "agent_trading"


def proposal_key(proposal_id: int) -> str:
    return f"proposal:{proposal_id}"


def vote_key(proposal_id: int, address: str) -> str:
    return f"vote:{proposal_id}:{address}"


def delegate_key(address: str) -> str:
    return f"delegate:{address}"


def delegators_key(address: str) -> str:
    return f"delegators:{address}"


def grant_key(grant_id: int) -> str:
    return f"grant:{grant_id}"


@dataclass(frozen=True)
class DaoConfig:
    treasury: int
    council: tuple[str, ...]
    council_threshold: int
    settings: dict[str, int] = field(default_factory=dict)  # overrides only (as in the genesis)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "treasury": self.treasury,
            "council": list(self.council),
            "council_threshold": self.council_threshold,
        }
        if self.settings:
            data["settings"] = dict(self.settings)
        return data

    def effective_settings(self) -> dict[str, int]:
        return {**DEFAULT_SETTINGS, **self.settings}


def check_setting(name: str, value: object) -> int:
    """`value` if `name` is a DAO setting and the value is in its bounds; ValueError otherwise."""
    if name not in SETTING_BOUNDS:
        raise ValueError(f"unknown dao setting {name!r} (known: {', '.join(sorted(SETTING_BOUNDS))})")
    low, high = SETTING_BOUNDS[name]
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"dao setting {name} must be an integer from {low} to {high}")
    return value


def dao_from_dict(data: object) -> DaoConfig:
    """The genesis `dao` section, validated; every problem names the field."""
    if not isinstance(data, dict):
        raise InvalidGenesis("dao must be an object with treasury, council, council_threshold")
    unknown = sorted(set(data) - {"treasury", "council", "council_threshold", "settings"})
    if unknown:
        raise InvalidGenesis(f"unknown dao field(s): {', '.join(map(str, unknown))}")
    try:
        treasury = 0 if data.get("treasury", 0) == 0 else check_amount(data["treasury"], field="dao.treasury")
    except ChainError as exc:
        raise InvalidGenesis(str(exc)) from None
    council = data.get("council", [])
    if not isinstance(council, list):
        raise InvalidGenesis("dao.council must be a list of addresses")
    for address in council:
        try:
            decode_address(address)
        except (InvalidAddress, TypeError, AttributeError) as exc:
            raise InvalidGenesis(f"dao council member {address!r}: {exc}") from None
    if len(set(council)) != len(council):
        raise InvalidGenesis("dao.council members must be distinct")
    threshold = data.get("council_threshold", len(council))
    if type(threshold) is not int or not (1 if council else 0) <= threshold <= len(council):
        raise InvalidGenesis(f"dao.council_threshold must be 1 to {len(council)} (the council's size)")
    settings = data.get("settings", {})
    if not isinstance(settings, dict):
        raise InvalidGenesis("dao.settings must be an object of setting -> integer")
    for name, value in settings.items():
        try:
            check_setting(name, value)
        except ValueError as exc:
            raise InvalidGenesis(str(exc)) from None
    return DaoConfig(treasury, tuple(council), threshold, dict(sorted(settings.items())))


def write_initial_state(state: ChainState, config: DaoConfig, timestamp: int) -> None:
    """Settings, council, treasury, and a power checkpoint (height 0) for every allocation."""
    from aitbc_daemon.dao.checkpoints import genesis_checkpoint

    stored = {
        name: value
        for name, value in config.effective_settings().items()
        if name not in SETTINGS_ADDED_LATER or name in config.settings
    }
    state.kv[(MODULE, SETTINGS_KEY)] = stored
    state.kv[(MODULE, COUNCIL_KEY)] = {
        "members": list(config.council),
        "threshold": config.council_threshold,
    }
    state.kv[(MODULE, TREASURY_KEY)] = config.treasury
    for address, balance in sorted(state.balances.items()):
        if balance:
            genesis_checkpoint(state, address, balance, timestamp)


def settings(view: Any) -> dict[str, int]:
    """The DAO's settings; a setting added after a chain's genesis reads as its default there."""
    value = view.kv_get(MODULE, SETTINGS_KEY)
    return {**DEFAULT_SETTINGS, **value} if value is not None else {}


def enabled(view: Any) -> bool:
    return view.kv_get(MODULE, SETTINGS_KEY) is not None


def council(view: Any) -> tuple[list[str], int]:
    value = view.kv_get(MODULE, COUNCIL_KEY) or {"members": [], "threshold": 0}
    return list(value["members"]), int(value["threshold"])


def paused_modules(view: Any) -> list[str]:
    return list(view.kv_get(MODULE, PAUSED_KEY) or [])


def require_running(view: Any, module: str) -> None:
    """Raise `ModulePaused` if a DAO emergency proposal (or the council, for "dao") paused `module`.

    The one check every pausable module makes inside its transitions: staking
    (unstake, claim: "staking-withdrawals"), the escrow guard ("job-payments",
    see `aitbc_daemon.dao.pauses`) and the exchange's orders and buys ("exchange").
    A chain without a DAO has no pauses.
    """
    if module in (view.kv_get(MODULE, PAUSED_KEY) or ()):
        raise ModulePaused(f"{module} is paused by a DAO emergency proposal (resume it with another)")


def int_value(view: Any, key: str) -> int:
    return int(view.kv_get(MODULE, key) or 0)


# Protocol upgrades this release implements. A passed protocol-upgrade proposal schedules
# a name at a height; a node whose release lacks that name stops at the height (see `halt_reason`).
SUPPORTED_UPGRADES: frozenset[str] = frozenset()


def halt_reason(view: Any, height: int) -> str | None:
    """Why this node must not execute block `height`, or None: an unsupported scheduled upgrade."""
    upgrades = view.kv_get(MODULE, UPGRADES_KEY)
    if not upgrades:
        return None
    missing = sorted(name for name, at in upgrades.items() if at <= height and name not in SUPPORTED_UPGRADES)
    if not missing:
        return None
    names = ", ".join(f"{name!r} (from height {upgrades[name]})" for name in missing)
    return (
        f"chain halted before block {height}: the DAO scheduled protocol upgrade {names}, "
        "which this node does not implement; install a release that does and restart"
    )


def units_held(state: ChainState) -> int:
    """Treasury + bonds held + granted but unclaimed units."""
    return sum(int(state.kv.get((MODULE, key)) or 0) for key in (TREASURY_KEY, BONDS_KEY, GRANTS_HELD_KEY))


register_supply_holder(MODULE, units_held)
