"""Every governable parameter has its effect once a proposal executes (a real node, real blocks).

Chain params (min_fee, block_reward) in genesis and through `parameter-change`, staking pools'
lock and penalty, the agent bonus settings, bounds refused at propose time, the job-payments pause
of escrow settlement, and what `governance()` (chain status) shows.
"""

from __future__ import annotations

import pytest

from aitbc_daemon.chain.encoding import canonical_json, sha256_hex
from aitbc_daemon.chain.errors import FeeTooLow, InvalidGenesis, InvalidPayload
from aitbc_daemon.chain.genesis import genesis_from_dict
from aitbc_daemon.chain.params import DEFAULT_PARAMS, chain_params
from aitbc_daemon.chain.state import circulating_supply, issued_supply
from aitbc_daemon.chain.transitions import apply_transaction
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.chain.txtypes import BlockContext, validate_tx_payload
from aitbc_daemon.dao.checkpoints import power_at_height
from aitbc_daemon.dao.params import (
    DEFAULT_SETTINGS,
    TREASURY_KEY,
    int_value,
    paused_modules,
    settings,
)
from aitbc_daemon.staking.pools import MAX_LOCK_SECONDS, load_pool

from .helpers import ADDRESSES, BOND, DAY, KEYS, T0, UNIT, DaoChain, dao_genesis

PROPOSER = 0  # dev key 0 is the only authority: it proposes every block and gets the rewards


@pytest.fixture
def chain(tmp_path):
    return DaoChain(tmp_path / "dao.sqlite")


def enact(chain: DaoChain, kind: str, action: dict, *, fee: int = 0) -> dict:
    """Propose, vote (accounts 0 and 1), queue, approve if needed (council 3 and 4), execute."""
    propose = chain.tx(0, "dao_propose", {"type": kind, "title": "t", "action": action}, fee)
    assert chain.block(chain.now + 1, propose)[0].status == "included"
    proposal_id = int(chain.node.state.kv_get("dao", "next_proposal")) - 1
    p = chain.proposal(proposal_id)
    for account in (0, 1):
        vote = chain.tx(account, "dao_vote", {"proposal": proposal_id, "support": "for"}, fee)
        assert chain.block(p["vote_start"], vote)[0].status == "included"
    chain.block(p["vote_end"])
    queue = chain.tx(2, "dao_queue", {"proposal": proposal_id}, fee)
    assert chain.block(p["vote_end"], queue)[0].status == "included"
    eta = chain.proposal(proposal_id)["eta"]
    if kind in ("emergency", "protocol-upgrade"):
        for member in (3, 4):
            approve = chain.tx(member, "dao_council", {"action": "approve", "proposal": proposal_id}, fee)
            assert chain.block(eta - 1, approve)[0].status == "included"
    return chain.proposal(proposal_id) | {"eta": eta}


def execute(chain: DaoChain, proposal: dict, *others, fee: int = 0):
    """Execute `proposal` at its eta, in one block with `others` (transactions); their statuses."""
    run = chain.tx(2, "dao_execute", {"proposal": proposal["id"]}, fee)
    return chain.block(proposal["eta"], run, *others)


def propose_tx(param: str, value: object):
    return sign_transaction(
        KEYS[0],
        chain_id="dao-test",
        type="dao_propose",
        nonce=0,
        fee=0,
        payload={"type": "parameter-change", "title": "x", "action": {"param": param, "value": value}},
    )


# --- genesis -------------------------------------------------------------------------------


