"""The O(1) accumulator against a brute-force, second-by-second, exact (Fraction) reference.

Random schedules of stake, unstake (early or not, penalty accepted or not),
claim and multiplier reports at random block times, on pools with small
budgets so they run dry. The chain may pay slightly less than the reference
(integer rounding), never more, and the gap is bounded by a unit per action.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.transitions import TX_OK
from aitbc_daemon.staking.accumulator import SCALE, PoolState, accrue

from .helpers import ADDRESSES, REPORTER, T0, Chain, staking_genesis

GENESIS = staking_genesis()
STAKERS = 3

op = st.tuples(
    st.sampled_from(["stake", "stake", "unstake", "claim", "claim_all", "report"]),
    st.integers(0, STAKERS - 1),  # actor (the miner, for a report)
    st.sampled_from(["flex", "locked"]),
    st.sampled_from([1, 3, 1_000, 25_000]),  # stake amount
    st.integers(0, 5),  # which of the actor's positions
    st.sampled_from([0, 0, 1, 7, 60, 299, 301, 900]),  # seconds since the previous action
    st.booleans(),  # accept the early-exit penalty
    st.sampled_from([0, 1, 3_333, 10_000]),  # multiplier_bps for a report
)


class Reference:
    """Every second, each pool pays min(rate, remaining) split exactly by weight."""

    def __init__(self) -> None:
        self.pools = {
            p.id: {
                "rate": p.reward_rate,
                "lock": p.lock_seconds,
                "bps": p.early_exit_penalty_bps,
                "remaining": Fraction(p.budget),
            }
            for p in GENESIS.staking.pools
        }
        self.positions: dict[int, dict] = {}
        self.earned = [Fraction(0)] * STAKERS  # everything accrued to each staker, claimed or not
        self.multiplier = [10_000] * STAKERS
        self.now = T0
        self.next_id = 1  # position ids count up over the whole chain

    def advance(self, to: int) -> None:
        for _ in range(self.now, to):
            for pool_id, pool in self.pools.items():
                members = [p for p in self.positions.values() if p["pool"] == pool_id]
                total = sum(p["weight"] for p in members)
                if total == 0 or pool["remaining"] == 0:
                    continue
                reward = min(pool["rate"], pool["remaining"])
                pool["remaining"] -= reward
                for p in members:
                    self.earned[p["owner"]] += Fraction(reward * p["weight"], total)
        self.now = max(self.now, to)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(op, max_size=40))
def test_accumulator_matches_the_per_second_reference(ops: list[tuple]) -> None:
    chain, ref = Chain(GENESIS), Reference()
    now = T0
    principal = [0] * STAKERS  # principal moved out of (+) and back into (-) each balance
    for kind, actor, pool_id, amount, which, dt, accept, bps in ops:
        now += dt
        ref.advance(now)
        mine = [p.id for p in chain.positions(actor)]
        position = mine[which % len(mine)] if mine else 1 + which
        if kind == "stake":
            outcome = chain.send(actor, "stake", {"pool": pool_id, "amount": amount}, now)
            if outcome.status == TX_OK:
                new_id, ref.next_id = ref.next_id, ref.next_id + 1
                weight = amount * ref.multiplier[actor] // 10_000
                ref.positions[new_id] = {
                    "owner": actor,
                    "pool": pool_id,
                    "amount": amount,
                    "weight": weight,
                    "unlock": now + ref.pools[pool_id]["lock"],
                }
                principal[actor] += amount
        elif kind == "unstake":
            payload = {"position": position, **({"accept_penalty": True} if accept else {})}
            held = ref.positions.get(position)
            outcome = chain.send(actor, "unstake", payload, now)
            # the penalty must be accepted when there is one (1 unit at 10% rounds to none)
            early = (
                held is not None
                and now < held["unlock"]
                and held["amount"] * ref.pools[held["pool"]]["bps"] >= 10_000
            )
            if held is not None and held["owner"] == actor:
                assert (outcome.status == TX_OK) == (accept or not early), outcome.reason
            if outcome.status == TX_OK:
                penalty = (
                    held["amount"] * ref.pools[held["pool"]]["bps"] // 10_000 if now < held["unlock"] else 0
                )
                ref.pools[held["pool"]]["remaining"] += penalty  # the penalty refills the budget
                principal[actor] -= held["amount"] - penalty
                del ref.positions[position]
        elif kind in ("claim", "claim_all"):
            payload = {"position": position} if kind == "claim" else {"all": True}
            chain.send(actor, "claim_rewards", payload, now)
        else:
            outcome = chain.send(
                REPORTER, "staking_report", {"miner": ADDRESSES[actor], "multiplier_bps": bps}, now
            )
            assert outcome.status == TX_OK
            ref.multiplier[actor] = bps
            for p in ref.positions.values():
                if p["owner"] == actor:
                    p["weight"] = p["amount"] * bps // 10_000
        for pool_id in ref.pools:  # the pools never owe or hold less than nothing
            pool = chain.pool(pool_id)
            assert pool.remaining >= 0 and pool.owed >= 0
    assert {p.id for a in range(STAKERS) for p in chain.positions(a)} == set(ref.positions)
    for actor in range(STAKERS):
        paid = chain.balance(actor) - (1_000_000 - principal[actor])
        earned = paid + chain.pending(actor, now)
        exact = ref.earned[actor]
        assert earned <= exact, (actor, earned, exact)
        assert exact - earned <= len(ops) + 1, (actor, earned, exact)  # a unit of rounding per action at most
    for pool_id, pool in ref.pools.items():  # what the chain has not paid out is still in the pool
        chain_pool = accrue(chain.pool(pool_id), now)
        assert chain_pool.remaining == pool["remaining"]


def test_accrue_caps_at_the_budget_and_skips_empty_pools() -> None:
    pool = PoolState("p", reward_rate=10, lock_seconds=0, penalty_bps=0, budget=25, last=0, remaining=25)
    assert accrue(pool, 100).remaining == 25  # nobody staked: nothing is spent
    staked = PoolState("p", 10, 0, 0, 25, last=0, total_weight=3, remaining=25)
    later = accrue(staked, 100)
    assert later.remaining == 0 and later.owed == 25 and later.acc == 25 * SCALE // 3
    assert accrue(later, 200) == PoolState("p", 10, 0, 0, 25, later.acc, 200, 3, 0, 25, 0)
    assert accrue(later, 50) is later  # time never goes back
