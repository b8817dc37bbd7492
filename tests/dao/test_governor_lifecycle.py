"""Governor lifecycle rules after OpenZeppelin's Governor tests: cancel, queue/execute order, the six
effects, failing executions, the council (approvals, veto), challenges and bonds.

Bond flows are checked to the unit against the rules in dao/txtypes.py: the proposer's bond comes
back on execution, cancellation or reclaim (defeated, expired), goes to the treasury on a veto,
to the challenger when the challenger wins; a challenger's bond goes to the proposer when the
proposer wins. `assert_books` checks supply and the bond account after each scenario.
"""

from __future__ import annotations

import pytest

from aitbc_daemon.dao.params import GRANTS_HELD_KEY, int_value, paused_modules, settings
from aitbc_daemon.dao.txtypes import load_grant

from .governor_scenarios import (
    assert_books,
    bonds,
    pass_all,
    propose_all,
    propose_many,
    queue_all,
    treasury,
    treasury_action,
)
from .helpers import ADDRESSES, BOND, DAY, T0, TREASURY, UNIT, DaoChain

P = T0 + 100
HOUR = 3600


@pytest.fixture
def chain(tmp_path):
    return DaoChain(tmp_path / "dao.sqlite")


def send(chain, t, account, tx_type, pid, **extra):
    return chain.send(t, account, tx_type, {"proposal": pid, **extra})


def council(chain, t, member, action, pid, **extra):
    return chain.send(t, member, "dao_council", {"action": action, "proposal": pid, **extra})


def balances(chain):
    return [chain.balance(a) for a in range(len(ADDRESSES))]


# --- cancel ----------------------------------------------------------------------------------------


def test_cancel_only_by_the_proposer_only_while_pending_bond_returned(chain):
    a, b = propose_many(chain, P, 2)
    start = chain.proposal(a)["vote_start"]
    stranger = send(chain, P + 1, 1, "dao_cancel", a)
    assert stranger.status == "failed" and stranger.code == "not_proposer"
    assert chain.state_of(a, P + 1) == "pending" and chain.balance(0) == 400_000 * UNIT - 2 * BOND
    assert send(chain, start - 1, 0, "dao_cancel", a).status == "included"
    assert chain.balance(0) == 400_000 * UNIT - BOND
    assert [chain.state_of(a, t) for t in (start - 1, start, start + 30 * DAY)] == ["cancelled"] * 3
    after_start = send(chain, start, 0, "dao_cancel", b)
    assert after_start.code == "wrong_proposal_state" and chain.state_of(b, start) == "active"
    for tx_type, account in (
        ("dao_cancel", 0),
        ("dao_reclaim_bond", 0),
        ("dao_queue", 2),
        ("dao_execute", 2),
        ("dao_challenge", 2),
    ):
        assert send(chain, start, account, tx_type, a).code == "wrong_proposal_state", tx_type
    late_vote = chain.send(start, 1, "dao_vote", {"proposal": a, "support": "for"})
    assert late_vote.code == "wrong_proposal_state"
    assert chain.balance(0) == 400_000 * UNIT - BOND and chain.balance(2) == 200_000 * UNIT
    assert_books(chain)


# --- queue / execute order -------------------------------------------------------------------------------


