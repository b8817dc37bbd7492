"""Detector-agnostic metrics for the surveillance benchmark: never accuracy alone.

Manipulation is rare, so accuracy says nothing (flagging nobody scores ~99%).
For each manipulation type this module reports, from (events, labels, alerts):

- wallet level: every wallet that appeared is one sample, positive when it
  belongs to an episode of that type; its score is the highest score of the
  alerts of that type naming it (0 when none). Base rate, precision, recall and
  F1 treat "named by an alert" as the prediction; PR-AUC
  (`sklearn.metrics.average_precision_score`) and recall at 1% false-positive
  rate use the scores.
- episode level: an episode counts as caught when an alert of its type names
  one of its wallets at a time within [start, end + grace]; the detection
  latency is the time from the episode's last manipulative trade to that first
  alert (negative when it fired before the episode was over).
- across seeds: the mean of each metric with a Student-t confidence interval
  (`mean_ci`); metrics that are undefined for a seed (no positives, no alerts)
  are NaN there and left out of that metric's mean.

`scored_metrics` works for any unit (wallets, trades, orders): build the
label and score arrays for the unit and call it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping, Sequence

import numpy as np
from scipy import stats
from sklearn.metrics import average_precision_score, roc_curve

from aitbc_daemon.surveillance.simulation.events import Event
from aitbc_daemon.surveillance.simulation.labels import MANIPULATION_TYPES, Episode

DEFAULT_GRACE_S = 60.0
_UNIT_INTERVAL = frozenset(
    {"base_rate", "precision", "recall", "f1", "pr_auc", "recall_at_1pct_fpr", "episode_recall"}
)
METRICS = (
    "base_rate",
    "precision",
    "recall",
    "f1",
    "pr_auc",
    "recall_at_1pct_fpr",
    "episode_recall",
    "median_latency_s",
)


@dataclass(frozen=True, slots=True)
class Alert:
    """What any detector reports: the type it suspects, the wallets it names, when, how sure."""

    detector: str
    type: str
    wallets: tuple[str, ...]
    time: float
    score: float = 1.0


def binary_metrics(y_true: Sequence[int], y_pred: Sequence[int]) -> dict[str, float]:
    """Base rate, precision, recall, F1 of hard predictions; NaN where the ratio is undefined."""
    y = np.asarray(y_true, dtype=bool)
    p = np.asarray(y_pred, dtype=bool)
    tp = int(np.sum(y & p))
    n_pred, n_pos = int(p.sum()), int(y.sum())
    precision = tp / n_pred if n_pred else math.nan
    recall = tp / n_pos if n_pos else math.nan
    if math.isnan(precision) or math.isnan(recall):
        f1 = math.nan
    else:
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    base_rate = n_pos / len(y) if len(y) else math.nan
    return {"base_rate": base_rate, "precision": precision, "recall": recall, "f1": f1}


def pr_auc(y_true: Sequence[int], scores: Sequence[float]) -> float:
    """Average precision (area under the precision-recall curve); NaN without positives."""
    y = np.asarray(y_true, dtype=int)
    if y.sum() == 0:
        return math.nan
    return float(average_precision_score(y, np.asarray(scores, dtype=float)))


def recall_at_fpr(y_true: Sequence[int], scores: Sequence[float], max_fpr: float = 0.01) -> float:
    """The best recall of any score threshold whose false-positive rate is at most `max_fpr`.

    Ties are never split: a threshold flags every sample with a score at or above it.
    """
    y = np.asarray(y_true, dtype=int)
    if y.sum() == 0 or y.sum() == len(y):
        return math.nan
    fpr, tpr, _ = roc_curve(y, np.asarray(scores, dtype=float), drop_intermediate=False)
    return float(tpr[fpr <= max_fpr + 1e-12].max())


def scored_metrics(y_true: Sequence[int], scores: Sequence[float]) -> dict[str, float]:
    """All sample-level metrics for one unit; a sample is predicted positive when its score is > 0."""
    s = np.asarray(scores, dtype=float)
    out = binary_metrics(y_true, s > 0)
    out["pr_auc"] = pr_auc(y_true, s)
    out["recall_at_1pct_fpr"] = recall_at_fpr(y_true, s, 0.01)
    return out


def wallet_samples(
    wallets: Iterable[str], episodes: Sequence[Episode], alerts: Sequence[Alert], kind: str
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(wallets, labels, scores) for one manipulation type: one sample per wallet that appeared."""
    names = list(dict.fromkeys(wallets))
    positive = {w for ep in episodes if ep.type == kind for w in ep.wallets}
    best: dict[str, float] = {}
    for a in alerts:
        if a.type == kind:
            for w in a.wallets:
                best[w] = max(best.get(w, 0.0), a.score)
    y = np.array([int(w in positive) for w in names], dtype=int)
    s = np.array([best.get(w, 0.0) for w in names], dtype=float)
    return names, y, s