def test_genesis_params_section_is_optional_and_counts_in_the_hash():
    plain = dao_genesis()
    data = plain.to_dict()
    assert "params" not in data
    assert plain.hash == sha256_hex(canonical_json(data))
    assert ("chain", "params") not in plain.initial_state().kv  # so the app hashes do not change either
    assert chain_params(plain.initial_state()) == DEFAULT_PARAMS

    with_params = genesis_from_dict({**data, "params": {"min_fee": 10, "block_reward": UNIT}})
    assert with_params.hash != plain.hash
    assert with_params.to_dict()["params"] == {"min_fee": 10, "block_reward": UNIT}
    assert chain_params(with_params.initial_state()) == {"min_fee": 10, "block_reward": UNIT}
    partial = genesis_from_dict({**data, "params": {"block_reward": 5}})
    assert partial.to_dict()["params"] == {"min_fee": 0, "block_reward": 5}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"gas": 1}, "unknown chain parameter 'gas'"),
        ({"min_fee": -1}, "min_fee must be an integer from 0"),
        ({"block_reward": 1_000 * UNIT + 1}, "block_reward must be an integer from 0"),
        ({"min_fee": True}, "min_fee must be an integer"),
        ([], "params must be an object"),
    ],
)
def test_bad_genesis_params_are_refused(params, message):
    with pytest.raises(InvalidGenesis, match=message):
        genesis_from_dict({**dao_genesis().to_dict(), "params": params})


# --- bounds at propose time --------------------------------------------------------------------


@pytest.mark.parametrize(
    "param, value",
    [
        ("chain.min_fee", -1),
        ("chain.min_fee", 1_000 * UNIT + 1),
        ("chain.block_reward", 1_000 * UNIT + 1),
        ("chain.block_reward", "5"),
        ("chain.gas_price", 1),
        ("dao.agent_bonus_per_point", 10**12 + 1),
        ("dao.agent_bonus_max", 10**15 + 1),
        ("dao.agent_bonus_max", -1),
        ("staking.flex.lock_seconds", MAX_LOCK_SECONDS + 1),
        ("staking.flex.lock_seconds", -1),
        ("staking.flex.early_exit_penalty_bps", 10_001),
        ("staking.flex.budget", -1),
        ("staking.flex.budget", 10**15 + 1),
        ("staking.flex.staked", 1),
        ("staking.Flex!.lock_seconds", 1),
    ],
)
def test_out_of_bounds_parameters_are_refused_at_propose_time(param, value):
    with pytest.raises(InvalidPayload):
        validate_tx_payload(propose_tx(param, value))


@pytest.mark.parametrize(
    "param, value",
    [
        ("chain.min_fee", 0),
        ("chain.min_fee", 1_000 * UNIT),
        ("chain.block_reward", 1_000 * UNIT),
        ("dao.agent_bonus_per_point", 10**12),
        ("dao.agent_bonus_max", 0),
        ("staking.flex.lock_seconds", MAX_LOCK_SECONDS),
        ("staking.flex.early_exit_penalty_bps", 10_000),
    ],
)
def test_parameters_within_bounds_pass_admission(param, value):
    validate_tx_payload(propose_tx(param, value))


def test_a_staking_parameter_of_a_missing_pool_fails_at_propose(chain):
    refused = chain.propose(T0 + 1, "parameter-change", {"param": "staking.nopool.lock_seconds", "value": 5})
    assert (refused.status, refused.code) == ("failed", "unknown_parameter")
    assert chain.node.state.kv_get("dao", "next_proposal") is None  # nothing opened, no bond taken


# --- min_fee -------------------------------------------------------------------------------------


