"""The benchmark metrics: hand-made cases checked against hand computation, and seeds narrowing the CI."""

from __future__ import annotations

import math

import pytest

from aitbc_daemon.surveillance.evaluation import (
    METRICS,
    Alert,
    binary_metrics,
    episode_detection,
    evaluate,
    evaluate_run,
    format_table,
    mean_ci,
    pr_auc,
    recall_at_fpr,
)
from aitbc_daemon.surveillance.simulation import SimConfig
from aitbc_daemon.surveillance.simulation.events import Trade
from aitbc_daemon.surveillance.simulation.labels import Episode


def test_binary_metrics_by_hand():
    # 10 samples, 3 positives; 4 flagged of which 2 are right
    y = [1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
    p = [1, 1, 0, 1, 1, 0, 0, 0, 0, 0]
    m = binary_metrics(y, p)
    assert m["base_rate"] == pytest.approx(0.3)
    assert m["precision"] == pytest.approx(0.5)
    assert m["recall"] == pytest.approx(2 / 3)
    assert m["f1"] == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))


def test_binary_metrics_undefined_is_nan_not_zero_or_one():
    m = binary_metrics([1, 0, 0], [0, 0, 0])  # no alert at all
    assert math.isnan(m["precision"]) and m["recall"] == 0.0 and math.isnan(m["f1"])
    assert math.isnan(binary_metrics([0, 0], [1, 0])["recall"])


def test_pr_auc_by_hand():
    # ranked: + (P=1, R=.5), - , + (P=2/3, R=1), -  ->  AP = .5 * 1 + .5 * 2/3
    assert pr_auc([1, 0, 1, 0], [0.9, 0.8, 0.7, 0.1]) == pytest.approx(0.5 + 0.5 * 2 / 3)
    assert math.isnan(pr_auc([0, 0], [0.3, 0.1]))


def test_recall_at_one_percent_fpr_by_hand():
    negatives = [0.95] + [0.1] * 99  # one negative above the positives' lower half: FPR 1% is allowed
    positives = [0.99] * 5 + [0.9] * 5
    y = [0] * 100 + [1] * 10
    assert recall_at_fpr(y, negatives + positives, 0.01) == pytest.approx(1.0)
    negatives = [0.95, 0.95] + [0.1] * 98  # two negatives above: reaching the 0.9 positives costs FPR 2%
    assert recall_at_fpr(y, negatives + positives, 0.01) == pytest.approx(0.5)


def test_recall_at_fpr_never_splits_ties():
    # a positive tied with a negative cannot be taken without the negative (FPR 50% here)
    assert recall_at_fpr([1, 0], [0.5, 0.5], 0.01) == 0.0


def _episodes():
    return [
        Episode("e1", "wash", "circular", ("a", "b"), start=100.0, end=200.0, last_trade_time=190.0),
        Episode("e2", "wash", "self_trade", ("c",), start=300.0, end=400.0, last_trade_time=380.0),
        Episode("e3", "spoofing", "layering", ("d",), start=500.0, end=600.0, last_trade_time=590.0),
    ]


def test_episode_detection_window_grace_type_and_latency():
    alerts = [
        Alert("x", "wash", ("z", "b"), 205.0),  # names a ring member, in the grace period: caught, latency 15
        Alert("x", "wash", ("a",), 195.0),  # earlier one for e1: latency 5 (the first alert counts)
        Alert("x", "wash", ("c",), 470.0),  # after end + grace (400 + 60): not caught
        Alert("x", "wash", ("d",), 550.0),  # wrong type for the spoofing episode
    ]
    got = episode_detection(_episodes(), alerts, "wash", grace_s=60)
    assert got[0] == ("e1", True, pytest.approx(5.0))
    assert got[1][:2] == ("e2", False) and math.isnan(got[1][2])
    assert episode_detection(_episodes(), alerts, "spoofing")[0][1] is False


def test_evaluate_run_by_hand():
    wallets = ["a", "b", "c", "d", "n1", "n2", "n3", "n4", "n5", "n6"]
    alerts = [
        Alert("x", "wash", ("a",), 150.0, score=0.9),
        Alert("x", "wash", ("n1",), 150.0, score=0.8),
        Alert("x", "wash", ("c",), 390.0, score=0.4),
        Alert("x", "spoofing", ("d",), 560.0, score=0.7),
    ]
    out = evaluate_run(wallets, _episodes(), alerts, grace_s=60)
    w = out["wash"]
    assert w["base_rate"] == pytest.approx(0.3)
    assert w["precision"] == pytest.approx(2 / 3)
    assert w["recall"] == pytest.approx(2 / 3)
    # ranked: a(+) n1(-) c(+), then b(+) tied with the 6 negatives at 0: AP = 1/3*1 + 1/3*2/3 + 1/3*3/10
    assert w["pr_auc"] == pytest.approx(1 / 3 + 2 / 9 + 1 / 10)
    assert w["recall_at_1pct_fpr"] == pytest.approx(1 / 3)  # 7 negatives: any false positive is > 1%
    assert w["episode_recall"] == pytest.approx(1.0)
    assert w["median_latency_s"] == pytest.approx(((150 - 190) + (390 - 380)) / 2)
    s = out["spoofing"]
    assert (s["precision"], s["recall"], s["episode_recall"], s["median_latency_s"]) == (1.0, 1.0, 1.0, -30.0)
    p = out["pump_and_dump"]  # no episode of that type in this run: undefined, never a flattering 0 or 1
    assert math.isnan(p["recall"]) and math.isnan(p["pr_auc"]) and math.isnan(p["episode_recall"])
    assert "accuracy" not in w


def test_mean_ci_by_hand():
    mean, lo, hi, n = mean_ci([1.0, 2.0, 3.0, math.nan])
    half = 4.302652729911275 * 1.0 / math.sqrt(3)  # t(0.975, 2) * sd / sqrt(n)
    assert (mean, n) == (2.0, 3)
    assert (lo, hi) == (pytest.approx(2 - half), pytest.approx(2 + half))
    assert math.isnan(mean_ci([5.0])[1])


def self_trade_baseline(events):
    """Exercise the metrics only: flag every self-trade as wash. Not a detector to tune."""
    return [
        Alert("self_trade", "wash", (e.buyer,), e.time)
        for e in events
        if isinstance(e, Trade) and e.buyer == e.seller
    ]


def test_confidence_interval_narrows_with_more_seeds():
    config = SimConfig(duration_s=600)

    def width(seeds):
        rows = evaluate({"self_trade": self_trade_baseline}, seeds, config)
        r = next(r for r in rows if r["type"] == "wash" and r["metric"] == "median_latency_s")
        assert r["n"] == len(seeds)
        return r["high"] - r["low"], rows

    few, _ = width(range(3))
    many, rows = width(range(12))
    assert many < few
    table = format_table(rows)
    assert table.splitlines()[0].split("\t")[2:] == list(METRICS)
    assert any(line.startswith("self_trade\twash\t") for line in table.splitlines())