def test_queue_and_execute_order(chain):
    [pid] = propose_many(chain, P, 1)
    p = chain.proposal(pid)
    start, end = p["vote_start"], p["vote_end"]
    chain.send(start, 1, "dao_vote", {"proposal": pid, "support": "for"})
    assert send(chain, start, 2, "dao_queue", pid).code == "wrong_proposal_state"  # active
    assert send(chain, start, 2, "dao_execute", pid).code == "wrong_proposal_state"
    chain.block(end)
    unqueued = send(chain, end, 2, "dao_execute", pid)  # execute before queue
    assert unqueued.code == "wrong_proposal_state" and chain.state_of(pid, end) == "succeeded"
    assert send(chain, end, 2, "dao_queue", pid).status == "included"
    assert send(chain, end + 1, 2, "dao_queue", pid).code == "wrong_proposal_state"  # queued twice
    eta = chain.proposal(pid)["eta"]
    assert eta == end + 2 * DAY
    early = send(chain, eta - 1, 2, "dao_execute", pid)
    assert early.code == "wrong_proposal_state" and "timelock" in early.reason
    five = chain.balance(5)
    assert send(chain, eta, 3, "dao_execute", pid).status == "included"  # anyone may execute
    assert chain.balance(5) == five + UNIT and chain.proposal(pid)["executed_height"] == chain.node.height
    assert send(chain, eta, 2, "dao_execute", pid).code == "wrong_proposal_state"  # executed twice
    assert send(chain, eta, 2, "dao_queue", pid).code == "wrong_proposal_state"
    assert send(chain, eta, 0, "dao_reclaim_bond", pid).code == "wrong_proposal_state"
    assert chain.balance(5) == five + UNIT and chain.balance(0) == 400_000 * UNIT
    assert_books(chain)


# --- the six effects -------------------------------------------------------------------------------------


EFFECTS = {
    "parameter-change": {"param": "dao.voting_delay", "value": HOUR},
    "treasury": {"to": ADDRESSES[5], "amount": 5_000 * UNIT},
    "dao-grant": {"grantee": ADDRESSES[5], "amount": 1_000 * UNIT, "vesting_seconds": 1_000},
    "emergency": {"module": "exchange", "action": "pause"},
    "protocol-upgrade": {"name": "v2", "height": 1_000},
    "agent-trading": {"max_order": 100 * UNIT, "max_daily_volume": 1_000 * UNIT},
}


@pytest.mark.parametrize("kind", list(EFFECTS))
def test_execution_effect_of_each_proposal_type(chain, kind):
    action = EFFECTS[kind]
    [pid] = propose_all(chain, P, [(kind, action)])
    end = pass_all(chain, [pid])
    eta = queue_all(chain, end, [pid])
    if kind in ("emergency", "protocol-upgrade"):
        assert council(chain, eta, 3, "approve", pid).status == "included"
        assert council(chain, eta, 4, "approve", pid).status == "included"
    state = chain.node.state
    five, kept = chain.balance(5), treasury(chain)
    assert send(chain, eta, 2, "dao_execute", pid).status == "included"
    assert chain.state_of(pid, eta) == "executed"
    assert chain.balance(0) == 400_000 * UNIT  # bond back on execution
    if kind == "parameter-change":
        assert settings(state)["voting_delay"] == HOUR
        [later] = propose_many(chain, eta + 10, 1)
        assert chain.proposal(later)["vote_start"] == eta + 10 + HOUR
        assert chain.proposal(pid)["vote_start"] == P + DAY  # an existing proposal keeps its timeline
    elif kind == "treasury":
        assert chain.balance(5) == five + 5_000 * UNIT and treasury(chain) == kept - 5_000 * UNIT
    elif kind == "dao-grant":
        assert treasury(chain) == kept - 1_000 * UNIT and chain.balance(5) == five
        assert int_value(state, GRANTS_HELD_KEY) == 1_000 * UNIT
        grant = load_grant(state, chain.proposal(pid)["grant"])
        assert (grant["grantee"], grant["amount"], grant["start"], grant["duration"], grant["claimed"]) == (
            ADDRESSES[5],
            1_000 * UNIT,
            eta,
            1_000,
            0,
        )
        assert chain.send(eta + 400, 5, "dao_claim_grant", {"grant": grant["id"]}).status == "included"
        assert chain.balance(5) == five + 400 * UNIT
        assert chain.send(eta + 1_000, 5, "dao_claim_grant", {"grant": grant["id"]}).status == "included"
        assert chain.balance(5) == five + 1_000 * UNIT and int_value(state, GRANTS_HELD_KEY) == 0
    elif kind == "emergency":
        assert paused_modules(state) == ["exchange"]
    elif kind == "protocol-upgrade":
        assert state.kv_get("dao", "upgrades") == {"v2": 1_000}
    else:
        stored = state.kv_get("dao", "agent_trading")
        assert stored == {**EFFECTS["agent-trading"], "height": stored["height"]}
        assert chain.proposal(pid)["executed_height"] == stored["height"]
    assert_books(chain)


