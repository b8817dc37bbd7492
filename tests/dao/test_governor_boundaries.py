"""Governor behaviour at its exact boundaries, after OpenZeppelin's Governor tests (behaviour, not Solidity).

Every expected number is derived from the formulas in the dao docstrings, never read back
from the code under test:

- timeline (proposals.py): start = created + voting_delay, end = start + voting_period;
  pending < start <= active < end; succeeded until end + grace unless queued; queued:
  eta = queued_at + timelock, executable while eta <= now < eta + grace, then expired.
- quorum = ceil(supply * quorum_bps / 10000); cap = floor(supply * power_cap_bps / 10000);
  passed = for + abstain >= quorum and for > against.
- weight = min(power at the end of the last block before start, TWAS over
  [start - window, start], cap); TWAS = (I(start) - I(start - window)) // window with
  I the integral of the power checkpoints (checkpoints.py).

The default chain (helpers.dao_genesis): balances 400k, 300k, 200k, 50k, 30k, 20k AIT for
accounts 0..5, a 100k AIT treasury and a 5,000-unit staking budget: SUPPLY = 1,100,000,005,000.
"""

from __future__ import annotations

import pytest

from aitbc_daemon.dao.checkpoints import checkpoint_count, power_at_height, power_before, twas
from aitbc_daemon.dao.params import vote_key
from aitbc_daemon.dao.proposals import proposal_state

from .governor_scenarios import (
    SUPPLY,
    assert_books,
    next_id,
    propose_many,
    treasury,
    vote_tx,
    votes,
)
from .helpers import ADDRESSES, BOND, DAY, T0, UNIT, DaoChain, dao_genesis

P = T0 + 100  # when the proposals of these tests are made (the TWAS window then starts after genesis)
HOUR = 3600
DEFAULT_CAP = SUPPLY * 500 // 10_000  # 5% of the supply
assert DEFAULT_CAP == 55_000_000_250


@pytest.fixture
def chain(tmp_path):
    return DaoChain(tmp_path / "dao.sqlite")


def chain_with(tmp_path, name="custom", **settings):
    return DaoChain(tmp_path / f"{name}.sqlite", dao_genesis(**settings))


def vote(chain, t, account, pid, support="for"):
    return chain.send(t, account, "dao_vote", {"proposal": pid, "support": support})


# --- the timeline, boundary by boundary --------------------------------------------------------------


def test_vote_start_boundary_minus_one_at_and_plus_one(chain):
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    assert start == P + DAY
    assert [chain.state_of(pid, t) for t in (start - 1, start, start + 1)] == ["pending", "active", "active"]
    early = vote(chain, start - 1, 1, pid)
    assert early.status == "failed" and early.code == "wrong_proposal_state"
    assert chain.proposal(pid)["voters"] == 0
    assert vote(chain, start, 4, pid, "for").status == "included"
    assert vote(chain, start + 1, 5, pid, "against").status == "included"
    assert vote(chain, start + 1, 1, pid, "abstain").status == "included"  # refused once, allowed now
    p = chain.proposal(pid)
    assert (p["for"], p["against"], p["abstain"], p["voters"]) == (
        30_000 * UNIT,
        20_000 * UNIT,
        DEFAULT_CAP,
        3,
    )
    assert_books(chain)


def test_vote_end_boundary_minus_one_and_at(chain):
    [pid] = propose_many(chain, P, 1)
    end = chain.proposal(pid)["vote_end"]
    assert end == P + DAY + 7 * DAY
    assert chain.state_of(pid, end - 1) == "active" and chain.state_of(pid, end) == "defeated"
    assert vote(chain, end - 1, 4, pid, "for").status == "included"
    late = vote(chain, end, 5, pid, "against")
    assert late.status == "failed" and late.code == "wrong_proposal_state"
    later = vote(chain, end + 5 * DAY, 3, pid, "for")
    assert later.code == "wrong_proposal_state"
    p = chain.proposal(pid)
    assert (p["for"], p["against"], p["voters"]) == (30_000 * UNIT, 0, 1)


