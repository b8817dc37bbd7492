"""DAO rules through a real node: timeline boundaries, thresholds, weights, effects, council, bonds."""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.encoding import canonical_json, sha256_hex
from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.genesis import devnet_genesis, genesis_from_dict
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.chain.txtypes import validate_tx_payload
from aitbc_daemon.dao.checkpoints import power_at_height, power_before, twas
from aitbc_daemon.dao.params import TREASURY_KEY, int_value, paused_modules, settings
from aitbc_daemon.dao.txtypes import load_grant
from aitbc_daemon.staking.pools import load_pool

from .helpers import ADDRESSES, BOND, DAY, KEYS, T0, TREASURY, UNIT, DaoChain, dao_genesis


@pytest.fixture
def chain(tmp_path):
    return DaoChain(tmp_path / "dao.sqlite")


def passed_proposal(chain, kind, action, voters=(0, 1)):
    """Propose at T0+10, vote `for` with `voters`, end voting; returns the proposal."""
    assert chain.propose(T0 + 10, kind, action).status == "included"
    p = chain.proposal()
    for account in voters:
        assert (
            chain.send(p["vote_start"], account, "dao_vote", {"proposal": 1, "support": "for"}).status
            == "included"
        )
    chain.block(p["vote_end"])
    return chain.proposal()


def queue_and_wait(chain, proposal_id=1):
    assert chain.send(chain.now, 2, "dao_queue", {"proposal": proposal_id}).status == "included"
    eta = chain.proposal(proposal_id)["eta"]
    chain.block(eta)
    return eta


def test_genesis_without_dao_hashes_as_before():
    data = devnet_genesis(dao=False).to_dict()
    assert "dao" not in data
    assert sha256_hex(canonical_json(data)) == devnet_genesis(dao=False).hash
    assert devnet_genesis().to_dict()["dao"]["council_threshold"] == 2
    assert devnet_genesis().total_supply == devnet_genesis(dao=False).total_supply + 1_000_000 * UNIT


def test_timeline_boundaries(chain):
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    p = chain.proposal()
    start, end = p["vote_start"], p["vote_end"]
    assert start == T0 + 10 + DAY and end == start + 7 * DAY
    assert chain.state_of(1, start - 1) == "pending" and chain.state_of(1, start) == "active"
    early = chain.send(start - 1, 1, "dao_vote", {"proposal": 1, "support": "for"})
    assert early.status == "failed" and early.code == "wrong_proposal_state"
    chain.send(start, 0, "dao_vote", {"proposal": 1, "support": "for"})
    chain.send(start, 1, "dao_vote", {"proposal": 1, "support": "for"})
    assert chain.state_of(1, end - 1) == "active" and chain.state_of(1, end) == "succeeded"
    late = chain.send(end, 2, "dao_vote", {"proposal": 1, "support": "against"})
    assert late.code == "wrong_proposal_state"
    grace = p["grace_period"]
    assert chain.state_of(1, end + grace - 1) == "succeeded" and chain.state_of(1, end + grace) == "expired"
    chain.send(end, 2, "dao_queue", {"proposal": 1})
    eta = chain.proposal()["eta"]
    assert eta == end + 2 * DAY
    too_soon = chain.send(eta - 1, 2, "dao_execute", {"proposal": 1})
    assert too_soon.code == "wrong_proposal_state" and "timelock" in too_soon.reason
    assert chain.state_of(1, eta + grace - 1) == "queued" and chain.state_of(1, eta + grace) == "expired"
    expired = chain.send(eta + grace, 2, "dao_execute", {"proposal": 1})
    assert expired.code == "wrong_proposal_state"
    assert chain.send(eta + grace, 2, "dao_reclaim_bond", {"proposal": 1}).status == "included"
    assert chain.balance(0) == 400_000 * UNIT  # bond back


def test_double_vote_and_no_power(chain):
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    start = chain.proposal()["vote_start"]
    assert chain.send(start, 1, "dao_vote", {"proposal": 1, "support": "for"}).status == "included"
    again = chain.send(start + 5, 1, "dao_vote", {"proposal": 1, "support": "against"})
    assert again.code == "already_voted"
    assert chain.proposal()["voters"] == 1