# --- failing executions ------------------------------------------------------------------------------------


def test_failed_execution_changes_nothing_and_can_execute_later(chain):
    big, filler = propose_all(
        chain,
        P,
        [("treasury", treasury_action(TREASURY + UNIT)), ("treasury", treasury_action(UNIT))],
    )
    end = pass_all(chain, [big, filler])
    eta = queue_all(chain, end, [big])
    assert queue_all(chain, end + 10, [filler]) == eta + 10
    record, kept, held, before = chain.proposal(big), treasury(chain), bonds(chain), balances(chain)
    failed = send(chain, eta, 2, "dao_execute", big)
    assert failed.status == "failed" and failed.code == "treasury_short"
    after = (chain.proposal(big), treasury(chain), bonds(chain), balances(chain))
    assert after == (record, kept, held, before)
    assert chain.state_of(big, eta) == "queued"
    # a veto forfeits the filler's bond into the treasury: now it holds TREASURY + BOND
    council(chain, eta + 1, 3, "veto", filler)
    council(chain, eta + 2, 4, "veto", filler)
    assert chain.state_of(filler, eta + 2) == "vetoed" and treasury(chain) == TREASURY + BOND
    assert send(chain, eta + 3, 2, "dao_execute", big).status == "included"
    assert treasury(chain) == BOND - UNIT
    assert chain.balance(5) == before[5] + TREASURY + UNIT
    assert chain.balance(0) == 400_000 * UNIT - BOND  # big's bond back, the filler's forfeited
    assert_books(chain)


def test_upgrade_for_a_passed_height_fails_and_leaves_the_proposal_queued(chain):
    [pid] = propose_all(chain, P, [("protocol-upgrade", {"name": "v2", "height": 3})])
    end = pass_all(chain, [pid])
    eta = queue_all(chain, end, [pid])
    council(chain, eta, 3, "approve", pid)
    council(chain, eta, 4, "approve", pid)
    record, held, before = chain.proposal(pid), bonds(chain), balances(chain)
    assert chain.node.height >= 3
    failed = send(chain, eta, 2, "dao_execute", pid)
    assert failed.status == "failed" and failed.code == "wrong_proposal_state"
    assert (chain.proposal(pid), bonds(chain), balances(chain)) == (record, held, before)
    assert chain.node.state.kv_get("dao", "upgrades") is None
    assert chain.state_of(pid, eta) == "queued"
    assert_books(chain)


def test_staking_parameter_for_an_unknown_pool_is_refused_when_proposed(chain):
    refused = chain.propose(P, "parameter-change", {"param": "staking.nope.reward_rate", "value": 3})
    assert refused.status == "failed" and refused.code == "unknown_parameter"
    assert chain.balance(0) == 400_000 * UNIT and bonds(chain) == 0  # no bond taken, no proposal
    assert chain.node.state.kv_get("dao", "next_proposal") is None
    assert_books(chain)


def test_execution_refused_while_the_dao_is_paused_then_allowed_after_resume(chain):
    [pid] = propose_many(chain, P, 1)
    end = pass_all(chain, [pid])
    eta = queue_all(chain, end, [pid])
    chain.send(eta - 2, 3, "dao_council", {"action": "pause"})
    chain.send(eta - 1, 4, "dao_council", {"action": "pause"})
    paused = send(chain, eta, 2, "dao_execute", pid)
    assert paused.code == "dao_paused" and chain.state_of(pid, eta) == "queued"
    chain.send(eta + 1, 4, "dao_council", {"action": "resume"})
    chain.send(eta + 2, 5, "dao_council", {"action": "resume"})
    assert send(chain, eta + 3, 2, "dao_execute", pid).status == "included"
    assert_books(chain)


# --- council: approvals and veto ---------------------------------------------------------------------------