def test_min_fee_raise_refuses_lower_fees_and_leaves_the_mempool_clean(chain):
    proposal = enact(chain, "parameter-change", {"param": "chain.min_fee", "value": 1_000})
    cheap = chain.tx(5, "transfer", {"to": ADDRESSES[4], "amount": UNIT}, fee=1)
    executed, left_out = execute(chain, proposal, cheap, fee=5)  # fee 5 > 1: the execute goes first
    assert executed.status == "included"
    assert chain_params(chain.node.state) == {"min_fee": 1_000, "block_reward": 0}
    # admitted before the raise; after it, not includable (TxRejected), then dropped by the recheck
    assert left_out is None and len(chain.node.mempool) == 0
    assert chain.node.state.nonce(ADDRESSES[5]) == 0
    chain.nonces[5] = 0

    with pytest.raises(FeeTooLow, match="chain's minimum fee 1000"):
        chain.node.check_tx(chain.tx(5, "transfer", {"to": ADDRESSES[4], "amount": UNIT}, fee=999))
    assert len(chain.node.mempool) == 0
    chain.nonces[5] = 0
    low = chain.tx(5, "transfer", {"to": ADDRESSES[4], "amount": UNIT}, fee=999)
    context = BlockContext("dao-test", chain.node.height + 1, chain.now, ADDRESSES[0])
    with pytest.raises(FeeTooLow):  # the ante step itself: a block holding it would be invalid
        apply_transaction(chain.node.state, low, context)
    chain.nonces[5] = 0
    enough = chain.tx(5, "transfer", {"to": ADDRESSES[4], "amount": UNIT}, fee=1_000)
    (paid,) = chain.block(chain.now + 1, enough)
    assert paid.status == "included"


def test_min_fee_from_genesis_is_enforced(tmp_path):
    genesis = genesis_from_dict({**dao_genesis().to_dict(), "params": {"min_fee": 50}})
    chain = DaoChain(tmp_path / "g.sqlite", genesis)
    with pytest.raises(FeeTooLow):
        chain.node.check_tx(chain.tx(1, "transfer", {"to": ADDRESSES[2], "amount": 1}, fee=49))
    chain.nonces[1] = 0
    enough = chain.tx(1, "transfer", {"to": ADDRESSES[2], "amount": 1}, fee=50)
    assert chain.block(T0 + 1, enough)[0].status == "included"


def test_an_arbiter_settles_and_a_reporter_reports_without_the_minimum_fee(tmp_path):
    """Service keys (coordinator, reporter) earn nothing to pay fees with: their duties are waived,
    only while the duty is open and only for them; anyone else pays the minimum."""
    data = dao_genesis().to_dict()
    data["params"] = {"min_fee": 50}
    data["staking"]["reporters"] = [ADDRESSES[4]]
    chain = DaoChain(tmp_path / "w.sqlite", genesis_from_dict(data))
    lock = {"escrow_id": "job-a", "amount": 10 * UNIT, "arbiter": ADDRESSES[4]}
    assert chain.block(T0 + 1, chain.tx(5, "escrow_lock", lock, fee=50))[0].status == "included"

    stranger = chain.tx(3, "escrow_release", {"escrow_id": "job-a", "to": ADDRESSES[3]})
    with pytest.raises(FeeTooLow):  # not the arbiter: no waiver, so never included
        chain.node.check_tx(stranger)
    chain.nonces[3] = 0
    report = chain.tx(4, "staking_report", {"miner": ADDRESSES[2], "multiplier_bps": 5_000})
    release = chain.tx(4, "escrow_release", {"escrow_id": "job-a", "to": ADDRESSES[2]})
    assert [r.status for r in chain.block(T0 + 2, report, release)] == ["included", "included"]
    assert chain.node.escrow("job-a").status == "released"

    again = chain.tx(4, "escrow_refund", {"escrow_id": "job-a"})
    with pytest.raises(FeeTooLow):  # the escrow is settled: the duty is over, so is the waiver
        chain.node.check_tx(again)
    assert circulating_supply(chain.node.state) == issued_supply(chain.node.state)


# --- block reward --------------------------------------------------------------------------------


def test_block_reward_is_paid_from_the_treasury_with_supply_conserved(chain):
    proposal = enact(chain, "parameter-change", {"param": "chain.block_reward", "value": 5 * UNIT})
    treasury = int_value(chain.node.state, TREASURY_KEY)
    before = chain.balance(PROPOSER)
    execute(chain, proposal)  # the block that sets it already pays it (end of block)
    assert chain.balance(PROPOSER) == before + BOND + 5 * UNIT  # the proposer (0) also gets its bond back
    before += BOND
    for _ in range(3):
        chain.block(chain.now + 1)  # empty blocks are rewarded too
    assert chain.balance(PROPOSER) == before + 4 * 5 * UNIT
    assert int_value(chain.node.state, TREASURY_KEY) == treasury - 4 * 5 * UNIT
    state = chain.node.state
    assert circulating_supply(state) == issued_supply(state) == chain.genesis.total_supply
    # the reward counts in the proposer's voting power from the block that paid it
    assert power_at_height(state, ADDRESSES[PROPOSER], chain.node.height) == chain.balance(PROPOSER)


