"""The DAO transactions: pure transitions over kv module "dao" (see `proposals` for the timeline).

- `dao_propose` {type, title, action}: needs `proposal_threshold` of current power;
  locks `proposal_bond` from the sender's balance.
- `dao_vote` {proposal, support, reason?}: one vote per address while active,
  weight = min(power at the snapshot, TWAS before it, cap).
- `dao_queue` {proposal}: a succeeded proposal starts its timelock.
- `dao_execute` {proposal}: after the timelock, within the grace period; council-gated
  types need `council_threshold` approvals; an open challenge blocks it. Applies
  the action; if the action fails the whole transaction fails (state unchanged).
  The bond goes back to the proposer.
- `dao_cancel` {proposal}: the proposer, while pending and unchallenged; bond returned.
- `dao_challenge` {proposal}: any holder posts a bond equal to the proposal's,
  before the timelock ends; the council resolves it.
- `dao_council` {action: approve|veto|resolve|pause|resume, proposal?, winner?}:
  council members; veto, resolve and pause/resume take effect when
  `council_threshold` members agree. Veto (during the timelock) forfeits the
  bond to the treasury; a challenge resolved for the challenger rejects the
  proposal and pays both bonds to the challenger, for the proposer pays the
  challenger's bond to the proposer. pause/resume stop or restart the DAO itself;
  the council's own approve/veto/resolve keep working in a pause (timelocks run on).
- `dao_reclaim_bond` {proposal}: returns the bond of a defeated or expired proposal.
- `dao_delegate` {to}: move the sender's power to `to` (itself to undo).
- `dao_claim_grant` {grant}: the grantee takes what has vested (linearly).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from aitbc_daemon.chain.amounts import check_amount
from aitbc_daemon.chain.errors import ChainError, InvalidPayload
from aitbc_daemon.chain.params import PARAMS_KEY, chain_params, check_param
from aitbc_daemon.chain.state import CHAIN_MODULE, StateOverlay, issued_supply
from aitbc_daemon.chain.tx import Transaction
from aitbc_daemon.chain.txtypes import (
    BlockContext,
    address_field,
    identifier_field,
    register_tx_type,
    require_fields,
)
from aitbc_daemon.dao import errors
from aitbc_daemon.dao.checkpoints import current_power, delegate_of, delegators
from aitbc_daemon.dao.params import (
    AGENT_TRADING_KEY,
    BONDS_KEY,
    COUNCIL_KEY,
    GRANTS_HELD_KEY,
    MODULE,
    MODULES_PAUSABLE,
    NEXT_GRANT_KEY,
    NEXT_PROPOSAL_KEY,
    PAUSED_KEY,
    SETTINGS_KEY,
    TREASURY_KEY,
    UPGRADES_KEY,
    check_setting,
    council,
    delegate_key,
    delegators_key,
    enabled,
    grant_key,
    int_value,
    paused_modules,
    proposal_key,
    settings,
    vote_key,
)
from aitbc_daemon.dao.proposals import (
    ACTIVE,
    CANCELLED,
    COUNCIL_GATED,
    DEFEATED,
    EXECUTED,
    EXPIRED,
    PENDING,
    PROPOSAL_TYPES,
    QUEUED,
    REJECTED,
    SUCCEEDED,
    SUPPORT,
    VETOED,
    cap_of,
    load_proposal,
    proposal_state,
    quorum_of,
    vote_weight,
)
from aitbc_daemon.exchange.market import MODULE as EXCHANGE_MODULE
from aitbc_daemon.exchange.market import SETTINGS_KEY as EXCHANGE_SETTINGS_KEY
from aitbc_daemon.exchange.market import check_setting as check_exchange_setting
from aitbc_daemon.exchange.market import settings as exchange_settings
from aitbc_daemon.staking.accumulator import BPS, accrue
from aitbc_daemon.staking.pools import MAX_LOCK_SECONDS, load_pool, pool_key
from aitbc_daemon.staking.pools import MODULE as STAKING_MODULE

MAX_TITLE = 200
MAX_REASON = 500
MAX_ID = 2**53 - 1
# staking.<pool>.<field>: the pool parameters governance may change. `budget` sets what the pool
# has left to emit; the difference comes from or goes back to the treasury (no issuance).
STAKING_PARAM = re.compile(
    r"staking\.([a-z0-9][a-z0-9_-]{0,31})\.(reward_rate|lock_seconds|early_exit_penalty_bps|budget)"
)
MAX_POOL_BUDGET = 10**15
STAKING_FIELD = {
    "reward_rate": "reward_rate",
    "lock_seconds": "lock_seconds",
    "early_exit_penalty_bps": "penalty_bps",  # PoolState's name for it
}
COUNCIL_PARAM = "dao.council"  # value {"members": [addresses], "threshold": M}
MAX_COUNCIL = 32
GOVERNABLE = (
    "dao.<setting>, dao.council, chain.min_fee, chain.block_reward, "
    "staking.<pool>.reward_rate|lock_seconds|early_exit_penalty_bps|budget, "
    "exchange.rate (AIT units per BTC), exchange.fee_bps"
)


# --- payload checks ------------------------------------------------------------------------


def _id_field(payload: Mapping[str, Any], name: str, tx_type: str) -> int:
    value = payload[name]
    if type(value) is not int or not 1 <= value <= MAX_ID:
        raise InvalidPayload(f"{tx_type}: {name} must be a positive integer id")
    return value


def _int_field(action: Mapping[str, Any], name: str, what: str, low: int = 0, high: int = MAX_ID) -> int:
    value = action.get(name)
    if type(value) is not int or not low <= value <= high:
        raise InvalidPayload(f"dao_propose: {what} action needs {name}, an integer from {low} to {high}")
    return value


def _amount(action: Mapping[str, Any], name: str, what: str) -> int:
    try:
        return check_amount(action.get(name), field=f"dao_propose: {what} action {name}")
    except ChainError as exc:
        raise InvalidPayload(str(exc)) from None


def _exact(action: Mapping[str, Any], names: tuple[str, ...], what: str) -> None:
    if set(action) != set(names):
        raise InvalidPayload(f"dao_propose: a {what} action has exactly: {', '.join(names)}")


def validate_action(kind: str, action: Mapping[str, Any]) -> None:
    """Stateless check of a proposal's action (its fields and ranges) by type."""
    if kind == "parameter-change":
        _exact(action, ("param", "value"), kind)
        param = action["param"]
        if not isinstance(param, str):
            raise InvalidPayload("dao_propose: param must be a string")
        staking = STAKING_PARAM.fullmatch(param)
        if param == COUNCIL_PARAM:
            _council_value(action["value"])
        elif param.startswith(("dao.", "chain.", "exchange.")):
            check = {"dao": check_setting, "chain": check_param, "exchange": check_exchange_setting}[
                param.split(".", 1)[0]
            ]
            try:
                check(param.split(".", 1)[1], action["value"])
            except ValueError as exc:
                raise InvalidPayload(f"dao_propose: {exc}") from None
        elif staking is not None and staking.group(2) == "reward_rate":
            _amount(action, "value", kind)
        elif staking is not None:
            high = {"lock_seconds": MAX_LOCK_SECONDS, "budget": MAX_POOL_BUDGET}.get(staking.group(2), BPS)
            _int_field(action, "value", param, 0, high)
        else:
            raise InvalidPayload(f"dao_propose: {param!r} is not governable ({GOVERNABLE})")
    elif kind == "treasury":
        _exact(action, ("to", "amount"), kind)
        address_field(action, "to", "dao_propose")
        _amount(action, "amount", kind)
    elif kind == "dao-grant":
        _exact(action, ("grantee", "amount", "vesting_seconds"), kind)
        address_field(action, "grantee", "dao_propose")
        _amount(action, "amount", kind)
        _int_field(action, "vesting_seconds", kind, 1, 10 * 365 * 86400)
    elif kind == "emergency":
        _exact(action, ("module", "action"), kind)
        if action["module"] not in MODULES_PAUSABLE[:-1]:
            raise InvalidPayload(f"dao_propose: module must be one of {', '.join(MODULES_PAUSABLE[:-1])}")
        if action["action"] not in ("pause", "resume"):
            raise InvalidPayload("dao_propose: emergency action must be pause or resume")
    elif kind == "protocol-upgrade":
        _exact(action, ("name", "height"), kind)
        identifier_field(action, "name", "dao_propose")
        _int_field(action, "height", kind, 1)
    elif kind == "agent-trading":
        _exact(action, ("max_order", "max_daily_volume"), kind)
        _amount(action, "max_order", kind)
        _amount(action, "max_daily_volume", kind)
    else:
        raise InvalidPayload(f"dao_propose: type must be one of {', '.join(PROPOSAL_TYPES)}")


