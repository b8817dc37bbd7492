"""Agent chain rules through a real node: registration, controllers, emergency stop, trading limits,
reputation from the record, and the reputation bonus in DAO vote weights."""

from __future__ import annotations

import pytest

from aitbc_daemon.agents.records import bonus_series
from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.chain.txtypes import validate_tx_payload
from aitbc_daemon.dao.checkpoints import power_before
from aitbc_daemon.dao.proposals import vote_weight
from tests.dao.helpers import ADDRESSES, DAY, T0, UNIT, dao_genesis

from .helpers import AGENT_KEYS, AGENTS, AgentChain


@pytest.fixture
def chain(tmp_path):
    return AgentChain(tmp_path / "agents.sqlite")


def test_register_records_the_agent_with_its_owner_as_controller(chain):
    assert chain.register(T0 + 1, 0, "provider", owner=1).status == "included"
    record = chain.record(0)
    assert record["role"] == "provider" and record["owner"] == ADDRESSES[1]
    assert record["controllers"] == [ADDRESSES[1]] and record["stopped"] is False
    again = chain.register(T0 + 2, 0, "builder", owner=2)
    assert again.status == "failed" and again.code == "agent_exists"
    assert chain.record(0)["role"] == "provider"
    payload = {"name": "me", "role": "builder", "strategy": "role-preferences", "owner": AGENTS[1]}
    own = chain.agent_send(T0 + 3, 1, "agent_register", payload)
    assert own.code == "not_controller" and "own itself" in own.reason


def test_register_payload_is_checked():
    def signed(payload):
        return sign_transaction(
            AGENT_KEYS[0], chain_id="dao-test", type="agent_register", nonce=0, fee=0, payload=payload
        )

    good = {"name": "a", "role": "provider", "strategy": "role-preferences", "owner": ADDRESSES[0]}
    validate_tx_payload(signed(good))
    for bad in (
        {**good, "role": "banker"},  # (trader is a role now: the live trading bots')
        {**good, "owner": "ait1nope"},
        {**good, "name": ""},
        {**good, "extra": 1},
    ):
        with pytest.raises(InvalidPayload):
            validate_tx_payload(signed(bad))


def test_only_the_owner_authorizes_and_revokes(chain):
    chain.register(T0 + 1, 0, "coordinator", owner=1)
    agent = AGENTS[0]
    stranger = chain.send(T0 + 2, 2, "agent_authorize", {"agent": agent, "address": ADDRESSES[2]})
    assert stranger.code == "not_controller"
    assert (
        chain.send(T0 + 3, 1, "agent_authorize", {"agent": agent, "address": ADDRESSES[2]}).status
        == "included"
    )
    assert chain.record(0)["controllers"] == [ADDRESSES[1], ADDRESSES[2]]
    twice = chain.send(T0 + 4, 1, "agent_authorize", {"agent": agent, "address": ADDRESSES[2]})
    assert twice.code == "wrong_agent_state"
    itself = chain.send(T0 + 5, 1, "agent_authorize", {"agent": agent, "address": agent})
    assert itself.code == "not_controller"
    # a controller may stop and start, but not change who controls
    by_controller = chain.send(T0 + 6, 2, "agent_authorize", {"agent": agent, "address": ADDRESSES[3]})
    assert by_controller.code == "not_controller"
    by_agent = chain.agent_send(T0 + 7, 0, "agent_authorize", {"agent": agent, "address": AGENTS[1]})
    assert by_agent.code == "not_controller"
    owner_out = chain.send(T0 + 8, 1, "agent_revoke", {"agent": agent, "address": ADDRESSES[1]})
    assert owner_out.code == "wrong_agent_state"
    not_owner = chain.send(T0 + 9, 2, "agent_revoke", {"agent": agent, "address": ADDRESSES[2]})
    assert not_owner.code == "not_controller"
    assert (
        chain.send(T0 + 10, 1, "agent_revoke", {"agent": agent, "address": ADDRESSES[2]}).status == "included"
    )
    assert chain.record(0)["controllers"] == [ADDRESSES[1]]
    unknown = chain.send(T0 + 11, 1, "agent_revoke", {"agent": AGENTS[2], "address": ADDRESSES[2]})
    assert unknown.code == "agent_not_found"