def test_weight_is_capped_at_5_percent_and_by_twas(chain):
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    p = chain.proposal()
    view = chain.node.state
    # account 0: 399,000 AIT after the bond, above the 5% cap of 1,100,000 AIT
    assert p["cap"] == p["supply"] * 500 // 10_000
    chain.send(p["vote_start"], 0, "dao_vote", {"proposal": 1, "support": "for"})
    assert chain.proposal()["for"] == p["cap"]
    # account 4 has 30,000 AIT all along: its TWAS equals its power, under the cap
    assert twas(view, ADDRESSES[4], p["vote_start"], DAY) == 30_000 * UNIT
    chain.send(p["vote_start"], 4, "dao_vote", {"proposal": 1, "support": "against"})
    assert chain.proposal()["against"] == 30_000 * UNIT


def test_power_bought_late_is_averaged_and_after_snapshot_ignored(chain):
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    start = chain.proposal()["vote_start"]
    # 6 hours before the snapshot account 1 lends 40,000 AIT to account 5 (20,000 AIT of its own)
    chain.send(start - 6 * 3600, 1, "transfer", {"to": ADDRESSES[5], "amount": 40_000 * UNIT})
    view = chain.node.state
    assert power_before(view, ADDRESSES[5], start) == 60_000 * UNIT
    average = twas(view, ADDRESSES[5], start, DAY)
    assert average == (20_000 * 18 + 60_000 * 6) * UNIT * 3600 // DAY == 30_000 * UNIT
    # same-block borrow-vote-return at the voting start: the snapshot is the block before
    b = chain.block(
        start,
        chain.tx(2, "transfer", {"to": ADDRESSES[3], "amount": 100_000 * UNIT}),
        chain.tx(3, "dao_vote", {"proposal": 1, "support": "for"}),
        chain.tx(3, "transfer", {"to": ADDRESSES[2], "amount": 50_000 * UNIT}),  # what the mempool admits
        chain.tx(5, "dao_vote", {"proposal": 1, "support": "against"}),
    )
    assert [s.status for s in b] == ["included"] * 4
    p = chain.proposal()
    assert p["for"] == 50_000 * UNIT  # account 3's own 50,000 only
    assert p["against"] == 30_000 * UNIT  # TWAS, not the 60,000 at the snapshot
    assert power_at_height(view, ADDRESSES[3], chain.node.height) == 100_000 * UNIT