def test_block_reward_pays_only_what_the_treasury_holds(tmp_path):
    data = dao_genesis().to_dict()
    data["dao"]["treasury"] = 3 * UNIT
    data["params"] = {"block_reward": 2 * UNIT}
    chain = DaoChain(tmp_path / "r.sqlite", genesis_from_dict(data))
    before = chain.balance(PROPOSER)
    chain.block(T0 + 1)
    assert int_value(chain.node.state, TREASURY_KEY) == UNIT
    chain.block(T0 + 2)  # only 1 AIT left: that is what is paid
    chain.block(T0 + 3)  # an empty treasury pays nothing, and is not owed later
    assert chain.balance(PROPOSER) == before + 3 * UNIT
    assert int_value(chain.node.state, TREASURY_KEY) == 0


def test_a_chain_without_dao_pays_no_block_reward(tmp_path):
    data = dao_genesis().to_dict()
    del data["dao"]
    data["params"] = {"block_reward": 2 * UNIT}
    chain = DaoChain(tmp_path / "n.sqlite", genesis_from_dict(data))
    before = chain.balance(PROPOSER)
    chain.block(T0 + 1)
    chain.block(T0 + 2)
    assert chain.balance(PROPOSER) == before  # no treasury, and nothing is ever issued


# --- staking pools ---------------------------------------------------------------------------------


def test_lock_change_applies_to_new_positions_only(tmp_path):
    data = dao_genesis().to_dict()
    gpu = {"reward_rate": 1, "lock_seconds": 0, "early_exit_penalty_bps": 1_000, "budget": 1_000}
    data["staking"]["pools"]["gpu"] = gpu  # no lock yet, but a 10% penalty once there is one
    chain = DaoChain(tmp_path / "l.sqlite", genesis_from_dict(data))
    chain.send(T0 + 1, 5, "stake", {"pool": "gpu", "amount": 100 * UNIT})  # position 1, no lock
    proposal = enact(chain, "parameter-change", {"param": "staking.gpu.lock_seconds", "value": 10_000})
    execute(chain, proposal)
    assert load_pool(chain.node.state, "gpu").lock_seconds == 10_000
    opened = chain.now + 1
    chain.send(opened, 5, "stake", {"pool": "gpu", "amount": 100 * UNIT})  # position 2
    assert chain.node.state.kv_get("staking", "position:2")["unlock_at"] == opened + 10_000
    locked = chain.send(opened + 1, 5, "unstake", {"position": 2})
    assert (locked.status, locked.code) == ("failed", "position_locked")
    before = chain.balance(5)
    assert chain.send(opened + 1, 5, "unstake", {"position": 1}).status == "included"  # kept its old lock
    assert chain.balance(5) - before >= 100 * UNIT  # no penalty: it was never locked


def test_early_exit_penalty_change_applies_at_the_next_exit(chain):
    lock = enact(chain, "parameter-change", {"param": "staking.flex.lock_seconds", "value": 30 * DAY})
    execute(chain, lock)
    penalty = enact(chain, "parameter-change", {"param": "staking.flex.early_exit_penalty_bps", "value": 500})
    chain.send(chain.now, 5, "stake", {"pool": "flex", "amount": 1_000 * UNIT})
    position = int(chain.node.state.kv_get("staking", "next_position")) - 1
    execute(chain, penalty)
    assert load_pool(chain.node.state, "flex").penalty_bps == 500
    assert chain.node.state.kv_get("staking", f"position:{position}")["unlock_at"] > chain.now + 1
    before = chain.balance(5)
    out = chain.send(chain.now + 1, 5, "unstake", {"position": position, "accept_penalty": True})
    assert out.status == "included"
    gained = chain.balance(5) - before
    assert 950 * UNIT <= gained < 951 * UNIT  # 5% kept back (plus a few units of reward)


