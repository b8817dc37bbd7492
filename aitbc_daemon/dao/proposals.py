"""Proposal records (kv `proposal:<id>` of module "dao") and their state as a pure function of time.

Timeline (block timestamps): created at T; voting starts at T + voting_delay and
ends at T + voting_delay + voting_period (votes count while start <= now < end).
The snapshot is the state at the end of the last block before the start (a
strictly past block). A passed proposal is `succeeded` until queued (it
expires if not queued within the grace period after voting ends); `queue`
sets eta = now + timelock; it can execute while eta <= now < eta + grace,
then it is `expired`. Final outcomes recorded in the proposal: executed,
cancelled (proposer, while pending), vetoed (council, during the timelock),
rejected (a challenge the challenger won).

Passed = quorum (for + abstain >= quorum, quorum = ceil(supply * quorum_bps / 10000)
of the supply at the snapshot) and for > against (a tie fails).
"""

from __future__ import annotations

import copy
from typing import Any

from aitbc_daemon.dao.checkpoints import power_before, twas
from aitbc_daemon.dao.params import BPS, MODULE, proposal_key

PROPOSAL_TYPES = (
    "parameter-change",
    "protocol-upgrade",
    "treasury",
    "emergency",
    "agent-trading",
    "dao-grant",
)
COUNCIL_GATED = ("emergency", "protocol-upgrade")  # need council approvals to execute
SUPPORT = ("for", "against", "abstain")

PENDING, ACTIVE, DEFEATED, SUCCEEDED, QUEUED = (
    "pending",
    "active",
    "defeated",
    "succeeded",
    "queued",
)
EXECUTED, EXPIRED, CANCELLED, VETOED, REJECTED = (
    "executed",
    "expired",
    "cancelled",
    "vetoed",
    "rejected",
)
FINAL_OUTCOMES = (EXECUTED, CANCELLED, VETOED, REJECTED)


def load_proposal(view: Any, proposal_id: int) -> dict[str, Any] | None:
    """A deep copy: the record has nested lists, and the stored value belongs to a parent layer."""
    value = view.kv_get(MODULE, proposal_key(proposal_id))
    return None if value is None else copy.deepcopy(value)


def quorum_of(supply: int, quorum_bps: int) -> int:
    return -(-supply * quorum_bps // BPS)


def cap_of(supply: int, cap_bps: int) -> int:
    return supply * cap_bps // BPS


def passed(proposal: dict[str, Any]) -> bool:
    votes_for, against, abstain = proposal["for"], proposal["against"], proposal["abstain"]
    return votes_for + abstain >= proposal["quorum"] and votes_for > against


def quorum_met(proposal: dict[str, Any]) -> bool:
    return proposal["for"] + proposal["abstain"] >= proposal["quorum"]


def proposal_state(proposal: dict[str, Any], now: int) -> str:
    if proposal.get("outcome") in FINAL_OUTCOMES:
        return str(proposal["outcome"])
    if now < proposal["vote_start"]:
        return PENDING
    if now < proposal["vote_end"]:
        return ACTIVE
    if not passed(proposal):
        return DEFEATED
    if proposal.get("eta") is None:
        return EXPIRED if now >= proposal["vote_end"] + proposal["grace_period"] else SUCCEEDED
    return EXPIRED if now >= proposal["eta"] + proposal["grace_period"] else QUEUED


def vote_weight(view: Any, proposal: dict[str, Any], voter: str) -> dict[str, int]:
    """The voter's weight and why: min(min(snapshot power, TWAS) + agent bonus, supply cap).

    The bonus is a registered agent's reputation bonus at the same snapshot (its own
    checkpoint series, written by aitbc_daemon/agents/reputation.py); 0 for everyone else.
    """
    start = proposal["vote_start"]
    snapshot = power_before(view, voter, start)
    average = twas(view, voter, start, proposal["twas_window"])
    bonus = power_before(view, f"bonus:{voter}", start)
    cap = proposal["cap"]
    return {
        "snapshot_power": snapshot,
        "twas": average,
        "bonus": bonus,
        "cap": cap,
        "weight": min(min(snapshot, average) + bonus, cap),
    }