def test_quorum_exactly_met_and_tie(tmp_path):
    # balances chosen so account 1 alone is exactly the 4% quorum of the supply
    chain = DaoChain(tmp_path / "q.sqlite")
    supply = chain.genesis.total_supply
    need = -(-supply * 400 // 10_000)
    # account 1 gives away all but exactly `need`, well before the TWAS window
    chain.send(T0 + 1, 1, "transfer", {"to": ADDRESSES[2], "amount": 300_000 * UNIT - need})
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    p = chain.proposal()
    assert p["quorum"] == need
    chain.send(p["vote_start"], 1, "dao_vote", {"proposal": 1, "support": "for"})
    chain.block(p["vote_end"])
    assert chain.state_of(1, p["vote_end"]) == "succeeded"
    # one unit less fails quorum
    chain.propose(p["vote_end"] + 1, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    chain.send(p["vote_end"] + 2, 1, "transfer", {"to": ADDRESSES[2], "amount": 1})
    q = chain.proposal(2)
    chain.send(q["vote_start"], 1, "dao_vote", {"proposal": 2, "support": "abstain"})
    chain.block(q["vote_end"])
    assert chain.proposal(2)["abstain"] == need - 1 and chain.state_of(2, q["vote_end"]) == "defeated"
    # tie: for == against with quorum met fails
    chain.propose(q["vote_end"] + 1, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    r = chain.proposal(3)
    chain.send(r["vote_start"], 4, "dao_vote", {"proposal": 3, "support": "for"})
    chain.send(r["vote_start"], 1, "dao_vote", {"proposal": 3, "support": "abstain"})
    r = chain.proposal(3)
    assert r["for"] == 30_000 * UNIT
    # a tie (for == against, quorum met) fails; one more unit for passes
    tie = dict(r, against=r["for"])
    from aitbc_daemon.dao.proposals import proposal_state

    assert proposal_state(tie, r["vote_end"]) == "defeated"
    assert proposal_state(dict(r, against=r["for"] - 1), r["vote_end"]) == "succeeded"


def test_proposing_needs_power_and_locks_bond(chain):
    chain.send(T0 + 1, 5, "transfer", {"to": ADDRESSES[0], "amount": 20_000 * UNIT - 999 * UNIT})
    poor = chain.propose(T0 + 2, "treasury", {"to": ADDRESSES[5], "amount": UNIT}, account=5)
    assert poor.code == "not_enough_power"
    before = chain.balance(1)
    assert (
        chain.propose(T0 + 3, "treasury", {"to": ADDRESSES[5], "amount": UNIT}, account=1).status
        == "included"
    )
    assert chain.balance(1) == before - BOND


def test_cancel_only_by_proposer_while_pending(chain):
    chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    start = chain.proposal()["vote_start"]
    assert chain.send(T0 + 20, 1, "dao_cancel", {"proposal": 1}).code == "not_proposer"
    chain.propose(T0 + 30, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    before = chain.balance(0)
    assert chain.send(start + 19, 0, "dao_cancel", {"proposal": 2}).status == "included"
    assert chain.state_of(2, start + 19) == "cancelled" and chain.balance(0) == before + BOND
    assert chain.send(start + 19, 0, "dao_cancel", {"proposal": 1}).code == "wrong_proposal_state"


def test_treasury_transfer_and_failing_execution_leaves_state(chain):
    passed_proposal(chain, "treasury", {"to": ADDRESSES[5], "amount": 5_000 * UNIT})
    queue_and_wait(chain)
    before = chain.balance(5)
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert chain.balance(5) == before + 5_000 * UNIT
    assert int_value(chain.node.state, TREASURY_KEY) == TREASURY - 5_000 * UNIT
    assert chain.state_of(1, chain.now) == "executed"
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).code == "wrong_proposal_state"


def test_failing_execution_changes_nothing(tmp_path):
    chain = DaoChain(tmp_path / "f.sqlite")
    passed_proposal(chain, "treasury", {"to": ADDRESSES[5], "amount": TREASURY + 1})
    queue_and_wait(chain)
    kv_before = dict(chain.node.state.kv)
    failed = chain.send(chain.now, 2, "dao_execute", {"proposal": 1})
    assert failed.status == "failed" and failed.code == "treasury_short"
    kv_after = {k: v for k, v in chain.node.state.kv.items() if not k[1].startswith("cp")}
    assert kv_after == {k: v for k, v in kv_before.items() if not k[1].startswith("cp")}


def test_parameter_change_dao_setting_and_staking_rate(chain):
    passed_proposal(chain, "parameter-change", {"param": "dao.quorum_bps", "value": 1_000})
    queue_and_wait(chain)
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert settings(chain.node.state)["quorum_bps"] == 1_000
    chain.propose(chain.now + 1, "parameter-change", {"param": "staking.flex.reward_rate", "value": 3})
    p = chain.proposal(2)
    assert p["quorum"] == -(-p["supply"] * 1_000 // 10_000)
    for account in (0, 1, 2):
        chain.send(p["vote_start"], account, "dao_vote", {"proposal": 2, "support": "for"})
    chain.block(p["vote_end"])
    queue_and_wait(chain, 2)
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 2}).status == "included"
    assert load_pool(chain.node.state, "flex").reward_rate == 3


def test_unknown_parameter_is_refused_at_admission():
    tx = sign_transaction(
        KEYS[0],
        chain_id="dao-test",
        type="dao_propose",
        nonce=0,
        fee=0,
        payload={
            "type": "parameter-change",
            "title": "x",
            "action": {"param": "chain.gas_price", "value": 1},  # not a chain parameter
        },
    )
    with pytest.raises(InvalidPayload):
        validate_tx_payload(tx)


def test_grant_vests_linearly_and_only_grantee_claims(chain):
    passed_proposal(
        chain,
        "dao-grant",
        {"grantee": ADDRESSES[5], "amount": 1_000 * UNIT, "vesting_seconds": 1_000},
    )
    queue_and_wait(chain)
    chain.send(chain.now, 2, "dao_execute", {"proposal": 1})
    grant_id = chain.proposal()["grant"]
    start = load_grant(chain.node.state, grant_id)["start"]
    assert chain.send(start + 250, 4, "dao_claim_grant", {"grant": grant_id}).code == "not_grantee"
    before = chain.balance(5)
    assert chain.send(start + 250, 5, "dao_claim_grant", {"grant": grant_id}).status == "included"
    assert chain.balance(5) == before + 250 * UNIT
    assert chain.send(start + 250, 5, "dao_claim_grant", {"grant": grant_id}).code == "nothing_vested"
    chain.send(start + 5_000, 5, "dao_claim_grant", {"grant": grant_id})
    assert chain.balance(5) == before + 1_000 * UNIT


def test_emergency_needs_council_and_pauses_staking_withdrawals(chain):
    chain.send(T0 + 1, 4, "stake", {"pool": "flex", "amount": 1_000 * UNIT})
    passed_proposal(chain, "emergency", {"module": "staking-withdrawals", "action": "pause"})
    queue_and_wait(chain)
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).code == "needs_council_approval"
    assert chain.send(chain.now, 0, "dao_council", {"action": "approve", "proposal": 1}).code == "not_council"
    chain.send(chain.now, 3, "dao_council", {"action": "approve", "proposal": 1})
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).code == "needs_council_approval"
    chain.send(chain.now, 4, "dao_council", {"action": "approve", "proposal": 1})
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert paused_modules(chain.node.state) == ["staking-withdrawals"]
    refused = chain.send(chain.now + 1, 4, "unstake", {"position": 1})
    assert refused.status == "failed" and refused.code == "module_paused"