def test_defeated_from_the_end_and_forever_bond_reclaimable_once(chain):
    [pid] = propose_many(chain, P, 1)
    p = chain.proposal(pid)
    start, end = p["vote_start"], p["vote_end"]
    vote(chain, start, 1, pid, "against")
    assert chain.state_of(pid, end - 1) == "active"
    early = chain.send(end - 1, 0, "dao_reclaim_bond", {"proposal": pid})
    assert early.code == "wrong_proposal_state"
    assert chain.state_of(pid, end) == "defeated"
    assert chain.state_of(pid, end + 10 * 365 * DAY) == "defeated"  # a defeated proposal never expires
    assert chain.send(end, 2, "dao_queue", {"proposal": pid}).code == "wrong_proposal_state"
    assert chain.send(end, 2, "dao_execute", {"proposal": pid}).code == "wrong_proposal_state"
    before = chain.balance(0)
    assert chain.send(end, 2, "dao_reclaim_bond", {"proposal": pid}).status == "included"
    assert chain.balance(0) == before + BOND == 400_000 * UNIT  # to the proposer, whoever reclaims
    again = chain.send(end + 1, 0, "dao_reclaim_bond", {"proposal": pid})
    assert again.code == "wrong_proposal_state" and chain.balance(0) == 400_000 * UNIT
    assert_books(chain)


def test_succeeded_until_grace_end_minus_one_then_expired(chain):
    first, second = propose_many(chain, P, 2)
    p = chain.proposal(first)
    votes(chain, p["vote_start"], [(a, pid, "for") for pid in (first, second) for a in (0, 1)])
    end, grace = p["vote_end"], p["grace_period"]
    assert grace == 14 * DAY
    assert chain.state_of(first, end - 1) == "active" and chain.state_of(first, end) == "succeeded"
    assert chain.send(end - 1, 2, "dao_queue", {"proposal": first}).code == "wrong_proposal_state"
    assert chain.state_of(first, end + grace - 1) == "succeeded"
    assert chain.state_of(first, end + grace) == "expired"
    assert chain.send(end + grace - 1, 2, "dao_queue", {"proposal": first}).status == "included"
    assert chain.proposal(first)["eta"] == end + grace - 1 + 2 * DAY
    assert chain.state_of(first, end + grace) == "queued"
    late = chain.send(end + grace, 2, "dao_queue", {"proposal": second})
    assert late.code == "wrong_proposal_state" and chain.proposal(second)["eta"] is None
    assert chain.send(end + grace, 2, "dao_reclaim_bond", {"proposal": first}).code == "wrong_proposal_state"
    before = chain.balance(0)
    assert chain.send(end + grace, 2, "dao_reclaim_bond", {"proposal": second}).status == "included"
    assert chain.balance(0) == before + BOND
    assert_books(chain)


def test_queued_timelock_end_and_grace_end_boundaries(chain):
    a, b, c = propose_many(chain, P, 3)
    p = chain.proposal(a)
    votes(chain, p["vote_start"], [(1, pid, "for") for pid in (a, b, c)])
    end = p["vote_end"]
    statuses = chain.block(end, *(chain.tx(2, "dao_queue", {"proposal": pid}) for pid in (a, b, c)))
    assert [s.status for s in statuses] == ["included"] * 3
    eta, grace = end + 2 * DAY, 14 * DAY
    assert chain.proposal(a)["eta"] == eta
    assert [chain.state_of(a, t) for t in (eta - 1, eta, eta + grace - 1, eta + grace)] == [
        "queued",
        "queued",
        "queued",
        "expired",
    ]
    treasury_before, five = treasury(chain), chain.balance(5)
    too_soon = chain.send(eta - 1, 2, "dao_execute", {"proposal": a})
    assert too_soon.status == "failed" and too_soon.code == "wrong_proposal_state"
    assert chain.state_of(a, eta - 1) == "queued" and chain.balance(5) == five
    assert chain.send(eta, 2, "dao_execute", {"proposal": a}).status == "included"
    assert chain.send(eta + grace - 1, 2, "dao_execute", {"proposal": b}).status == "included"
    expired = chain.send(eta + grace, 2, "dao_execute", {"proposal": c})
    assert expired.code == "wrong_proposal_state" and chain.state_of(c, eta + grace) == "expired"
    assert chain.balance(5) == five + 2 * UNIT  # a and b paid 1 AIT each, c nothing
    assert chain.state_of(a, eta + 100 * DAY) == "executed"  # final: never expires
    assert chain.send(eta + grace, 2, "dao_reclaim_bond", {"proposal": c}).status == "included"
    assert chain.balance(0) == 400_000 * UNIT  # three bonds back: two on execution, one reclaimed
    assert treasury(chain) == treasury_before - 2 * UNIT
    assert_books(chain)