def test_stop_fails_every_agent_tx_and_only_controllers_start_it(chain):
    chain.register(T0 + 1, 0, "provider", owner=1)
    agent = AGENTS[0]
    chain.send(T0 + 2, 1, "transfer", {"to": agent, "amount": 100 * UNIT})
    chain.send(T0 + 3, 1, "agent_authorize", {"agent": agent, "address": ADDRESSES[2]})
    assert chain.send(T0 + 4, 2, "agent_stop", {"agent": agent}).status == "included"  # a controller stops it
    assert chain.record(0)["stopped"] is True
    before = chain.node.state.balance(agent)
    spent = chain.agent_send(T0 + 5, 0, "transfer", {"to": ADDRESSES[5], "amount": UNIT})
    assert spent.status == "failed" and spent.code == "agent_stopped"
    assert chain.node.state.balance(agent) == before
    # a leaked hot key can neither restart the agent nor add itself as a controller
    restart = chain.agent_send(T0 + 6, 0, "agent_start", {"agent": agent})
    assert restart.code == "agent_stopped"
    sneak = chain.agent_send(T0 + 7, 0, "agent_authorize", {"agent": agent, "address": AGENTS[1]})
    assert sneak.code == "agent_stopped"
    assert chain.send(T0 + 8, 3, "agent_start", {"agent": agent}).code == "not_controller"
    chain.send(T0 + 9, 1, "agent_revoke", {"agent": agent, "address": ADDRESSES[2]})
    assert chain.send(T0 + 10, 2, "agent_start", {"agent": agent}).code == "not_controller"  # revoked
    assert chain.send(T0 + 11, 1, "agent_stop", {"agent": agent}).code == "wrong_agent_state"
    assert chain.send(T0 + 12, 1, "agent_start", {"agent": agent}).status == "included"
    assert chain.record(0)["stopped"] is False
    assert chain.agent_send(T0 + 13, 0, "transfer", {"to": ADDRESSES[5], "amount": UNIT}).status == "included"
    assert chain.node.state.balance(agent) == before - UNIT
    # while running, the agent's own key still cannot start or stop-start itself
    assert chain.agent_send(T0 + 14, 0, "agent_stop", {"agent": agent}).code == "not_controller"


def _set_trading_limits(chain, max_order, max_daily_volume, at):
    """Pass and execute an agent-trading proposal (accounts 0 and 1 vote for it)."""
    action = {"max_order": max_order, "max_daily_volume": max_daily_volume}
    assert chain.propose(at, "agent-trading", action).status == "included"
    p = chain.proposal()
    for account in (0, 1):
        assert chain.send(
            p["vote_start"], account, "dao_vote", {"proposal": p["id"], "support": "for"}
        ).status == ("included")
    chain.block(p["vote_end"])
    assert chain.send(p["vote_end"], 2, "dao_queue", {"proposal": p["id"]}).status == "included"
    eta = chain.proposal()["eta"]
    assert chain.send(eta, 2, "dao_execute", {"proposal": p["id"]}).status == "included"
    return eta