def episode_detection(
    episodes: Sequence[Episode], alerts: Sequence[Alert], kind: str, grace_s: float = DEFAULT_GRACE_S
) -> list[tuple[str, bool, float]]:
    """Per episode of `kind`: (episode id, caught, latency in seconds or NaN)."""
    out = []
    for ep in episodes:
        if ep.type != kind:
            continue
        members = set(ep.wallets)
        hits = [
            a.time
            for a in alerts
            if a.type == kind and ep.start <= a.time <= ep.end + grace_s and members.intersection(a.wallets)
        ]
        if not hits:
            out.append((ep.episode_id, False, math.nan))
            continue
        anchor = ep.last_trade_time if ep.last_trade_time is not None else ep.end
        out.append((ep.episode_id, True, min(hits) - anchor))
    return out


def evaluate_run(
    wallets: Iterable[str],
    episodes: Sequence[Episode],
    alerts: Sequence[Alert],
    grace_s: float = DEFAULT_GRACE_S,
    kinds: Sequence[str] = MANIPULATION_TYPES,
) -> dict[str, dict[str, float]]:
    """Every metric of one run (one seed), per manipulation type."""
    wallets = list(wallets)
    out: dict[str, dict[str, float]] = {}
    for kind in kinds:
        _, y, s = wallet_samples(wallets, episodes, alerts, kind)
        m = scored_metrics(y, s)
        det = episode_detection(episodes, alerts, kind, grace_s)
        m["episode_recall"] = sum(c for _, c, _ in det) / len(det) if det else math.nan
        lat = [x for _, c, x in det if c]
        m["median_latency_s"] = float(np.median(lat)) if lat else math.nan
        out[kind] = m
    return out


def mean_ci(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean, low, high, n) over seeds, NaNs left out; a Student-t interval (NaN bounds for n < 2)."""
    v = np.asarray([x for x in values if not math.isnan(x)], dtype=float)
    n = len(v)
    if n == 0:
        return (math.nan, math.nan, math.nan, 0)
    mean = float(v.mean())
    if n < 2:
        return (mean, math.nan, math.nan, 1)
    half = float(stats.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return (mean, mean - half, mean + half, n)


Detector = Callable[[list[Event]], list[Alert]]


def evaluate(
    detectors: Mapping[str, Detector],
    seeds: Sequence[int],
    config=None,
    grace_s: float = DEFAULT_GRACE_S,
) -> list[dict]:
    """Run every detector on the simulated market of every seed; one row per (detector, type, metric)."""
    from dataclasses import replace

    from aitbc_daemon.surveillance.simulation.market import SimConfig, simulate

    base = config or SimConfig()
    per: dict[tuple[str, str, str], list[float]] = {}
    for seed in seeds:
        result = simulate(replace(base, seed=seed))
        for name, detect in detectors.items():
            run = evaluate_run(result.wallets, result.episodes, detect(result.events), grace_s)
            for kind, metrics in run.items():
                for metric, value in metrics.items():
                    per.setdefault((name, kind, metric), []).append(value)
    rows = []
    for (name, kind, metric), values in per.items():
        mean, lo, hi, n = mean_ci(values)
        if metric in _UNIT_INTERVAL and n > 1:  # a t-interval can leave [0, 1]; the metric cannot
            lo, hi = max(lo, 0.0), min(hi, 1.0)
        rows.append(
            {"detector": name, "type": kind, "metric": metric, "mean": mean, "low": lo, "high": hi, "n": n}
        )
    return rows


def format_table(rows: Sequence[dict]) -> str:
    """A plain text table: one line per detector and type, each metric as mean [low, high]."""

    def cell(r: dict | None) -> str:
        if r is None or math.isnan(r["mean"]):
            return "n/a"
        if math.isnan(r["low"]):
            return f"{r['mean']:.3f}"
        return f"{r['mean']:.3f} [{r['low']:.3f}, {r['high']:.3f}]"

    index = {(r["detector"], r["type"], r["metric"]): r for r in rows}
    keys = list(dict.fromkeys((r["detector"], r["type"]) for r in rows))
    lines = ["detector\ttype\t" + "\t".join(METRICS)]
    for det, kind in keys:
        lines.append(f"{det}\t{kind}\t" + "\t".join(cell(index.get((det, kind, m))) for m in METRICS))
    return "\n".join(lines)