def test_state_function_table_for_every_state(chain):
    """The pure state function over one real record at every boundary, each outcome variant."""
    [pid] = propose_many(chain, P, 1)
    p = chain.proposal(pid)
    start, end, grace = p["vote_start"], p["vote_end"], p["grace_period"]
    q = p["quorum"]
    passing = dict(p, **{"for": q, "against": q - 1, "abstain": 0})
    failing = dict(p, **{"for": q - 1, "against": 0, "abstain": 0})
    assert proposal_state(passing, start - 1) == "pending"
    assert proposal_state(passing, start) == "active"
    assert proposal_state(passing, end - 1) == "active"
    assert proposal_state(passing, end) == "succeeded"
    assert proposal_state(failing, end) == "defeated"
    assert proposal_state(passing, end + grace - 1) == "succeeded"
    assert proposal_state(passing, end + grace) == "expired"
    queued = dict(passing, eta=end + 5)
    assert proposal_state(queued, end + 5 - 1) == "queued"
    assert proposal_state(queued, end + 5 + grace - 1) == "queued"
    assert proposal_state(queued, end + 5 + grace) == "expired"
    for outcome in ("executed", "cancelled", "vetoed", "rejected"):
        assert proposal_state(dict(queued, outcome=outcome), start - 1) == outcome
        assert proposal_state(dict(queued, outcome=outcome), end + 10 * grace) == outcome


# --- proposal threshold ----------------------------------------------------------------------------


def test_proposal_threshold_exactly_met_and_one_unit_short(tmp_path):
    chain = chain_with(tmp_path, proposal_bond=10 * UNIT)
    threshold = 1_000 * UNIT
    chain.block(
        T0 + 1,
        chain.tx(5, "transfer", {"to": ADDRESSES[0], "amount": 20_000 * UNIT - threshold}),
        chain.tx(4, "transfer", {"to": ADDRESSES[0], "amount": 30_000 * UNIT - (threshold - 1)}),
    )
    assert chain.balance(5) == threshold and chain.balance(4) == threshold - 1
    short = chain.propose(T0 + 2, "treasury", {"to": ADDRESSES[1], "amount": UNIT}, account=4)
    assert short.status == "failed" and short.code == "not_enough_power"
    assert chain.balance(4) == threshold - 1 and next_id(chain) == 1  # no bond taken, no proposal
    action = {"to": ADDRESSES[1], "amount": UNIT}
    assert chain.propose(T0 + 3, "treasury", action, account=5).status == "included"
    assert chain.balance(5) == threshold - 10 * UNIT and chain.proposal(1)["proposer"] == ADDRESSES[5]
    # delegated power counts for the delegate, and no longer for the delegator
    chain.send(T0 + 4, 5, "dao_delegate", {"to": ADDRESSES[4]})
    gone = chain.propose(T0 + 5, "treasury", {"to": ADDRESSES[1], "amount": UNIT}, account=5)
    assert gone.code == "not_enough_power"
    assert chain.propose(T0 + 6, "treasury", action, account=4).status == "included"
    assert next_id(chain) == 3
    assert_books(chain)


# --- quorum, abstain, against, ties ------------------------------------------------------------------