def _council_value(value: object) -> None:
    """A new council: 1 to MAX_COUNCIL distinct addresses and a threshold from 1 to their number."""
    if not isinstance(value, dict) or set(value) != {"members", "threshold"}:
        raise InvalidPayload("dao_propose: dao.council's value has exactly: members, threshold")
    members = value["members"]
    if not isinstance(members, list) or not 1 <= len(members) <= MAX_COUNCIL:
        raise InvalidPayload(
            f"dao_propose: dao.council members must be a list of 1 to {MAX_COUNCIL} addresses"
        )
    for address in members:
        address_field({"member": address}, "member", "dao_propose: dao.council")
    if len(set(members)) != len(members):
        raise InvalidPayload("dao_propose: dao.council members must be distinct")
    threshold = value["threshold"]
    if type(threshold) is not int or not 1 <= threshold <= len(members):
        raise InvalidPayload(f"dao_propose: dao.council threshold must be 1 to {len(members)} (the members)")


def _validate_propose(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("type", "title", "action"), "dao_propose")
    title = payload["title"]
    if not isinstance(title, str) or not 1 <= len(title) <= MAX_TITLE:
        raise InvalidPayload(f"dao_propose: title must be 1 to {MAX_TITLE} characters")
    if not isinstance(payload["action"], dict):
        raise InvalidPayload("dao_propose: action must be an object")
    validate_action(payload["type"], payload["action"])