def test_stake_counts_in_power(chain):
    chain.send(T0 + 1, 4, "stake", {"pool": "flex", "amount": 10_000 * UNIT})
    assert power_at_height(chain.node.state, ADDRESSES[4], chain.node.height) == 30_000 * UNIT


def test_protocol_upgrade_halts_a_node_without_it(chain):
    from aitbc_daemon.dao.errors import UpgradeRequired

    passed_proposal(chain, "protocol-upgrade", {"name": "v2", "height": 20})
    queue_and_wait(chain)
    chain.send(chain.now, 3, "dao_council", {"action": "approve", "proposal": 1})
    chain.send(chain.now, 5, "dao_council", {"action": "approve", "proposal": 1})
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert chain.node.state.kv_get("dao", "upgrades") == {"v2": 20}
    while chain.node.height < 19:
        chain.block(chain.now + 1)
    with pytest.raises(UpgradeRequired, match="protocol upgrade 'v2'.*install a release"):
        chain.block(chain.now + 1)
    assert chain.node.height == 19


def test_agent_trading_limits_are_stored(chain):
    passed_proposal(chain, "agent-trading", {"max_order": 100 * UNIT, "max_daily_volume": 1_000 * UNIT})
    queue_and_wait(chain)
    assert chain.send(chain.now, 2, "dao_execute", {"proposal": 1}).status == "included"
    assert chain.node.state.kv_get("dao", "agent_trading")["max_order"] == 100 * UNIT


