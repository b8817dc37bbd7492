"""Supply is conserved (circulating == issued, checked after every block) over random governance."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.genesis import genesis_from_dict
from aitbc_daemon.chain.node import ChainNode
from aitbc_daemon.chain.state import circulating_supply, issued_supply

from .helpers import ADDRESSES, DAY, T0, UNIT, DaoChain, dao_genesis

ACCOUNTS = st.integers(0, 5)
PROPOSAL = st.integers(1, 3)
ACTIONS = st.one_of(
    st.tuples(st.just("propose"), ACCOUNTS, st.sampled_from(["treasury", "dao-grant", "emergency"])),
    st.tuples(st.just("vote"), ACCOUNTS, PROPOSAL, st.sampled_from(["for", "against", "abstain"])),
    st.tuples(st.just("transfer"), ACCOUNTS, ACCOUNTS, st.integers(1, 200_000)),
    st.tuples(st.just("delegate"), ACCOUNTS, ACCOUNTS),
    st.tuples(st.just("stake"), ACCOUNTS, st.integers(1, 50_000)),
    st.tuples(st.just("unstake"), ACCOUNTS, st.integers(1, 3)),
    st.tuples(
        st.sampled_from(["dao_queue", "dao_execute", "dao_cancel", "dao_challenge", "dao_reclaim_bond"]),
        ACCOUNTS,
        PROPOSAL,
    ),
    st.tuples(
        st.just("council"),
        st.integers(3, 5),
        st.sampled_from(["approve", "veto", "resolve"]),
        PROPOSAL,
    ),
    st.tuples(st.just("claim"), ACCOUNTS, st.integers(1, 2)),
    st.tuples(st.just("wait"), st.sampled_from([60, DAY // 2, DAY, 3 * DAY, 7 * DAY])),
)


def payload_of(action):
    kind = action[0]
    if kind == "propose":
        _, who, ptype = action
        body = {
            "treasury": {"to": ADDRESSES[5], "amount": 1_000 * UNIT},
            "dao-grant": {"grantee": ADDRESSES[4], "amount": 500 * UNIT, "vesting_seconds": DAY},
            "emergency": {"module": "staking-withdrawals", "action": "pause"},
        }[ptype]
        return who, "dao_propose", {"type": ptype, "title": "random", "action": body}
    if kind == "vote":
        return action[1], "dao_vote", {"proposal": action[2], "support": action[3]}
    if kind == "transfer":
        return (
            action[1],
            "transfer",
            {"to": ADDRESSES[action[2]], "amount": action[3] * UNIT // 100},
        )
    if kind == "delegate":
        return action[1], "dao_delegate", {"to": ADDRESSES[action[2]]}
    if kind == "stake":
        return action[1], "stake", {"pool": "flex", "amount": action[2] * UNIT // 10}
    if kind == "unstake":
        return action[1], "unstake", {"position": action[2]}
    if kind == "council":
        payload = {"action": action[2], "proposal": action[3]}
        if action[2] == "resolve":
            payload["winner"] = "challenger" if action[3] % 2 else "proposer"
        return action[1], "dao_council", payload
    if kind == "claim":
        return action[1], "dao_claim_grant", {"grant": action[2]}
    return action[1], kind, {"proposal": action[2]}


def rewarding_genesis(block_reward: int):
    """The helpers' genesis with a block reward (from genesis) and a treasury it drains in 5 blocks,
    so rewards, partial rewards and treasury payouts compete for the same units."""
    if not block_reward:
        return None
    data = dao_genesis().to_dict()
    data["dao"]["treasury"] = 5 * block_reward
    data["params"] = {"block_reward": block_reward}
    return genesis_from_dict(data)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(ACTIONS, min_size=1, max_size=4), min_size=1, max_size=12),
    st.sampled_from([0, 0, UNIT, 1_000 * UNIT]),
)
def test_supply_is_conserved_over_random_governance(blocks, block_reward):
    with tempfile.TemporaryDirectory() as tmp:
        chain = DaoChain(Path(tmp) / "p.sqlite", rewarding_genesis(block_reward))
        now = T0
        for actions in blocks:
            txs = []
            for action in actions:
                if action[0] == "wait":
                    now += action[1]
                    continue
                who, tx_type, payload = payload_of(action)
                txs.append(chain.tx(who, tx_type, payload))
            admitted = []
            for tx in txs:
                try:
                    chain.node.check_tx(tx)
                    admitted.append(tx)
                except ChainError:  # refused at admission (e.g. overdraft): its nonce is unused
                    break
            now += 1
            chain.node.produce_block(now)  # DaoChain.block's supply check, inline
            for tx in admitted:
                status = chain.node.transaction(tx.hash)
                if status is not None and status.status == "included":
                    event(f"{tx.type} included")
            state = chain.node.state
            assert circulating_supply(state) == issued_supply(state) == chain.genesis.total_supply
            chain.nonces = [state.nonce(a) for a in ADDRESSES]
            chain.node.mempool.remove([tx.hash for tx in txs])
        fresh = ChainNode.open(Path(tmp) / "replay.sqlite", chain.genesis)
        blocks_ = [chain.node.block(height=h) for h in range(1, chain.node.height + 1)]
        assert fresh.replay(blocks_) == chain.node.app_hash


LIFECYCLE_STEPS = st.fixed_dictionaries(
    {
        "kind": st.sampled_from(["treasury", "dao-grant", "emergency", "parameter-change"]),
        "before": st.lists(st.tuples(ACCOUNTS, ACCOUNTS, st.integers(1, 300_000)), max_size=3),
        "delegations": st.lists(st.tuples(ACCOUNTS, ACCOUNTS), max_size=2),
        "votes": st.lists(st.sampled_from([None, "for", "against", "abstain"]), min_size=6, max_size=6),
        "challenge": st.sampled_from([None, "proposer", "challenger", "unresolved"]),
        "cancel": st.booleans(),
        "approvals": st.integers(0, 3),
        "veto": st.booleans(),
        "execute_late": st.booleans(),
    }
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(LIFECYCLE_STEPS)
def test_supply_is_conserved_over_random_proposal_lifecycles(plan):
    """One proposal driven through its timeline with random choices at each step; every block
    checks circulating == issued (DaoChain.block), and bonds end where the rules say."""
    with tempfile.TemporaryDirectory() as tmp:
        chain = DaoChain(Path(tmp) / "l.sqlite")
        now = T0 + 1
        for sender, to, amount in plan["before"]:
            payload = {"to": ADDRESSES[to], "amount": amount * UNIT // 10}
            chain.try_send(now, sender, "transfer", payload)  # None when it would overdraw
        for sender, to in plan["delegations"]:
            chain.send(now, sender, "dao_delegate", {"to": ADDRESSES[to]})
        action = {
            "treasury": {"to": ADDRESSES[5], "amount": 1_000 * UNIT},
            "dao-grant": {"grantee": ADDRESSES[4], "amount": 500 * UNIT, "vesting_seconds": DAY},
            "emergency": {"module": "exchange", "action": "pause"},
            "parameter-change": {"param": "dao.timelock", "value": 3_600},
        }[plan["kind"]]
        proposed = chain.propose(now + 1, plan["kind"], action, account=1)
        event(f"propose {proposed.status}")
        if proposed.status != "included":
            return
        p = chain.proposal()
        if plan["challenge"]:
            chain.send(now + 2, 2, "dao_challenge", {"proposal": 1})
            if plan["challenge"] != "unresolved":
                for member in (3, 4):
                    payload = {"action": "resolve", "proposal": 1, "winner": plan["challenge"]}
                    chain.send(now + 3, member, "dao_council", payload)
        if plan["cancel"]:
            event(f"cancel {chain.send(now + 4, 1, 'dao_cancel', {'proposal': 1}).status}")
        for member in (3, 4, 5)[: plan["approvals"]]:
            chain.send(now + 5, member, "dao_council", {"action": "approve", "proposal": 1})
        for account, support in enumerate(plan["votes"]):
            if support is not None:
                chain.send(p["vote_start"], account, "dao_vote", {"proposal": 1, "support": support})
        chain.block(p["vote_end"])
        event(f"after voting: {chain.state_of(1, p['vote_end'])}")
        chain.send(p["vote_end"], 0, "dao_queue", {"proposal": 1})
        eta = chain.proposal()["eta"]
        if eta is not None and plan["veto"]:
            for member in (3, 5):
                chain.send(p["vote_end"] + 1, member, "dao_council", {"action": "veto", "proposal": 1})
        when = (eta or p["vote_end"]) + (30 * DAY if plan["execute_late"] else 2 * DAY)
        executed = chain.send(when, 0, "dao_execute", {"proposal": 1})
        event(f"execute {executed.status} {executed.code}")
        chain.send(when, 0, "dao_reclaim_bond", {"proposal": 1})
        chain.send(when + DAY, 4, "dao_claim_grant", {"grant": 1})
        final = chain.proposal()
        if final["outcome"] in ("executed", "cancelled", "vetoed", "rejected"):
            assert final["bond_held"] == 0
