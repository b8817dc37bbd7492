"""Walk-forward evaluation: folds, a fit per fold, the naive baselines, metrics and the verdict.

The usable rows (bars with features and a target, oldest first) are cut into
folds + 1 equal consecutive segments. Fold k tests on segment k + 1 and trains on
every row before it whose target is already known when the test block starts (with
horizon h the last h - 1 rows before the block are dropped: their targets end inside
it). Within the training rows the last fifth is the validation slice for early
stopping. Features and target are standardised with the training rows' statistics.

Both baselines predict the same test rows: `zero` (a random walk: return 0; direction
the training rows' majority) and `persistence` (the last `horizon`-bar return again).
The model is compared with the better baseline on each metric, on all test rows
pooled: exact one-sided McNemar for direction, one-sided Diebold-Mariano (Harvey-
Leybourne-Newbold correction) for absolute errors. "edge" needs both p < 0.05.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from aitbc_daemon.trading.predict.features import (
    feature_names,
    features,
    targets,
    trailing_return,
    usable_rows,
)
from aitbc_daemon.trading.predict.models import MIN_SEGMENT_ROWS
from aitbc_daemon.trading.strategy import TradingInputError

SIGNIFICANCE = 0.05
VALIDATION_SHARE = 0.2
BASELINES = ("zero", "persistence")


@dataclass(frozen=True)
class Fold:
    """Row ranges [start, stop) in the usable rows: fit, then validation (early stopping), then test.

    `train` is fit + validation and what lies between them (rows whose targets end inside
    the validation slice: dropped from fitting, kept for the baselines' majority).
    """

    fit: tuple[int, int]
    validation: tuple[int, int]
    test: tuple[int, int]

    @property
    def train(self) -> tuple[int, int]:
        return self.fit[0], self.validation[1]

    def fitting_rows(self) -> np.ndarray:
        """The rows a fold's network sees: fit rows, then the validation slice."""
        return np.r_[self.fit[0] : self.fit[1], self.validation[0] : self.validation[1]]


def check_size(bars: int, lags: int, horizon: int, folds: int) -> None:
    """TradingInputError (`too_short`) unless each of the folds + 1 segments has enough rows."""
    rows = usable_rows(bars, lags, horizon)
    per_segment = MIN_SEGMENT_ROWS + 2 * (horizon - 1)  # room for the rows dropped before test and validation
    needed = per_segment * (folds + 1)
    if rows < needed:
        raise TradingInputError(
            f"{bars} bars give {rows} rows with {lags} lags and horizon {horizon}; {folds} folds need at "
            f"least {needed} ({per_segment} per segment): use more bars, fewer lags or fewer folds",
            "too_short",
        )


def split_training(stop: int, horizon: int, test: tuple[int, int]) -> Fold:
    """The fold whose training rows are [0, stop): the last fifth validates, the rest fits."""
    val = max(1, round(stop * VALIDATION_SHARE))
    return Fold((0, stop - val - horizon + 1), (stop - val, stop), test)


def make_folds(rows: int, folds: int, horizon: int) -> list[Fold]:
    """Expanding-window folds over `rows` usable rows (see the module docstring)."""
    bounds = [round(rows * k / (folds + 1)) for k in range(folds + 2)]
    out = []
    for k in range(folds):
        test = (bounds[k + 1], bounds[k + 2])
        # Row i's target ends at row i + horizon, which must not lie after the test block's first row.
        out.append(split_training(test[0] - horizon + 1, horizon, test))
    return out


def standardise(train: np.ndarray, *others: np.ndarray) -> tuple[np.ndarray, ...]:
    """Scale by the training rows' mean and std (a constant column stays 0); applied to all."""
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return tuple((a - mean) / std for a in (train, *others))


@dataclass
class Predictions:
    """Predicted values and directions (True = up) for some rows."""

    value: np.ndarray
    up: np.ndarray


def baselines(y_train: np.ndarray, trailing_test: np.ndarray) -> dict[str, Predictions]:
    """The zero-return and persistence predictions for the test rows."""
    majority_up = bool(np.mean(y_train > 0) >= 0.5)
    rows = len(trailing_test)
    return {
        "zero": Predictions(np.zeros(rows), np.full(rows, majority_up)),
        "persistence": Predictions(trailing_test, trailing_test > 0),
    }


def score(prediction: Predictions, y: np.ndarray) -> dict[str, float]:
    return {
        "accuracy": float(np.mean(prediction.up == (y > 0))),
        "mae": float(np.mean(np.abs(prediction.value - y))),
    }


def mcnemar_p(model_right: np.ndarray, base_right: np.ndarray) -> float:
    """One-sided exact McNemar: P(the model is right on this many of the rows where they differ | no edge)."""
    from scipy.stats import binomtest

    wins = int(np.sum(model_right & ~base_right))
    losses = int(np.sum(~model_right & base_right))
    if wins + losses == 0:
        return 1.0
    return float(binomtest(wins, wins + losses, 0.5, alternative="greater").pvalue)


def diebold_mariano_p(model_error: np.ndarray, base_error: np.ndarray, horizon: int) -> float:
    """One-sided Diebold-Mariano on absolute errors (model smaller), Newey-West with horizon - 1 lags."""
    from scipy.stats import t as student

    d = np.abs(base_error) - np.abs(model_error)
    n = len(d)
    centred = d - d.mean()
    variance = float(centred @ centred) / n
    for lag in range(1, horizon):
        variance += 2 * float(centred[lag:] @ centred[:-lag]) / n
    if n < 2 or variance <= 0:
        return 1.0
    statistic = d.mean() / np.sqrt(variance / n)
    statistic *= np.sqrt((n + 1 - 2 * horizon + horizon * (horizon - 1) / n) / n)  # Harvey et al. 1997
    return float(student.sf(statistic, n - 1))


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def verdict(
    rows: int,
    model: Mapping[str, float],
    base: Mapping[str, Mapping[str, float]],
    best_acc: str,
    best_mae: str,
    p_acc: float,
    p_mae: float,
) -> tuple[bool, str]:
    """(edge, the sentence): edge only if the model beats the best baseline on both metrics, p < 0.05."""
    acc_better = model["accuracy"] > base[best_acc]["accuracy"]
    mae_better = model["mae"] < base[best_mae]["mae"]
    edge = acc_better and mae_better and p_acc < SIGNIFICANCE and p_mae < SIGNIFICANCE
    figures = (
        f"directional accuracy {_pct(model['accuracy'])} vs {_pct(base[best_acc]['accuracy'])} for "
        f"{best_acc} (p={p_acc:.3g}); MAE {model['mae']:.5f} vs {base[best_mae]['mae']:.5f} for "
        f"{best_mae} (p={p_mae:.3g}); {rows:,} out-of-sample rows"
    )
    if edge:
        return True, "edge: the model beats the best naive baseline on both direction and error: " + figures
    reasons = []
    if not acc_better:
        reasons.append("its directional accuracy is no better than a naive baseline's")
    elif p_acc >= SIGNIFICANCE:
        reasons.append("its better directional accuracy could be chance")
    if not mae_better:
        reasons.append("its errors are no smaller than a naive baseline's")
    elif p_mae >= SIGNIFICANCE:
        reasons.append("its smaller errors could be chance")
    return False, "no edge: " + " and ".join(reasons) + ": " + figures


def evaluate(columns: Mapping[str, list[float]], params: Mapping[str, Any]) -> dict[str, Any]:
    """The whole evaluation for bars given as columns; returns the `PredictOut` fields but the source."""
    begun = time.perf_counter()
    lags, horizon, folds = int(params["lags"]), int(params["horizon"]), int(params["folds"])
    epochs, seed, hidden = int(params["epochs"]), int(params["seed"]), [int(w) for w in params["hidden"]]
    stamps = np.asarray(columns["timestamp"], dtype=np.int64)
    close = np.asarray(columns["close"], dtype=np.float64)
    high = np.asarray(columns["high"], dtype=np.float64)
    low = np.asarray(columns["low"], dtype=np.float64)
    check_size(len(close), lags, horizon, folds)
    from aitbc_daemon.trading.predict import model  # torch and Lightning: only once the input is good

    rows = usable_rows(len(close), lags, horizon)
    at = np.arange(lags, lags + rows)  # the bar each usable row is made at
    x_all = features(close, high, low, lags)
    x, y, trailing = x_all[at], targets(close, horizon)[at], trailing_return(close, horizon)[at]

    fold_out: list[dict[str, Any]] = []
    pooled_y, pooled_model, pooled_base = [], [], {name: [] for name in BASELINES}
    device = "cpu"
    for fold in make_folds(rows, folds, horizon):
        (t0, t1), (s0, s1) = fold.train, fold.test
        value, fitted = _fit_and_apply(model, x, y, fold, x[s0:s1], hidden, epochs, seed)
        device = fitted.device
        predicted = Predictions(value, value > 0)
        base = baselines(y[t0:t1], trailing[s0:s1])
        y_test = y[s0:s1]
        fold_out.append(
            {
                "train_start": int(stamps[at[t0]]),
                "train_end": int(stamps[at[t1 - 1]]),
                "test_start": int(stamps[at[s0]]),
                "test_end": int(stamps[at[s1 - 1]]),
                "train_rows": t1 - t0,
                "test_rows": s1 - s0,
                "up_rate": float(np.mean(y_test > 0)),
                "epochs_run": fitted.epochs_run,
                "model": score(predicted, y_test),
                **{name: score(p, y_test) for name, p in base.items()},
            }
        )
        pooled_y.append(y_test)
        pooled_model.append(predicted)
        for name, p in base.items():
            pooled_base[name].append(p)

    y_test = np.concatenate(pooled_y)
    joined = {
        name: Predictions(np.concatenate([p.value for p in ps]), np.concatenate([p.up for p in ps]))
        for name, ps in {"model": pooled_model, **pooled_base}.items()
    }
    scores = {name: score(p, y_test) for name, p in joined.items()}
    best_acc = max(BASELINES, key=lambda name: scores[name]["accuracy"])
    best_mae = min(BASELINES, key=lambda name: scores[name]["mae"])
    up = y_test > 0
    p_acc = mcnemar_p(joined["model"].up == up, joined[best_acc].up == up)
    p_mae = diebold_mariano_p(joined["model"].value - y_test, joined[best_mae].value - y_test, horizon)
    edge, sentence = verdict(len(y_test), scores["model"], scores, best_acc, best_mae, p_acc, p_mae)

    return {
        "bars": len(close),
        "first": int(stamps[0]),
        "last": int(stamps[-1]),
        "lags": lags,
        "horizon": horizon,
        "features": feature_names(lags),
        "hidden": hidden,
        "seed": seed,
        "epochs": epochs,
        "folds": fold_out,
        "test_rows": len(y_test),
        "up_rate": float(np.mean(up)),
        **scores,
        "best_accuracy_baseline": best_acc,
        "best_mae_baseline": best_mae,
        "p_accuracy": p_acc,
        "p_mae": p_mae,
        "edge": edge,
        "verdict": sentence,
        "forecast": _forecast(model, x_all, x, y, stamps, horizon, hidden, epochs, seed),
        "device": device,
        "seconds": time.perf_counter() - begun,
    }


def _fit_and_apply(
    model: Any,
    x: np.ndarray,
    y: np.ndarray,
    fold: Fold,
    x_new: np.ndarray,
    hidden: list[int],
    epochs: int,
    seed: int,
) -> tuple[np.ndarray, Any]:
    """Fit on the fold's training rows (standardised by their own statistics); predict `x_new`."""
    rows = fold.fitting_rows()
    xs_train, xs_new = standardise(x[rows], x_new)
    y_mean, y_std = float(y[rows].mean()), float(y[rows].std()) or 1.0
    val_rows = fold.validation[1] - fold.validation[0]
    fitted = model.fit(xs_train, (y[rows] - y_mean) / y_std, val_rows, hidden, epochs, seed)
    return model.apply(fitted, xs_new) * y_std + y_mean, fitted


def _forecast(
    model: Any,
    x_all: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    stamps: np.ndarray,
    horizon: int,
    hidden: list[int],
    epochs: int,
    seed: int,
) -> dict[str, Any]:
    """The model trained on every usable row, applied to the last bar's features."""
    fold = split_training(len(x), horizon, (len(x), len(x)))
    value = float(_fit_and_apply(model, x, y, fold, x_all[-1:], hidden, epochs, seed)[0][0])
    return {
        "at": int(stamps[-1]),
        "horizon": horizon,
        "log_return": value,
        "direction": "up" if value > 0 else "down",
        "note": "a forecast from the model trained on all the bars, not a measure of skill",
    }