def test_quorum_exactly_met_one_short_abstain_counts_against_does_not_ties_fail(tmp_path):
    chain = chain_with(tmp_path, quorum_bps=3)
    # quorum = ceil(1,100,000,005,000 * 3 / 10,000) = ceil(330,000,001.5)
    q = 330_000_002
    chain.block(
        T0 + 1,
        chain.tx(3, "transfer", {"to": ADDRESSES[2], "amount": 50_000 * UNIT - (q - 1)}),
        chain.tx(4, "transfer", {"to": ADDRESSES[2], "amount": 30_000 * UNIT - 1}),
        chain.tx(5, "transfer", {"to": ADDRESSES[2], "amount": 20_000 * UNIT - q}),
    )
    assert (chain.balance(3), chain.balance(4), chain.balance(5)) == (q - 1, 1, q)
    ids = propose_many(chain, P, 6)
    p = chain.proposal(ids[0])
    assert p["supply"] == SUPPLY and p["quorum"] == q
    exact, short, abstain, against, tie, no_tie = ids
    ballots = [
        (5, exact, "for"),
        (3, short, "for"),
        (3, abstain, "abstain"),
        (4, abstain, "for"),
        (3, against, "for"),
        (4, against, "against"),
        (5, tie, "for"),
        (3, tie, "against"),
        (4, tie, "against"),
        (5, no_tie, "for"),
        (3, no_tie, "against"),
    ]
    statuses = votes(chain, p["vote_start"], ballots)
    assert [s.status for s in statuses] == ["included"] * len(ballots)
    end = p["vote_end"]
    chain.block(end)
    tallies = {pid: tuple(chain.proposal(pid)[k] for k in ("for", "against", "abstain")) for pid in ids}
    assert tallies == {
        exact: (q, 0, 0),
        short: (q - 1, 0, 0),
        abstain: (1, 0, q - 1),
        against: (q - 1, 1, 0),
        tie: (q, q, 0),
        no_tie: (q, q - 1, 0),
    }
    states = {pid: chain.state_of(pid, end) for pid in ids}
    assert states == {
        exact: "succeeded",
        short: "defeated",
        abstain: "succeeded",
        against: "defeated",  # q units took part, but against is not quorum
        tie: "defeated",
        no_tie: "succeeded",
    }
    assert chain.send(end, 2, "dao_queue", {"proposal": tie}).code == "wrong_proposal_state"
    for pid in (short, against, tie):  # failed-quorum and tied proposals give their bond back
        assert chain.send(end, 1, "dao_reclaim_bond", {"proposal": pid}).status == "included"
    assert chain.balance(0) == 400_000 * UNIT - 3 * BOND  # three of six bonds back, three still held
    assert_books(chain)


def test_cap_is_floored_quorum_ceiled_so_one_capped_voter_misses_quorum_by_one(tmp_path):
    chain = chain_with(tmp_path, quorum_bps=3, power_cap_bps=3)
    # same product 330,000,001.5: the cap rounds down, the quorum up
    cap, q = 330_000_001, 330_000_002
    alone, pair = propose_many(chain, P, 2)
    p = chain.proposal(alone)
    assert (p["cap"], p["quorum"]) == (cap, q)
    votes(chain, p["vote_start"], [(1, alone, "for"), (1, pair, "for"), (2, pair, "for")])
    chain.block(p["vote_end"])
    assert chain.proposal(alone)["for"] == cap and chain.state_of(alone, p["vote_end"]) == "defeated"
    assert chain.proposal(pair)["for"] == 2 * cap and chain.state_of(pair, p["vote_end"]) == "succeeded"


# --- double votes and votes outside the window ---------------------------------------------------------


def test_double_votes_refused_in_one_block_and_later(chain):
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    first, second = chain.block(start, vote_tx(chain, 4, pid, "for"), vote_tx(chain, 4, pid, "against"))
    assert first.status == "included" and second.status == "failed" and second.code == "already_voted"
    third = vote(chain, start + DAY, 4, pid, "abstain")
    assert third.code == "already_voted"
    p = chain.proposal(pid)
    assert (p["for"], p["against"], p["abstain"], p["voters"]) == (30_000 * UNIT, 0, 0, 1)
    assert chain.node.state.kv_get("dao", vote_key(pid, ADDRESSES[4]))["support"] == "for"
    missing = vote(chain, start + DAY, 4, pid + 1, "for")
    assert missing.code == "proposal_not_found"


# --- power that arrives after the snapshot ---------------------------------------------------------------