def test_council_approvals_below_and_at_threshold_non_member_and_double(chain):
    gated, plain = propose_all(
        chain, P, [("emergency", EFFECTS["emergency"]), ("treasury", treasury_action())]
    )
    assert council(chain, P + 1, 3, "approve", gated).status == "included"  # allowed while pending
    double = council(chain, P + 2, 3, "approve", gated)
    assert double.status == "failed" and double.code == "wrong_proposal_state"
    outsider = council(chain, P + 2, 0, "approve", gated)
    assert outsider.code == "not_council"
    assert chain.proposal(gated)["approvals"] == [ADDRESSES[3]]
    assert council(chain, P + 3, 4, "approve", plain).code == "wrong_proposal_state"  # needs none
    end = pass_all(chain, [gated, plain])
    eta = queue_all(chain, end, [gated, plain])
    below = send(chain, eta, 2, "dao_execute", gated)
    assert below.code == "needs_council_approval" and "has 1" in below.reason
    assert paused_modules(chain.node.state) == [] and chain.state_of(gated, eta) == "queued"
    assert send(chain, eta, 2, "dao_execute", plain).status == "included"  # not gated: no approval
    assert council(chain, eta + 1, 5, "approve", gated).status == "included"
    assert send(chain, eta + 1, 2, "dao_execute", gated).status == "included"
    assert paused_modules(chain.node.state) == ["exchange"]
    assert council(chain, eta + 2, 4, "approve", gated).code == "wrong_proposal_state"  # executed
    assert_books(chain)


def test_veto_only_during_the_timelock_and_it_forfeits_the_bond(chain):
    a, b, c = propose_many(chain, P, 3)
    end = pass_all(chain, [a, b, c])
    assert council(chain, end, 3, "veto", a).code == "wrong_proposal_state"  # succeeded, not queued
    eta = queue_all(chain, end, [a, b])
    assert queue_all(chain, end + 1, [c]) == eta + 1
    assert council(chain, eta - 2, 3, "veto", a).status == "included"
    assert council(chain, eta - 2, 3, "veto", a).code == "wrong_proposal_state"  # double veto
    assert council(chain, eta - 2, 0, "veto", a).code == "not_council"
    assert chain.state_of(a, eta - 2) == "queued" and chain.proposal(a)["vetoes"] == [ADDRESSES[3]]
    kept, owner = treasury(chain), chain.balance(0)
    assert council(chain, eta - 1, 4, "veto", a).status == "included"
    assert chain.state_of(a, eta - 1) == "vetoed"
    assert treasury(chain) == kept + BOND and chain.balance(0) == owner  # forfeited, not returned
    assert send(chain, eta, 2, "dao_execute", a).code == "wrong_proposal_state"
    assert send(chain, eta, 0, "dao_reclaim_bond", a).code == "wrong_proposal_state"
    closed = council(chain, eta, 3, "veto", b)  # the timelock ended at eta
    assert closed.code == "wrong_proposal_state" and "timelock" in closed.reason
    assert send(chain, eta, 2, "dao_execute", b).status == "included"
    assert council(chain, eta, 3, "veto", c).status == "included"  # c's eta is eta + 1
    assert send(chain, eta + 1, 2, "dao_execute", c).status == "included"  # one veto of two: no effect
    assert treasury(chain) == TREASURY + BOND - 2 * UNIT
    assert chain.balance(0) == 400_000 * UNIT - BOND
    assert_books(chain)


# --- challenges ---------------------------------------------------------------------------------------------


def test_challenge_window_closes_at_eta_and_blocks_execution_until_resolved(chain):
    a, b = propose_many(chain, P, 2)
    end = pass_all(chain, [a, b])
    eta = queue_all(chain, end, [a, b])
    assert send(chain, eta - 1, 2, "dao_challenge", a).status == "included"
    assert chain.balance(2) == 200_000 * UNIT - BOND
    closed = send(chain, eta, 2, "dao_challenge", b)
    assert closed.code == "challenge_refused" and chain.balance(2) == 200_000 * UNIT - BOND
    blocked = send(chain, eta, 1, "dao_execute", a)
    assert blocked.code == "challenge_refused" and chain.state_of(a, eta) == "queued"
    assert send(chain, eta, 1, "dao_challenge", a).code == "challenge_refused"  # one challenge only
    assert send(chain, eta, 1, "dao_execute", b).status == "included"
    assert council(chain, eta + 1, 3, "resolve", a, winner="proposer").status == "included"
    assert send(chain, eta + 1, 1, "dao_execute", a).code == "challenge_refused"  # 1 of 2
    assert council(chain, eta + 2, 5, "resolve", a, winner="proposer").status == "included"
    assert chain.balance(0) == 400_000 * UNIT - BOND + BOND  # b's bond back + the challenger's bond
    assert send(chain, eta + 3, 1, "dao_execute", a).status == "included"
    assert chain.balance(0) == 400_000 * UNIT + BOND and chain.balance(2) == 200_000 * UNIT - BOND
    assert_books(chain)