def test_a_pool_budget_is_topped_up_from_the_treasury_and_cut_back_into_it(chain):
    """The pool has 5,000 units left and nobody staked (so nothing accrues): a top-up to 50 AIT
    takes exactly the difference from the treasury, a cut to 0 gives all 50 AIT back."""
    treasury = int_value(chain.node.state, TREASURY_KEY)
    execute(chain, enact(chain, "parameter-change", {"param": "staking.flex.budget", "value": 50 * UNIT}))
    pool = load_pool(chain.node.state, "flex")
    assert (pool.remaining, pool.budget) == (50 * UNIT, 50 * UNIT)
    assert int_value(chain.node.state, TREASURY_KEY) == treasury - (50 * UNIT - 5_000)
    execute(chain, enact(chain, "parameter-change", {"param": "staking.flex.budget", "value": 0}))
    assert load_pool(chain.node.state, "flex").remaining == 0
    assert int_value(chain.node.state, TREASURY_KEY) == treasury + 5_000
    assert circulating_supply(chain.node.state) == issued_supply(chain.node.state)


def test_a_budget_top_up_beyond_the_treasury_fails_and_changes_nothing(chain):
    too_much = enact(chain, "parameter-change", {"param": "staking.flex.budget", "value": 10**15})
    before = (load_pool(chain.node.state, "flex"), int_value(chain.node.state, TREASURY_KEY))
    result = chain.send(too_much["eta"], 2, "dao_execute", {"proposal": too_much["id"]})
    assert (result.status, result.code) == ("failed", "treasury_short")
    assert load_pool(chain.node.state, "flex").remaining == before[0].remaining
    assert int_value(chain.node.state, TREASURY_KEY) == before[1]


# --- dao settings -----------------------------------------------------------------------------------


def test_agent_bonus_settings_exist_and_are_governable(chain):
    assert DEFAULT_SETTINGS["agent_bonus_per_point"] == 10 * UNIT
    assert settings(chain.node.state)["agent_bonus_per_point"] == 10 * UNIT  # in the genesis state
    assert settings(chain.node.state)["agent_bonus_max"] == 1_000 * UNIT
    proposal = enact(chain, "parameter-change", {"param": "dao.agent_bonus_max", "value": 7 * UNIT})
    execute(chain, proposal)
    assert settings(chain.node.state)["agent_bonus_max"] == 7 * UNIT


# --- job payments pause ---------------------------------------------------------------------------


def test_job_payments_pause_stops_escrow_settlement_until_resumed(chain):
    """Account 5 locks two escrows with account 4 as arbiter; a pause fails release and refund."""
    chain.block(
        T0 + 1,
        chain.tx(5, "escrow_lock", {"escrow_id": "job-a", "amount": 10 * UNIT, "arbiter": ADDRESSES[4]}),
        chain.tx(5, "escrow_lock", {"escrow_id": "job-b", "amount": 20 * UNIT, "arbiter": ADDRESSES[4]}),
    )
    pause = enact(chain, "emergency", {"module": "job-payments", "action": "pause"})
    execute(chain, pause)
    assert paused_modules(chain.node.state) == ["job-payments"]
    assert chain.node.governance()["paused"] == ["job-payments"]
    release = chain.send(chain.now + 1, 4, "escrow_release", {"escrow_id": "job-a", "to": ADDRESSES[2]})
    refund = chain.send(chain.now + 1, 4, "escrow_refund", {"escrow_id": "job-b"})
    assert (release.status, release.code) == ("failed", "module_paused")
    assert (refund.status, refund.code) == ("failed", "module_paused")
    assert chain.node.escrow("job-a").status == chain.node.escrow("job-b").status == "locked"
    # locking new escrows is not a payment: it goes on
    new_lock = {"escrow_id": "job-c", "amount": UNIT, "arbiter": ADDRESSES[4]}
    lock = chain.send(chain.now + 1, 5, "escrow_lock", new_lock)
    assert lock.status == "included"

    resume = enact(chain, "emergency", {"module": "job-payments", "action": "resume"})
    execute(chain, resume)
    assert paused_modules(chain.node.state) == []
    before = chain.balance(2)
    release = chain.send(chain.now + 1, 4, "escrow_release", {"escrow_id": "job-a", "to": ADDRESSES[2]})
    assert release.status == "included"
    assert chain.balance(2) == before + 10 * UNIT
    assert chain.send(chain.now + 1, 4, "escrow_refund", {"escrow_id": "job-b"}).status == "included"
    assert chain.node.escrow("job-b").status == "refunded"