def test_power_received_at_vote_start_or_later_does_not_count(chain):
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    chain.send(start, 1, "transfer", {"to": ADDRESSES[4], "amount": 10_000 * UNIT})  # block AT start
    assert power_at_height(chain.node.state, ADDRESSES[4], chain.node.height) == 40_000 * UNIT
    assert power_before(chain.node.state, ADDRESSES[4], start) == 30_000 * UNIT
    assert vote(chain, start + 1, 4, pid, "for").status == "included"
    chain.send(start + 2, 4, "transfer", {"to": ADDRESSES[5], "amount": 40_000 * UNIT})
    assert vote(chain, start + 3, 5, pid, "against").status == "included"
    # and the sender that gave its power away keeps its snapshot weight
    zero = vote(chain, start + 4, 4, pid, "for")
    assert zero.code == "already_voted"
    p = chain.proposal(pid)
    assert (p["for"], p["against"]) == (30_000 * UNIT, 20_000 * UNIT)
    assert_books(chain)


def test_same_block_borrow_vote_return_gives_no_extra_weight(tmp_path):
    chain = chain_with(tmp_path, power_cap_bps=10_000)  # no cap: only the snapshot limits
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    count = checkpoint_count(chain.node.state, ADDRESSES[2])
    statuses = chain.block(
        start + 10,
        chain.tx(1, "transfer", {"to": ADDRESSES[2], "amount": 100_000 * UNIT}),
        vote_tx(chain, 2, pid, "for"),
        chain.tx(2, "transfer", {"to": ADDRESSES[1], "amount": 100_000 * UNIT}),
        vote_tx(chain, 1, pid, "against"),
    )
    assert [s.status for s in statuses] == ["included"] * 4
    p = chain.proposal(pid)
    assert (p["for"], p["against"]) == (200_000 * UNIT, 300_000 * UNIT)
    # power at the end of the block is what it was: no checkpoint written for either
    assert checkpoint_count(chain.node.state, ADDRESSES[2]) == count
    assert power_at_height(chain.node.state, ADDRESSES[2], chain.node.height) == 200_000 * UNIT
    assert_books(chain)


def test_power_moved_in_the_snapshot_block_counts_only_by_its_time_average(tmp_path):
    chain = chain_with(tmp_path, power_cap_bps=10_000)
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    chain.send(start - 1, 1, "transfer", {"to": ADDRESSES[2], "amount": 100_000 * UNIT})  # the snapshot block
    statuses = chain.block(
        start,
        vote_tx(chain, 2, pid, "for"),
        chain.tx(2, "transfer", {"to": ADDRESSES[1], "amount": 100_000 * UNIT}),
    )
    assert [s.status for s in statuses] == ["included"] * 2
    view = chain.node.state
    assert power_before(view, ADDRESSES[2], start) == 300_000 * UNIT
    # I(start) - I(start - DAY) = 200k AIT * (DAY - 1) + 300k AIT * 1 = 200k AIT * DAY + 100k AIT
    # TWAS = 200,000,000,000 + 100,000,000,000 // 86,400 = 200,000,000,000 + 1,157,407
    assert chain.proposal(pid)["for"] == 200_001_157_407
    # the lender: snapshot 200k AIT, TWAS 300k AIT - ceil(100k AIT / DAY) -> the snapshot binds
    assert twas(view, ADDRESSES[1], start, DAY) == 300_000 * UNIT - 1_157_408
    assert vote(chain, start + 1, 1, pid, "against").status == "included"
    assert chain.proposal(pid)["against"] == 200_000 * UNIT
    assert_books(chain)


# --- TWAS and cap arithmetic ----------------------------------------------------------------------------


def test_twas_and_cap_exact_numbers(chain):
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    assert chain.proposal(pid)["cap"] == DEFAULT_CAP
    chain.send(start - 3 * HOUR, 1, "transfer", {"to": ADDRESSES[4], "amount": 25_000 * UNIT})
    statuses = votes(chain, start, [(4, pid, "for"), (1, pid, "against"), (5, pid, "abstain")])
    assert [s.status for s in statuses] == ["included"] * 3
    # account 4: 30k AIT for 21 h then 55k AIT for 3 h: (30k*21 + 55k*3) / 24 = 33,125 AIT (< cap)
    # account 1: 275k AIT at the snapshot, far above the 5% cap of 55,000,000,250 units
    # account 5: 20k AIT all day long
    p = chain.proposal(pid)
    assert (p["for"], p["against"], p["abstain"]) == (33_125 * UNIT, DEFAULT_CAP, 20_000 * UNIT)
    record = chain.node.state.kv_get("dao", vote_key(pid, ADDRESSES[4]))
    assert record["weight"] == 33_125 * UNIT