def test_challenger_wins_rejects_the_proposal_and_takes_both_bonds(chain):
    [pid] = propose_many(chain, P, 1)
    end = pass_all(chain, [pid])
    assert send(chain, end, 0, "dao_challenge", pid).code == "challenge_refused"  # not its own
    assert send(chain, end, 2, "dao_challenge", pid).status == "included"
    assert send(chain, end, 1, "dao_queue", pid).code == "challenge_refused"
    assert council(chain, end + 1, 3, "resolve", pid, winner="challenger").status == "included"
    assert council(chain, end + 1, 3, "resolve", pid, winner="challenger").code == "wrong_proposal_state"
    assert council(chain, end + 1, 1, "resolve", pid, winner="challenger").code == "not_council"
    assert send(chain, end + 2, 1, "dao_queue", pid).code == "challenge_refused"  # still open
    assert council(chain, end + 3, 5, "resolve", pid, winner="challenger").status == "included"
    assert chain.state_of(pid, end + 3) == "rejected"
    assert chain.balance(2) == 200_000 * UNIT + BOND and chain.balance(0) == 400_000 * UNIT - BOND
    assert bonds(chain) == 0
    for tx_type in ("dao_queue", "dao_execute", "dao_reclaim_bond"):
        assert send(chain, end + 4, 1, tx_type, pid).code == "wrong_proposal_state", tx_type
    again = council(chain, end + 4, 4, "resolve", pid, winner="proposer")
    assert again.code == "challenge_refused"
    assert_books(chain)


def test_veto_settles_an_open_challenge_for_the_challenger(chain):
    [pid] = propose_many(chain, P, 1)
    end = pass_all(chain, [pid])
    eta = queue_all(chain, end, [pid])
    send(chain, end + 1, 2, "dao_challenge", pid)
    council(chain, end + 2, 3, "veto", pid)
    council(chain, end + 3, 4, "veto", pid)
    assert chain.state_of(pid, end + 3) == "vetoed" and end + 3 < eta
    assert chain.balance(2) == 200_000 * UNIT  # its own bond back
    assert treasury(chain) == TREASURY + BOND and chain.balance(0) == 400_000 * UNIT - BOND
    assert bonds(chain) == 0 and chain.proposal(pid)["challenge"]["winner"] == "challenger"
    assert_books(chain)


# --- bonds of proposals that did not pass --------------------------------------------------------------


def test_reclaim_bond_only_when_defeated_or_expired(chain):
    failed_quorum, expiring = propose_many(chain, P, 2)
    p = chain.proposal(failed_quorum)
    start, end, grace = p["vote_start"], p["vote_end"], p["grace_period"]
    for t, pid in ((P + 1, failed_quorum), (start, failed_quorum)):
        assert send(chain, t, 0, "dao_reclaim_bond", pid).code == "wrong_proposal_state"  # pending, active
    chain.block(
        start,
        chain.tx(5, "dao_vote", {"proposal": failed_quorum, "support": "for"}),  # 20k AIT < 44k quorum
        chain.tx(1, "dao_vote", {"proposal": expiring, "support": "for"}),
    )
    chain.block(end)
    assert chain.state_of(failed_quorum, end) == "defeated"
    assert chain.proposal(failed_quorum)["for"] == 20_000 * UNIT < chain.proposal(failed_quorum)["quorum"]
    assert send(chain, end, 0, "dao_reclaim_bond", expiring).code == "wrong_proposal_state"  # succeeded
    assert send(chain, end, 3, "dao_reclaim_bond", failed_quorum).status == "included"
    assert chain.balance(0) == 400_000 * UNIT - BOND and chain.balance(3) == 50_000 * UNIT
    assert send(chain, end + grace, 0, "dao_reclaim_bond", expiring).status == "included"
    assert chain.balance(0) == 400_000 * UNIT and bonds(chain) == 0
    assert_books(chain)