def _validate_vote(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("proposal", "support"), "dao_vote", optional=("reason",))
    _id_field(payload, "proposal", "dao_vote")
    if payload["support"] not in SUPPORT:
        raise InvalidPayload("dao_vote: support must be for, against or abstain")
    reason = payload.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON:
        raise InvalidPayload(f"dao_vote: reason must be a string of at most {MAX_REASON} characters")


def _validate_proposal_only(tx_type: str) -> Any:
    def validate(payload: Mapping[str, Any]) -> None:
        require_fields(payload, ("proposal",), tx_type)
        _id_field(payload, "proposal", tx_type)

    return validate


def _validate_council(payload: Mapping[str, Any]) -> None:
    action = payload.get("action")
    if action in ("pause", "resume"):
        require_fields(payload, ("action",), "dao_council")
        return
    if action == "resolve":
        require_fields(payload, ("action", "proposal", "winner"), "dao_council")
        if payload["winner"] not in ("proposer", "challenger"):
            raise InvalidPayload("dao_council: winner must be proposer or challenger")
    elif action in ("approve", "veto"):
        require_fields(payload, ("action", "proposal"), "dao_council")
    else:
        raise InvalidPayload("dao_council: action must be approve, veto, resolve, pause or resume")
    _id_field(payload, "proposal", "dao_council")


def _validate_delegate(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("to",), "dao_delegate")
    address_field(payload, "to", "dao_delegate")


def _validate_claim_grant(payload: Mapping[str, Any]) -> None:
    require_fields(payload, ("grant",), "dao_claim_grant")
    _id_field(payload, "grant", "dao_claim_grant")


# --- state helpers -------------------------------------------------------------------------


def _require_enabled(state: StateOverlay, *, council_action: bool = False) -> None:
    if not enabled(state):
        raise errors.DaoNotEnabled("this chain has no DAO (no dao section in its genesis)")
    if not council_action and "dao" in paused_modules(state):
        raise errors.DaoPaused("the DAO is paused by its council")