# --- status: upgrades, pauses, halt ----------------------------------------------------------------


def test_governance_status_shows_upgrades_and_the_halt(chain):
    assert chain.node.governance() == {
        "min_fee": 0,
        "block_reward": 0,
        "halted": None,
        "upgrades": {},
        "paused": [],
    }
    upgrade = enact(chain, "protocol-upgrade", {"name": "v2", "height": 30})
    execute(chain, upgrade)
    assert chain.node.governance()["upgrades"] == {"v2": 30}
    while chain.node.height < 29:
        chain.block(chain.now + 1)
    halted = chain.node.governance()["halted"]
    assert halted is not None and "'v2' (from height 30)" in halted and "install a release" in halted


def test_governance_status_of_a_chain_without_dao_has_no_dao_fields(tmp_path):
    data = dao_genesis().to_dict()
    del data["dao"]
    chain = DaoChain(tmp_path / "n.sqlite", genesis_from_dict(data))
    assert chain.node.governance() == {"min_fee": 0, "block_reward": 0, "halted": None}


# --- council membership ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        {"members": [ADDRESSES[4], ADDRESSES[5]], "threshold": 0},
        {"members": [ADDRESSES[4], ADDRESSES[5]], "threshold": 3},
        {"members": [ADDRESSES[4], ADDRESSES[4]], "threshold": 1},
        {"members": [], "threshold": 1},
        {"members": ["ait1notanaddress"], "threshold": 1},
        {"members": [ADDRESSES[4]], "threshold": 1, "extra": 1},
        {"members": ADDRESSES[4], "threshold": 1},
        2,
    ],
)
def test_bad_council_changes_are_refused_at_propose_time(value):
    with pytest.raises(InvalidPayload):
        validate_tx_payload(propose_tx("dao.council", value))


def test_council_change_replaces_members_and_drops_removed_members_approvals(chain):
    emergency = enact(chain, "emergency", {"module": "exchange", "action": "pause"})  # approved by 3 and 4
    assert emergency["approvals"] == [ADDRESSES[3], ADDRESSES[4]]
    new_council = {"members": [ADDRESSES[4], ADDRESSES[5]], "threshold": 2}
    change = enact(chain, "parameter-change", {"param": "dao.council", "value": new_council})
    execute(chain, change)
    assert chain.node.state.kv_get("dao", "council") == new_council

    again = chain.send(chain.now + 1, 2, "dao_execute", {"proposal": emergency["id"]})
    assert (again.status, again.code) == ("failed", "needs_council_approval")  # 3's approval no longer counts
    removed = chain.send(chain.now + 1, 3, "dao_council", {"action": "approve", "proposal": emergency["id"]})
    assert (removed.status, removed.code) == ("failed", "not_council")
    joined = chain.send(chain.now + 1, 5, "dao_council", {"action": "approve", "proposal": emergency["id"]})
    assert joined.status == "included"
    assert chain.send(chain.now + 1, 2, "dao_execute", {"proposal": emergency["id"]}).status == "included"
    assert paused_modules(chain.node.state) == ["exchange"]