# --- challenges and pauses cannot be used to dodge the council ------------------------------------------


@pytest.mark.parametrize("escape", ["cancel", "reclaim"])
def test_a_winning_challenger_gets_both_bonds_even_if_the_proposer_withdrew(chain, escape):
    [pid] = propose_many(chain, P, 1)
    if escape == "cancel":
        assert send(chain, P + 1, 2, "dao_challenge", pid).status == "included"
        assert send(chain, P + 2, 0, "dao_cancel", pid).status == "failed"  # the bond is at stake
        t = P + 3
    else:
        end = pass_all(chain, [pid])
        assert send(chain, end + 1, 2, "dao_challenge", pid).status == "included"
        t = end + chain.proposal(pid)["grace_period"]
        assert send(chain, t, 0, "dao_reclaim_bond", pid).status == "failed"  # the bond is at stake
    council(chain, t + 1, 3, "resolve", pid, winner="challenger")
    council(chain, t + 2, 4, "resolve", pid, winner="challenger")
    assert_books(chain)
    assert chain.balance(2) == 200_000 * UNIT + BOND
    assert chain.balance(0) == 400_000 * UNIT - BOND


def test_a_pause_does_not_eat_the_councils_veto_window(chain):
    [pid] = propose_many(chain, P, 1)
    end = pass_all(chain, [pid])
    eta = queue_all(chain, end, [pid])
    council_pause = {"action": "pause"}
    chain.send(end + 1, 3, "dao_council", council_pause)
    chain.send(end + 2, 4, "dao_council", council_pause)
    # the timelock runs on in the pause, so the council's veto must still work in it
    assert [council(chain, end + 3, m, "veto", pid).status for m in (3, 4)] == ["included", "included"]
    chain.send(eta + 1, 3, "dao_council", {"action": "resume"})
    chain.send(eta + 2, 4, "dao_council", {"action": "resume"})
    assert chain.state_of(pid, eta + 3) == "vetoed"
    assert send(chain, eta + 3, 2, "dao_execute", pid).status == "failed"


def test_setting_changes_leave_proposals_already_made_as_they_were(chain):
    [change] = propose_all(chain, P, [("parameter-change", {"param": "dao.quorum_bps", "value": 10_000})])
    end = pass_all(chain, [change])
    eta = queue_all(chain, end, [change])
    [made_before] = propose_many(chain, eta - DAY, 1)  # voting runs across the change
    old = chain.proposal(made_before)
    assert send(chain, eta, 2, "dao_execute", change).status == "included"
    assert settings(chain.node.state)["quorum_bps"] == 10_000
    chain.block(old["vote_start"], chain.tx(1, "dao_vote", {"proposal": made_before, "support": "for"}))
    chain.block(old["vote_end"])
    assert chain.proposal(made_before)["quorum"] == old["quorum"] == -(-old["supply"] * 400 // 10_000)
    assert chain.state_of(made_before, old["vote_end"]) == "succeeded"
    [made_after] = propose_many(chain, old["vote_end"], 1)
    assert chain.proposal(made_after)["quorum"] == chain.proposal(made_after)["supply"]  # 100%
    assert_books(chain)


def test_a_council_member_rules_on_a_challenge_for_one_side_only(chain):
    [pid] = propose_many(chain, P, 1)
    assert send(chain, P + 1, 2, "dao_challenge", pid).status == "included"
    assert council(chain, P + 2, 3, "resolve", pid, winner="proposer").status == "included"
    assert council(chain, P + 3, 3, "resolve", pid, winner="challenger").status == "failed"
    assert chain.proposal(pid)["challenge"]["challenger_votes"] == []
    assert_books(chain)