def test_council_veto_during_timelock_forfeits_bond(chain):
    passed_proposal(chain, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    chain.send(chain.now, 2, "dao_queue", {"proposal": 1})
    chain.send(chain.now + 1, 3, "dao_council", {"action": "veto", "proposal": 1})
    assert chain.state_of(1, chain.now) == "queued"
    chain.send(chain.now + 2, 4, "dao_council", {"action": "veto", "proposal": 1})
    assert chain.state_of(1, chain.now) == "vetoed"
    assert int_value(chain.node.state, TREASURY_KEY) == TREASURY + BOND
    assert chain.balance(0) == 400_000 * UNIT - BOND


def test_challenge_outcomes_move_bonds(tmp_path):
    for winner in ("proposer", "challenger"):
        chain = DaoChain(tmp_path / f"{winner}.sqlite")
        chain.propose(T0 + 10, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
        assert chain.send(T0 + 20, 0, "dao_challenge", {"proposal": 1}).code == "challenge_refused"
        assert chain.send(T0 + 20, 2, "dao_challenge", {"proposal": 1}).status == "included"
        assert chain.balance(2) == 200_000 * UNIT - BOND
        chain.send(T0 + 30, 3, "dao_council", {"action": "resolve", "proposal": 1, "winner": winner})
        chain.send(T0 + 40, 5, "dao_council", {"action": "resolve", "proposal": 1, "winner": winner})
        if winner == "proposer":
            assert chain.balance(0) == 400_000 * UNIT  # gained the challenger's bond, own still locked
            assert chain.balance(2) == 200_000 * UNIT - BOND
            assert chain.state_of(1, T0 + 40) == "pending"
        else:
            assert chain.balance(0) == 400_000 * UNIT - BOND
            assert chain.balance(2) == 200_000 * UNIT + BOND
            assert chain.state_of(1, T0 + 40) == "rejected"


def test_open_challenge_blocks_queue(chain):
    passed_proposal(chain, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    chain.send(chain.now, 2, "dao_challenge", {"proposal": 1})
    assert chain.send(chain.now, 2, "dao_queue", {"proposal": 1}).code == "challenge_refused"


def test_delegation_moves_power(chain):
    chain.send(T0 + 1, 4, "dao_delegate", {"to": ADDRESSES[5]})
    view = chain.node.state
    h = chain.node.height
    assert power_at_height(view, ADDRESSES[5], h) == 50_000 * UNIT
    assert power_at_height(view, ADDRESSES[4], h) == 0
    chain.send(T0 + 2, 4, "transfer", {"to": ADDRESSES[0], "amount": 10_000 * UNIT})
    assert power_at_height(view, ADDRESSES[5], chain.node.height) == 40_000 * UNIT
    assert power_at_height(view, ADDRESSES[5], h) == 50_000 * UNIT  # history kept
    chain.send(T0 + 3, 4, "dao_delegate", {"to": ADDRESSES[4]})
    assert power_at_height(view, ADDRESSES[4], chain.node.height) == 20_000 * UNIT
    assert power_at_height(view, ADDRESSES[5], chain.node.height) == 20_000 * UNIT


def test_council_pauses_and_resumes_the_dao(chain):
    chain.send(T0 + 1, 3, "dao_council", {"action": "pause"})
    chain.send(T0 + 2, 4, "dao_council", {"action": "pause"})
    assert "dao" in paused_modules(chain.node.state)
    assert chain.propose(T0 + 3, "treasury", {"to": ADDRESSES[5], "amount": UNIT}).code == "dao_paused"
    chain.send(T0 + 4, 4, "dao_council", {"action": "resume"})
    chain.send(T0 + 5, 5, "dao_council", {"action": "resume"})
    assert chain.propose(T0 + 6, "treasury", {"to": ADDRESSES[5], "amount": UNIT}).status == "included"


def test_replay_gives_the_same_app_hash(chain, tmp_path):
    from aitbc_daemon.chain.node import ChainNode

    passed_proposal(chain, "treasury", {"to": ADDRESSES[5], "amount": UNIT})
    fresh = ChainNode.open(tmp_path / "replay.sqlite", chain.genesis)
    blocks = [chain.node.block(height=h) for h in range(1, chain.node.height + 1)]
    assert fresh.replay(blocks) == chain.node.app_hash


def test_bad_genesis_dao_sections():
    base = dao_genesis().to_dict()
    for bad in ({"council_threshold": 4}, {"settings": {"quorum_bps": 0}}, {"nope": 1}):
        with pytest.raises(Exception, match="dao"):
            genesis_from_dict(base | {"dao": base["dao"] | bad})
