"""The built-in strategies read the action's content, and plugins of any documented shape load."""

from __future__ import annotations

import pytest

from aitbc_daemon.agents.strategies import (
    AgentView,
    Decision,
    ProposalView,
    as_strategy,
    available,
    follow_council,
    role_preferences,
)


def proposal(kind, action, *, approvals=0, threshold=2, current=None):
    return ProposalView(
        1,
        kind,
        "t",
        action,
        "ait1x",
        "active",
        approvals,
        threshold,
        kind in ("emergency", "protocol-upgrade"),
        current_value=current,
    )


def agent(role, threshold=0.6):
    return AgentView("a", "ait1a", role, "ait1o", threshold)


def test_providers_follow_reward_rates_and_protect_job_payments():
    up = proposal("parameter-change", {"param": "staking.gpu-30d.reward_rate", "value": 9}, current=7)
    down = proposal("parameter-change", {"param": "staking.gpu-30d.reward_rate", "value": 5}, current=7)
    assert role_preferences(up, agent("provider")).support == "for"
    assert role_preferences(down, agent("provider")).support == "against"
    pause = role_preferences(
        proposal("emergency", {"module": "job-payments", "action": "pause"}), agent("provider")
    )
    assert pause.support == "against" and pause.confidence >= 0.6 and "job payments" in pause.reason
    resume = role_preferences(
        proposal("emergency", {"module": "job-payments", "action": "resume"}), agent("provider")
    )
    assert resume.support == "for"


def test_consumers_favour_lower_fees_and_oppose_rises():
    cut = proposal("parameter-change", {"param": "chain.min_fee", "value": 1}, current=10)
    rise = proposal("parameter-change", {"param": "chain.min_fee", "value": 20}, current=10)
    assert role_preferences(cut, agent("consumer")).support == "for"
    assert role_preferences(rise, agent("consumer")).support == "against"
    unknown = proposal("parameter-change", {"param": "chain.min_fee", "value": 20})  # current value unknown
    assert role_preferences(unknown, agent("consumer")).support == "abstain"


def test_builders_favour_grants_and_upgrades():
    grant = proposal("dao-grant", {"grantee": "ait1g", "amount": 1, "vesting_seconds": 1})
    upgrade = proposal("protocol-upgrade", {"name": "v2", "height": 100})
    assert role_preferences(grant, agent("builder")).support == "for"
    assert role_preferences(upgrade, agent("builder")).support == "for"
    assert role_preferences(grant, agent("provider")).support == "abstain"


def test_coordinators_back_emergencies_the_council_approved():
    action = {"module": "exchange", "action": "pause"}
    waiting = role_preferences(proposal("emergency", action, approvals=1), agent("coordinator"))
    approved = role_preferences(proposal("emergency", action, approvals=2), agent("coordinator"))
    assert waiting.support == "abstain" and waiting.confidence < 0.6
    assert approved.support == "for" and approved.confidence >= 0.6 and "council approved" in approved.reason


def test_follow_council():
    upgrade = {"name": "v2", "height": 100}
    assert (
        follow_council(proposal("protocol-upgrade", upgrade, approvals=2), agent("builder")).support == "for"
    )
    waiting = follow_council(proposal("protocol-upgrade", upgrade, approvals=1), agent("builder"))
    assert waiting.support == "abstain" and waiting.confidence < 0.6
    treasury = follow_council(proposal("treasury", {"to": "ait1t", "amount": 1}), agent("builder"))
    assert treasury.support == "abstain" and treasury.confidence < 0.6


def test_decisions_are_checked():
    with pytest.raises(ValueError):
        Decision("maybe", 0.5, "no")
    with pytest.raises(ValueError):
        Decision("for", 1.5, "too sure")


class ClassStrategy:
    def decide(self, proposal, agent):
        return Decision("against", 1.0, "a class")


def function_strategy(proposal, agent):
    return Decision("for", 1.0, "a function")


def test_plugins_of_every_shape_and_builtins_always_there():
    found = available({"cls": ClassStrategy, "fn": function_strategy, "obj": ClassStrategy(), "junk": 42})
    assert set(found) == {"role-preferences", "follow-council", "cls", "fn", "obj"}
    view = proposal("treasury", {})
    assert found["cls"](view, agent("builder")).reason == "a class"
    assert found["fn"](view, agent("builder")).reason == "a function"
    assert as_strategy(42) is None