def _proposal(state: StateOverlay, proposal_id: int) -> dict[str, Any]:
    proposal = load_proposal(state, proposal_id)
    if proposal is None:
        raise errors.ProposalNotFound(f"no proposal {proposal_id}")
    return proposal


def _put(state: StateOverlay, proposal: dict[str, Any]) -> None:
    state.kv_put(MODULE, proposal_key(proposal["id"]), proposal)


def _add(state: StateOverlay, key: str, amount: int) -> None:
    state.kv_put(MODULE, key, int_value(state, key) + amount)


def _take(state: StateOverlay, key: str, amount: int, error: type[errors.ExecutionFailed], what: str) -> None:
    held = int_value(state, key)
    if amount > held:
        raise error(f"{what} holds {held} units, {amount} needed")
    state.kv_put(MODULE, key, held - amount)


def _pay_bond(state: StateOverlay, proposal: dict[str, Any], to: str | None) -> None:
    """Release the proposal's bond to `to` (None: forfeit to the treasury)."""
    amount = proposal["bond_held"]
    if not amount:
        return
    _take(state, BONDS_KEY, amount, errors.TreasuryShort, "the bond account")
    if to is None:
        _add(state, TREASURY_KEY, amount)
    else:
        state.credit(to, amount)
    proposal["bond_held"] = 0


def _require_state(proposal: dict[str, Any], now: int, allowed: tuple[str, ...], doing: str) -> str:
    current = proposal_state(proposal, now)
    if current not in allowed:
        raise errors.WrongProposalState(
            f"proposal {proposal['id']} is {current}; {doing} needs it {' or '.join(allowed)}"
        )
    return current


def _require_council(state: StateOverlay, address: str) -> int:
    members, threshold = council(state)
    if address not in members:
        raise errors.NotCouncil(f"{address} is not on the DAO council")
    return threshold


def _open_challenge(proposal: dict[str, Any]) -> bool:
    challenge = proposal.get("challenge")
    return challenge is not None and challenge.get("winner") is None


# --- propose / vote / queue / execute / cancel -----------------------------------------------


