"""Over random agent activity, supply is conserved (checked after every block by the chain helper),
a stopped agent never loses funds, and reputation counters never go down."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import ChainError
from tests.dao.helpers import ADDRESSES, T0, UNIT

from .helpers import AGENTS, AgentChain

AGENT = st.integers(0, 2)
ACCOUNT = st.integers(0, 5)
ACTIONS = st.one_of(
    st.tuples(st.just("register"), AGENT, st.sampled_from(["provider", "consumer", "coordinator"]), ACCOUNT),
    st.tuples(st.just("fund"), ACCOUNT, AGENT, st.integers(1, 1_000)),
    st.tuples(st.just("spend"), AGENT, ACCOUNT, st.integers(1, 500)),
    st.tuples(st.just("stop"), ACCOUNT, AGENT),
    st.tuples(st.just("start"), ACCOUNT, AGENT),
    st.tuples(st.just("self_start"), AGENT),
    st.tuples(st.just("lock"), AGENT, AGENT, st.integers(1, 100)),
    st.tuples(st.just("release"), AGENT, AGENT, st.integers(0, 20)),
)


def run(chain, step, action, escrows):
    kind, now = action[0], T0 + 10 * (step + 1)
    if kind == "register":
        return chain.register(now, action[1], action[2], owner=action[3])
    if kind == "fund":
        return chain.try_send(
            now, action[1], "transfer", {"to": AGENTS[action[2]], "amount": action[3] * UNIT}
        )
    if kind in ("stop", "start"):
        return chain.try_send(now, action[1], f"agent_{kind}", {"agent": AGENTS[action[2]]})
    if kind == "self_start":
        return chain.agent_send(now, action[1], "agent_start", {"agent": AGENTS[action[1]]})
    if kind == "spend":
        payload = {"to": ADDRESSES[action[2]], "amount": action[3] * UNIT}
    elif kind == "lock":
        escrow_id = f"job-{len(escrows)}"
        escrows.append(escrow_id)
        payload = {"escrow_id": escrow_id, "amount": action[3] * UNIT, "arbiter": AGENTS[action[2]]}
    else:  # release: the escrow's arbiter (if it is this agent) pays another agent
        if not escrows:
            return None
        payload = {"escrow_id": escrows[action[3] % len(escrows)], "to": AGENTS[action[2]]}
    tx_type = {"spend": "transfer", "lock": "escrow_lock", "release": "escrow_release"}[kind]
    tx = chain.agent_tx(action[1], tx_type, payload)
    try:
        chain.node.check_tx(tx)
    except ChainError:  # e.g. it overdraws: the mempool refuses it and no block is made
        chain.agent_nonces[action[1]] -= 1
        return None
    return chain._mine_one(now, tx)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(ACTIONS, min_size=5, max_size=40))
def test_random_agent_activity_conserves_supply(actions):
    with tempfile.TemporaryDirectory() as tmp:
        chain = AgentChain(Path(tmp) / "p.sqlite")
        escrows: list[str] = []
        seen = [chain.counters(i) for i in range(3)]
        for step, action in enumerate(actions):
            records = [chain.node.state.kv_get("agents", f"agent:{a}") for a in AGENTS]
            balances = [chain.node.state.balance(a) for a in AGENTS]
            run(chain, step, action, escrows)  # the helper checks circulating == issued at every block
            for i, record in enumerate(records):
                if record is not None and record["stopped"]:
                    assert chain.node.state.balance(AGENTS[i]) >= balances[i]
                counters = chain.counters(i)
                assert all(counters[k] >= seen[i][k] for k in counters)
                seen[i] = counters