def test_trading_limits_per_order_per_day_and_next_day(chain):
    chain.register(T0 + 1, 0, "consumer", owner=1)
    agent = AGENTS[0]
    chain.send(T0 + 2, 1, "transfer", {"to": agent, "amount": 1_000 * UNIT})
    # no limits yet: anything goes
    assert (
        chain.agent_send(T0 + 3, 0, "transfer", {"to": ADDRESSES[5], "amount": 200 * UNIT}).status
        == "included"
    )
    eta = _set_trading_limits(chain, 100 * UNIT, 150 * UNIT, T0 + 10)
    day_start = (eta // DAY + 1) * DAY  # a fresh UTC day
    big = chain.agent_send(day_start, 0, "transfer", {"to": ADDRESSES[5], "amount": 101 * UNIT})
    assert big.status == "failed" and big.code == "agent_trading_limit" and "max_order" in big.reason
    assert chain.agent_send(
        day_start + 1, 0, "transfer", {"to": ADDRESSES[5], "amount": 100 * UNIT}
    ).status == ("included")
    over = chain.agent_send(day_start + 2, 0, "transfer", {"to": ADDRESSES[5], "amount": 51 * UNIT})
    assert over.code == "agent_trading_limit" and "max_daily_volume" in over.reason
    assert chain.agent_send(
        day_start + 3, 0, "transfer", {"to": ADDRESSES[5], "amount": 50 * UNIT}
    ).status == ("included")
    assert chain.agent_send(day_start + DAY - 1, 0, "transfer", {"to": ADDRESSES[5], "amount": 1}).code == (
        "agent_trading_limit"
    )
    # the next UTC day starts from zero
    assert chain.agent_send(
        day_start + DAY, 0, "transfer", {"to": ADDRESSES[5], "amount": 100 * UNIT}
    ).status == ("included")
    # people are not agents: no limit for them
    assert chain.send(
        day_start + DAY + 1, 1, "transfer", {"to": ADDRESSES[5], "amount": 500 * UNIT}
    ).status == ("included")


def test_reputation_counts_released_and_refunded_escrows(chain):
    chain.register(T0 + 1, 0, "provider", owner=1)
    chain.register(T0 + 1, 1, "consumer", owner=1)
    chain.register(T0 + 1, 2, "coordinator", owner=1)
    provider, consumer, coordinator = AGENTS
    chain.send(T0 + 2, 1, "transfer", {"to": consumer, "amount": 100 * UNIT})
    lock = {"amount": 10 * UNIT, "arbiter": coordinator}
    chain.block(
        T0 + 3,
        chain.agent_tx(1, "escrow_lock", {"escrow_id": "job-1", **lock}),
        chain.agent_tx(1, "escrow_lock", {"escrow_id": "job-2", **lock}),
        chain.tx(5, "escrow_lock", {"escrow_id": "job-3", **lock}),
    )
    assert (
        chain.counters(0)
        == chain.counters(1)
        == chain.counters(2)
        == {
            "jobs_completed": 0,
            "jobs_paid": 0,
            "proposals_executed": 0,
            "escrows_settled": 0,
            "votes_cast": 0,
        }
    )
    statuses = chain.block(
        T0 + 4,
        chain.agent_tx(2, "escrow_release", {"escrow_id": "job-1", "to": provider}),
        chain.agent_tx(2, "escrow_release", {"escrow_id": "job-3", "to": provider}),
        chain.agent_tx(2, "escrow_refund", {"escrow_id": "job-2"}),
    )
    assert [s.status for s in statuses] == ["included"] * 3
    assert chain.counters(0)["jobs_completed"] == 2
    assert chain.counters(1)["jobs_paid"] == 1  # job-2 was refunded: not paid
    assert chain.counters(2)["escrows_settled"] == 3
    # a failed second release counts nothing
    again = chain.agent_send(T0 + 5, 2, "escrow_release", {"escrow_id": "job-1", "to": provider})
    assert again.status == "failed" and chain.counters(0)["jobs_completed"] == 2
    view = chain.node.state
    assert power_before(view, bonus_series(provider), T0 + 5) == 20 * UNIT  # 2 points x 10 AIT
    assert power_before(view, bonus_series(consumer), T0 + 5) == 10 * UNIT
    assert power_before(view, bonus_series(coordinator), T0 + 5) == 30 * UNIT


def test_builder_reputation_from_an_executed_proposal(chain):
    chain.register(T0 + 1, 0, "builder", owner=1)
    builder = AGENTS[0]
    chain.send(T0 + 2, 1, "transfer", {"to": builder, "amount": 5_000 * UNIT})
    action = {"to": ADDRESSES[5], "amount": UNIT}
    proposed = chain.agent_send(
        T0 + 10, 0, "dao_propose", {"type": "treasury", "title": "pay", "action": action}
    )
    assert proposed.status == "included"
    p = chain.proposal()
    for account in (0, 1):
        chain.send(p["vote_start"], account, "dao_vote", {"proposal": 1, "support": "for"})
    assert chain.counters(0)["proposals_executed"] == 0
    chain.block(p["vote_end"])
    chain.send(p["vote_end"], 2, "dao_queue", {"proposal": 1})
    eta = chain.proposal()["eta"]
    assert chain.send(eta, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert chain.counters(0)["proposals_executed"] == 1
    assert power_before(chain.node.state, bonus_series(builder), eta + 1) == 10 * UNIT


def test_votes_cast_count_for_coordinators(chain):
    chain.register(T0 + 1, 0, "coordinator", owner=1)
    chain.send(T0 + 2, 1, "transfer", {"to": AGENTS[0], "amount": 100 * UNIT})
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    start = chain.proposal()["vote_start"]
    assert chain.agent_send(start, 0, "dao_vote", {"proposal": 1, "support": "for"}).status == "included"
    assert chain.counters(0)["votes_cast"] == 1
    assert chain.send(start, 2, "dao_vote", {"proposal": 1, "support": "for"}).status == "included"
    assert chain.counters(0)["votes_cast"] == 1  # someone else's vote is not the agent's record


def _release_job(chain, escrow_id, payee, timestamp):
    """Account 5 pays a 1 AIT job to `payee`, account 4 arbitrates: one block to lock, one to release."""
    chain.send(timestamp, 5, "escrow_lock", {"escrow_id": escrow_id, "amount": UNIT, "arbiter": ADDRESSES[4]})
    chain.send(timestamp + 1, 4, "escrow_release", {"escrow_id": escrow_id, "to": payee})


def test_bonus_is_snapshotted_and_added_to_the_vote_weight(chain):
    chain.register(T0 + 1, 0, "provider", owner=1)
    agent = AGENTS[0]
    chain.send(T0 + 2, 1, "transfer", {"to": agent, "amount": 100 * UNIT})
    _release_job(chain, "job-1", agent, T0 + 3)  # 1 point before the proposal
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    start = chain.proposal()["vote_start"]
    _release_job(chain, "job-2", agent, start - 100)  # 2nd point before the snapshot
    _release_job(
        chain, "job-3", agent, start
    )  # 3rd point in the block at the voting start: after the snapshot
    assert chain.counters(0)["jobs_completed"] == 3
    why = vote_weight(chain.node.state, chain.proposal(), agent)
    assert why["snapshot_power"] == 102 * UNIT  # 100 AIT + the two jobs paid before the snapshot
    assert why["bonus"] == 20 * UNIT  # 2 points x 10 AIT: the 3rd job came after the snapshot
    assert why["weight"] == min(why["snapshot_power"], why["twas"]) + 20 * UNIT
    assert (
        chain.agent_send(start + 1, 0, "dao_vote", {"proposal": 1, "support": "against"}).status == "included"
    )
    assert chain.proposal()["against"] == why["weight"]
    # a person's weight is as before: no bonus
    person = vote_weight(chain.node.state, chain.proposal(), ADDRESSES[4])
    assert person["bonus"] == 0 and person["weight"] == min(
        person["snapshot_power"], person["twas"], person["cap"]
    )


def test_bonus_has_a_maximum_and_stays_inside_the_cap(tmp_path):
    chain = AgentChain(tmp_path / "cap.sqlite", dao_genesis(agent_bonus_per_point=600 * UNIT))
    chain.register(T0 + 1, 0, "provider", owner=1)
    agent = AGENTS[0]
    supply = chain.genesis.total_supply
    cap = supply * 500 // 10_000
    chain.send(T0 + 2, 1, "transfer", {"to": agent, "amount": cap - 100 * UNIT})
    _release_job(chain, "job-1", agent, T0 + 3)
    _release_job(chain, "job-2", agent, T0 + 5)
    assert (
        power_before(chain.node.state, bonus_series(agent), T0 + 7) == 1_000 * UNIT
    )  # 2 x 600 capped at 1,000
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    p = chain.proposal()
    why = vote_weight(chain.node.state, p, agent)
    assert why["cap"] == cap and why["bonus"] == 1_000 * UNIT
    assert why["weight"] == cap  # (cap - 100 AIT + 2 AIT of jobs) + 1,000 AIT, capped at 5% of the supply
    chain.agent_send(p["vote_start"], 0, "dao_vote", {"proposal": 1, "support": "for"})
    assert chain.proposal()["for"] == cap