def _apply_propose(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    action = tx.payload["action"]
    if tx.payload["type"] == "parameter-change" and STAKING_PARAM.fullmatch(action["param"]):
        _governed_pool(state, action["param"])  # a pool that does not exist is refused now, not at execution
    params = settings(state)
    power = current_power(state, tx.sender)
    if power < params["proposal_threshold"]:
        raise errors.NotEnoughPower(
            f"{tx.sender} has {power} units of voting power; proposing needs {params['proposal_threshold']}"
        )
    bond = params["proposal_bond"]
    state.debit(tx.sender, bond)
    _add(state, BONDS_KEY, bond)
    proposal_id = int(state.kv_get(MODULE, NEXT_PROPOSAL_KEY) or 1)
    supply = issued_supply(state)
    start = ctx.timestamp + params["voting_delay"]
    proposal = {
        "id": proposal_id,
        "type": tx.payload["type"],
        "title": tx.payload["title"],
        "action": tx.payload["action"],
        "proposer": tx.sender,
        "tx": tx.hash,
        "created_height": ctx.height,
        "created_at": ctx.timestamp,
        "vote_start": start,
        "vote_end": start + params["voting_period"],
        "timelock": params["timelock"],
        "grace_period": params["grace_period"],
        "twas_window": params["twas_window"],
        "supply": supply,
        "quorum": quorum_of(supply, params["quorum_bps"]),
        "cap": cap_of(supply, params["power_cap_bps"]),
        "bond": bond,
        "bond_held": bond,
        "for": 0,
        "against": 0,
        "abstain": 0,
        "voters": 0,
        "eta": None,
        "outcome": None,
        "approvals": [],
        "vetoes": [],
        "challenge": None,
    }
    _put(state, proposal)
    state.kv_put(MODULE, NEXT_PROPOSAL_KEY, proposal_id + 1)


def _apply_vote(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    _require_state(proposal, ctx.timestamp, (ACTIVE,), "voting")
    key = vote_key(proposal["id"], tx.sender)
    if state.kv_get(MODULE, key) is not None:
        raise errors.AlreadyVoted(f"{tx.sender} already voted on proposal {proposal['id']}")
    why = vote_weight(state, proposal, tx.sender)
    if why["weight"] == 0:
        raise errors.NotEnoughPower(
            f"{tx.sender} had no voting power at the snapshot of proposal {proposal['id']}"
        )
    support = tx.payload["support"]
    proposal[support] += why["weight"]
    proposal["voters"] += 1
    state.kv_put(MODULE, key, {"support": support, "weight": why["weight"], "height": ctx.height})
    _put(state, proposal)


def _apply_queue(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    _require_state(proposal, ctx.timestamp, (SUCCEEDED,), "queueing")
    if _open_challenge(proposal):
        raise errors.ChallengeError(f"proposal {proposal['id']} has an open challenge for the council")
    proposal["eta"] = ctx.timestamp + proposal["timelock"]
    _put(state, proposal)


def _apply_execute(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    _require_state(proposal, ctx.timestamp, (QUEUED,), "execution")
    if ctx.timestamp < proposal["eta"]:
        raise errors.WrongProposalState(
            f"proposal {proposal['id']} is in its timelock until {proposal['eta']}"
        )
    if _open_challenge(proposal):
        raise errors.ChallengeError(f"proposal {proposal['id']} has an open challenge for the council")
    if proposal["type"] in COUNCIL_GATED:
        members, threshold = council(state)
        approvals = _current(proposal["approvals"], members)
        if approvals < threshold:
            raise errors.NeedsCouncilApproval(
                f"{proposal['type']} proposals need {threshold} council approvals; "
                f"proposal {proposal['id']} has {approvals}"
            )
    _EFFECTS[proposal["type"]](state, proposal["action"], ctx, proposal)
    proposal["outcome"] = EXECUTED
    proposal["executed_height"] = ctx.height
    _pay_bond(state, proposal, proposal["proposer"])
    _put(state, proposal)


def _apply_cancel(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    if tx.sender != proposal["proposer"]:
        raise errors.NotProposer(
            f"only the proposer {proposal['proposer']} can cancel proposal {proposal['id']}"
        )
    _require_state(proposal, ctx.timestamp, (PENDING,), "cancelling")
    _refuse_while_challenged(proposal, "cancelled")
    proposal["outcome"] = CANCELLED
    _pay_bond(state, proposal, proposal["proposer"])
    _put(state, proposal)


def _refuse_while_challenged(proposal: dict[str, Any], doing: str) -> None:
    """The bond is at stake in an open challenge: if the proposer could take it back first,
    a challenger who then wins would get only its own bond, not both."""
    if _open_challenge(proposal):
        raise errors.ChallengeError(
            f"proposal {proposal['id']} has an open challenge; its bond cannot be {doing} "
            "until the council resolves it"
        )


def _apply_reclaim(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    _require_state(proposal, ctx.timestamp, (DEFEATED, EXPIRED), "reclaiming the bond")
    if not proposal["bond_held"]:
        raise errors.WrongProposalState(f"the bond of proposal {proposal['id']} was already returned")
    _refuse_while_challenged(proposal, "reclaimed")
    _pay_bond(state, proposal, proposal["proposer"])
    _put(state, proposal)


# --- challenge and council ------------------------------------------------------------------


def _apply_challenge(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    proposal = _proposal(state, tx.payload["proposal"])
    current = _require_state(proposal, ctx.timestamp, (PENDING, ACTIVE, SUCCEEDED, QUEUED), "a challenge")
    if current == QUEUED and ctx.timestamp >= proposal["eta"]:
        raise errors.ChallengeError(
            f"the challenge window of proposal {proposal['id']} closed at {proposal['eta']}"
        )
    if proposal["challenge"] is not None:
        raise errors.ChallengeError(f"proposal {proposal['id']} was already challenged")
    if tx.sender == proposal["proposer"]:
        raise errors.ChallengeError("a proposer cannot challenge its own proposal")
    state.debit(tx.sender, proposal["bond"])
    _add(state, BONDS_KEY, proposal["bond"])
    proposal["challenge"] = {
        "challenger": tx.sender,
        "bond": proposal["bond"],
        "winner": None,
        "proposer_votes": [],
        "challenger_votes": [],
    }
    _put(state, proposal)


def _current(voters: list[str], members: list[str]) -> int:
    """How many of `voters` are on the council now (a `dao.council` change may have removed some)."""
    return sum(1 for voter in voters if voter in members)


def _council_vote(state: StateOverlay, voters: list[str], member: str, what: str) -> bool:
    """Add `member` to `voters`; True when the current members among them reach the threshold."""
    if member in voters:
        raise errors.WrongProposalState(f"{member} already voted to {what}")
    voters.append(member)
    members, threshold = council(state)
    return _current(voters, members) >= threshold


def _apply_council(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state, council_action=True)
    _require_council(state, tx.sender)
    action = tx.payload["action"]
    if action in ("pause", "resume"):
        key = f"council_pause:{action}"
        voters = list(state.kv_get(MODULE, key) or [])
        paused = paused_modules(state)
        if (action == "pause") == ("dao" in paused):
            raise errors.WrongProposalState(
                f"the DAO is already {'paused' if action == 'pause' else 'running'}"
            )
        if _council_vote(state, voters, tx.sender, action):
            state.kv_put(
                MODULE,
                PAUSED_KEY,
                sorted({*paused, "dao"} if action == "pause" else set(paused) - {"dao"}) or None,
            )
            state.kv_put(MODULE, key, None)
        else:
            state.kv_put(MODULE, key, voters)
        return
    # The council keeps its checks while it has paused the DAO: a timelock runs on in a pause,
    # and a veto or a challenge ruling refused then would let a proposal execute unchecked at resume.
    proposal = _proposal(state, tx.payload["proposal"])
    now = ctx.timestamp
    if action == "approve":
        if proposal["type"] not in COUNCIL_GATED:
            raise errors.WrongProposalState(f"{proposal['type']} proposals need no council approval")
        _require_state(proposal, now, (PENDING, ACTIVE, SUCCEEDED, QUEUED), "approval")
        _council_vote(state, proposal["approvals"], tx.sender, "approve")
    elif action == "veto":
        _require_state(proposal, now, (QUEUED,), "a veto")
        if now >= proposal["eta"]:
            raise errors.WrongProposalState(
                f"proposal {proposal['id']}'s timelock ended at {proposal['eta']}"
            )
        if _council_vote(state, proposal["vetoes"], tx.sender, "veto"):
            proposal["outcome"] = VETOED
            _pay_bond(state, proposal, None)
            challenge = proposal["challenge"]
            if _open_challenge(proposal):  # the veto settles it: the challenger gets its bond back
                challenge["winner"] = "challenger"
                _take(state, BONDS_KEY, challenge["bond"], errors.TreasuryShort, "the bond account")
                state.credit(challenge["challenger"], challenge["bond"])
    else:  # resolve
        challenge = proposal["challenge"]
        if challenge is None or challenge["winner"] is not None:
            raise errors.ChallengeError(f"proposal {proposal['id']} has no open challenge")
        winner = tx.payload["winner"]
        loser = "challenger" if winner == "proposer" else "proposer"
        if tx.sender in challenge[f"{loser}_votes"]:
            raise errors.ChallengeError(f"{tx.sender} already voted to resolve for the {loser}")
        votes = challenge[f"{winner}_votes"]
        if _council_vote(state, votes, tx.sender, f"resolve for the {winner}"):
            challenge["winner"] = winner
            stake = challenge["bond"]
            _take(state, BONDS_KEY, stake, errors.TreasuryShort, "the bond account")
            if winner == "proposer":
                state.credit(proposal["proposer"], stake)  # the challenger's bond
            else:
                state.credit(challenge["challenger"], stake)  # its own bond back
                if proposal.get("outcome") is None:
                    proposal["outcome"] = REJECTED
                _pay_bond(state, proposal, challenge["challenger"])  # and the proposer's
    _put(state, proposal)


# --- execution effects ------------------------------------------------------------------------


def _governed_pool(state: StateOverlay, param: str) -> Any:
    """The pool a staking.<pool>.<field> parameter names; UnknownParameter if there is none."""
    match = STAKING_PARAM.fullmatch(param)
    assert match is not None
    pool = load_pool(state, match.group(1))
    if pool is None:
        raise errors.UnknownParameter(f"no staking pool {match.group(1)!r}")
    return pool


def _effect_parameter(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, _: Any) -> None:
    """Set one governable parameter. Staking: the pool is first accrued to now, so past time
    keeps the old rate; a position keeps the unlock time it was opened with (it is stored on
    the position), while a new early-exit penalty applies to every exit from now on."""
    param, value = action["param"], action["value"]
    if param == COUNCIL_PARAM:  # votes already cast by members it removes stop counting
        new_council = {"members": list(value["members"]), "threshold": value["threshold"]}
        state.kv_put(MODULE, COUNCIL_KEY, new_council)
        return
    if param.startswith("dao."):
        state.kv_put(MODULE, SETTINGS_KEY, {**settings(state), param[4:]: value})
        return
    if param.startswith("chain."):
        state.kv_put(CHAIN_MODULE, PARAMS_KEY, {**chain_params(state), param[6:]: value})
        return
    if param.startswith("exchange."):  # the next exchange transaction trades at the new setting
        state.kv_put(EXCHANGE_MODULE, EXCHANGE_SETTINGS_KEY, {**exchange_settings(state), param[9:]: value})
        return
    pool = accrue(_governed_pool(state, param), ctx.timestamp)
    name = param.rsplit(".", 1)[1]
    if name == "budget":  # a top-up comes out of the treasury, a cut goes back into it
        change = value - pool.remaining
        if change > 0:
            _take(state, TREASURY_KEY, change, errors.TreasuryShort, "the treasury")
        else:
            _add(state, TREASURY_KEY, -change)
        pool = replace(pool, remaining=value, budget=pool.budget + change)
    else:
        pool = replace(pool, **{STAKING_FIELD[name]: value})
    state.kv_put(STAKING_MODULE, pool_key(pool.id), pool.to_dict())


def _effect_treasury(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, _: Any) -> None:
    _take(state, TREASURY_KEY, action["amount"], errors.TreasuryShort, "the treasury")
    state.credit(action["to"], action["amount"])


def _effect_grant(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, proposal: Any) -> None:
    _take(state, TREASURY_KEY, action["amount"], errors.TreasuryShort, "the treasury")
    _add(state, GRANTS_HELD_KEY, action["amount"])
    grant_id = int(state.kv_get(MODULE, NEXT_GRANT_KEY) or 1)
    state.kv_put(
        MODULE,
        grant_key(grant_id),
        {
            "id": grant_id,
            "proposal": proposal["id"],
            "grantee": action["grantee"],
            "amount": action["amount"],
            "start": ctx.timestamp,
            "duration": action["vesting_seconds"],
            "claimed": 0,
        },
    )
    state.kv_put(MODULE, NEXT_GRANT_KEY, grant_id + 1)
    proposal["grant"] = grant_id


def _effect_emergency(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, _: Any) -> None:
    paused = set(paused_modules(state))
    paused = paused | {action["module"]} if action["action"] == "pause" else paused - {action["module"]}
    state.kv_put(MODULE, PAUSED_KEY, sorted(paused) or None)


def _effect_upgrade(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, _: Any) -> None:
    if action["height"] <= ctx.height:
        raise errors.WrongProposalState(
            f"upgrade {action['name']} was for height {action['height']}; the chain is at {ctx.height}"
        )
    upgrades = dict(state.kv_get(MODULE, UPGRADES_KEY) or {})
    upgrades[action["name"]] = action["height"]
    state.kv_put(MODULE, UPGRADES_KEY, upgrades)


def _effect_agent_trading(state: StateOverlay, action: dict[str, Any], ctx: BlockContext, _: Any) -> None:
    state.kv_put(MODULE, AGENT_TRADING_KEY, {**action, "height": ctx.height})


_EFFECTS = {
    "parameter-change": _effect_parameter,
    "treasury": _effect_treasury,
    "dao-grant": _effect_grant,
    "emergency": _effect_emergency,
    "protocol-upgrade": _effect_upgrade,
    "agent-trading": _effect_agent_trading,
}


# --- delegation and grants --------------------------------------------------------------------


def _apply_delegate(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    old, new = delegate_of(state, tx.sender), tx.payload["to"]
    if old == new:
        raise errors.WrongProposalState(f"{tx.sender} already delegates to {new}")
    if old != tx.sender:
        rest = [d for d in delegators(state, old) if d != tx.sender]
        state.kv_put(MODULE, delegators_key(old), rest or None)
    if new != tx.sender:
        state.kv_put(MODULE, delegators_key(new), [*delegators(state, new), tx.sender])
    state.kv_put(MODULE, delegate_key(tx.sender), None if new == tx.sender else new)


def vested(grant: Mapping[str, Any], now: int) -> int:
    elapsed = min(max(now - grant["start"], 0), grant["duration"])
    return grant["amount"] * elapsed // grant["duration"]


def load_grant(view: Any, grant_id: int) -> dict[str, Any] | None:
    value = view.kv_get(MODULE, grant_key(grant_id))
    return None if value is None else dict(value)


def _apply_claim_grant(state: StateOverlay, tx: Transaction, ctx: BlockContext) -> None:
    _require_enabled(state)
    grant = load_grant(state, tx.payload["grant"])
    if grant is None:
        raise errors.GrantNotFound(f"no grant {tx.payload['grant']}")
    if grant["grantee"] != tx.sender:
        raise errors.NotGrantee(f"grant {grant['id']} is {grant['grantee']}'s")
    amount = vested(grant, ctx.timestamp) - grant["claimed"]
    if amount <= 0:
        raise errors.NothingVested(f"nothing more of grant {grant['id']} has vested at {ctx.timestamp}")
    _take(state, GRANTS_HELD_KEY, amount, errors.TreasuryShort, "the grants account")
    state.credit(tx.sender, amount)
    grant["claimed"] += amount
    state.kv_put(MODULE, grant_key(grant["id"]), grant)


def _touches_to(payload: Mapping[str, Any]) -> tuple[str, ...]:
    return (payload["to"],)


DAO_PROPOSE = register_tx_type("dao_propose", validate_payload=_validate_propose, apply=_apply_propose)
DAO_VOTE = register_tx_type("dao_vote", validate_payload=_validate_vote, apply=_apply_vote)
DAO_QUEUE = register_tx_type(
    "dao_queue", validate_payload=_validate_proposal_only("dao_queue"), apply=_apply_queue
)
DAO_EXECUTE = register_tx_type(
    "dao_execute", validate_payload=_validate_proposal_only("dao_execute"), apply=_apply_execute
)
DAO_CANCEL = register_tx_type(
    "dao_cancel", validate_payload=_validate_proposal_only("dao_cancel"), apply=_apply_cancel
)
DAO_CHALLENGE = register_tx_type(
    "dao_challenge",
    validate_payload=_validate_proposal_only("dao_challenge"),
    apply=_apply_challenge,
)
DAO_RECLAIM_BOND = register_tx_type(
    "dao_reclaim_bond",
    validate_payload=_validate_proposal_only("dao_reclaim_bond"),
    apply=_apply_reclaim,
)
DAO_COUNCIL = register_tx_type("dao_council", validate_payload=_validate_council, apply=_apply_council)
DAO_DELEGATE = register_tx_type(
    "dao_delegate", validate_payload=_validate_delegate, apply=_apply_delegate, touches=_touches_to
)
DAO_CLAIM_GRANT = register_tx_type(
    "dao_claim_grant", validate_payload=_validate_claim_grant, apply=_apply_claim_grant
)
