"""`btc_transfer` (how a bot's owner funds it with bridged BTC and gets it back): over random
transfer sequences BTC is conserved, each transfer moves exactly its amount or fails changing
nothing, and bad payloads are refused."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aitbc_daemon.chain.errors import InvalidPayload
from aitbc_daemon.chain.txtypes import get_tx_type
from tests.exchange.helpers import ADDRESSES, BTC, ExchangeChain, check_btc_conserved

ACCOUNT = st.integers(0, 5)
TRANSFER = st.tuples(
    ACCOUNT, ACCOUNT, st.one_of(st.integers(1, 1_000), st.integers(1, 3).map(lambda n: n * BTC))
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TRANSFER, min_size=1, max_size=15))
def test_random_btc_transfers_conserve_bridged_btc(transfers):
    with tempfile.TemporaryDirectory() as tmp:
        chain = ExchangeChain(Path(tmp) / "t.sqlite")
        chain.deposit(1, 2 * BTC)
        chain.deposit(2, 500)
        for sender, to, amount in transfers:
            before = [chain.btc(a) for a in range(6)]
            status = chain.do(sender, "btc_transfer", {"to": ADDRESSES[to], "amount": amount})
            after = [chain.btc(a) for a in range(6)]
            if before[sender] < amount:
                assert status.status == "failed" and status.code == "insufficient_funds"
                assert after == before
            else:
                assert status.status == "included", status
                expected = list(before)
                expected[sender] -= amount
                expected[to] += amount
                assert after == expected
            check_btc_conserved(chain.node.state)
        assert sum(chain.btc(a) for a in range(6)) == 2 * BTC + 500


@pytest.mark.parametrize(
    "payload",
    [{"to": ADDRESSES[1]}, {"to": "ait1nope", "amount": 1}, {"to": ADDRESSES[1], "amount": 0}, {"amount": 5}],
)
def test_bad_btc_transfer_payloads_are_refused(payload):
    with pytest.raises(InvalidPayload):
        get_tx_type("btc_transfer").validate_payload(payload)


def test_an_agents_btc_transfer_counts_against_the_agent_trading_limits(tmp_path):
    """At its AIT value at the rate (default 1 BTC = 100,000 AIT): 0.001 BTC is 100 AIT."""
    from tests.agents.helpers import AGENTS, AgentChain
    from tests.dao.test_params_effects import enact, execute
    from tests.exchange.helpers import exchange_genesis

    chain = AgentChain(tmp_path / "agents.sqlite", exchange_genesis())
    chain.register(chain.now + 1, 0, "trader", owner=1)
    chain.send(chain.now + 1, 0, "btc_deposit", {"to": AGENTS[0], "amount": BTC})
    proposal = enact(chain, "agent-trading", {"max_order": 100 * 10**6, "max_daily_volume": 150 * 10**6})
    execute(chain, proposal)
    day = (chain.now // 86_400 + 1) * 86_400
    send = {"to": ADDRESSES[2]}
    over = chain.agent_send(day, 0, "btc_transfer", {**send, "amount": BTC // 1000 + 1000})
    assert over.code == "agent_trading_limit" and "max_order" in over.reason
    assert chain.agent_send(day + 1, 0, "btc_transfer", {**send, "amount": BTC // 1000}).status == "included"
    beyond = chain.agent_send(day + 2, 0, "btc_transfer", {**send, "amount": BTC // 1000})
    assert beyond.code == "agent_trading_limit" and "max_daily_volume" in beyond.reason
    back = {"to": AGENTS[0], "amount": BTC // 1000}  # people (and what an agent receives): no limit
    assert chain.send(day + 3, 2, "btc_transfer", back).status == "included"