def test_twas_window_reaching_before_genesis_counts_zero_power_there(tmp_path):
    chain = chain_with(tmp_path, voting_delay=HOUR)
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    assert start == P + HOUR == T0 + 3_700
    assert vote(chain, start, 4, pid, "for").status == "included"
    # the window [start - DAY, start] holds 3,700 s of genesis power and nothing before T0:
    # 30,000,000,000 * 3,700 // 86,400 = 1,284,722,222
    assert chain.proposal(pid)["for"] == 1_284_722_222


# --- delegation -------------------------------------------------------------------------------------------


def test_delegation_and_redelegation_move_power_at_checkpoints(tmp_path):
    chain = chain_with(tmp_path, power_cap_bps=10_000)
    view = chain.node.state
    chain.send(T0 + 1, 4, "dao_delegate", {"to": ADDRESSES[5]})
    h1 = chain.node.height
    chain.send(T0 + 2, 4, "dao_delegate", {"to": ADDRESSES[3]})
    h2 = chain.node.height
    power = {a: [power_at_height(view, ADDRESSES[a], h) for h in (h1 - 1, h1, h2)] for a in (3, 4, 5)}
    assert power == {
        3: [50_000 * UNIT, 50_000 * UNIT, 80_000 * UNIT],
        4: [30_000 * UNIT, 0, 0],
        5: [20_000 * UNIT, 50_000 * UNIT, 20_000 * UNIT],
    }
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    chain.send(start - 6 * HOUR, 4, "dao_delegate", {"to": ADDRESSES[5]})  # inside the TWAS window
    chain.send(start, 4, "dao_delegate", {"to": ADDRESSES[4]})  # after the snapshot: too late
    assert power_at_height(view, ADDRESSES[4], chain.node.height) == 30_000 * UNIT
    assert power_at_height(view, ADDRESSES[5], chain.node.height) == 20_000 * UNIT
    statuses = votes(chain, start + 1, [(5, pid, "for"), (3, pid, "against"), (4, pid, "abstain")])
    assert [s.status for s in statuses] == ["included", "included", "failed"]
    assert statuses[2].code == "not_enough_power"  # 4 had delegated at the snapshot: no double count
    p = chain.proposal(pid)
    # 5: 20k for 18 h then 50k for 6 h -> 27,500 AIT; 3: snapshot 50k AIT < its TWAS 72,500 AIT
    assert (p["for"], p["against"], p["abstain"]) == (27_500 * UNIT, 50_000 * UNIT, 0)
    assert_books(chain)


def test_delegation_is_not_transitive(tmp_path):
    chain = chain_with(tmp_path, power_cap_bps=10_000)
    view = chain.node.state
    chain.send(T0 + 1, 5, "dao_delegate", {"to": ADDRESSES[4]})  # 5 -> 4
    chain.send(T0 + 2, 4, "dao_delegate", {"to": ADDRESSES[3]})  # 4 -> 3: only 4's own power moves
    h = chain.node.height
    assert [power_at_height(view, ADDRESSES[a], h) for a in (3, 4, 5)] == [
        80_000 * UNIT,
        20_000 * UNIT,
        0,
    ]
    chain.send(T0 + 3, 5, "transfer", {"to": ADDRESSES[0], "amount": 5_000 * UNIT})
    h = chain.node.height
    assert [power_at_height(view, ADDRESSES[a], h) for a in (3, 4, 5)] == [
        80_000 * UNIT,
        15_000 * UNIT,
        0,
    ]
    assert_books(chain)


def test_staked_principal_is_voting_power_and_staking_moves_none(chain):
    view = chain.node.state
    before = checkpoint_count(view, ADDRESSES[4])
    chain.send(T0 + 1, 4, "stake", {"pool": "flex", "amount": 25_000 * UNIT})
    assert chain.balance(4) == 5_000 * UNIT
    assert checkpoint_count(view, ADDRESSES[4]) == before  # balance -> stake: power unchanged
    [pid] = propose_many(chain, P, 1)
    start = chain.proposal(pid)["vote_start"]
    assert vote(chain, start, 4, pid, "for").status == "included"
    assert chain.proposal(pid)["for"] == 30_000 * UNIT
    assert_books(chain)
