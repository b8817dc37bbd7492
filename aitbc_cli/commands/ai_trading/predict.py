"""`aitbc ai-trading predict`: a small neural network's next-bar forecasts, scored walk-forward.

Thin: the daemon trains the model in a subprocess (torch, PyTorch Lightning) and
scores it against naive baselines on the same out-of-sample rows; this command parses
options, reads `--data FILE`, calls the client and renders the folds, the overall
line and the verdict. Accuracy is never shown alone: MAE, the baselines and p-values
stand beside it. See docs/trading.md.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.commands.ai_trading.app import app
from aitbc_cli.commands.ai_trading.inputs import (
    DataOption,
    FromOption,
    IntervalOption,
    SymbolOption,
    ToOption,
    source,
    when,
)
from aitbc_cli.output import CliError, emit, state, table


def _widths(text: str) -> list[int]:
    try:
        widths = [int(part) for part in text.split(",")]
    except ValueError:
        raise CliError(f"--hidden {text!r}: expected layer widths like 32,16") from None
    return widths


def _pct(value: float) -> str:
    return f"{value * 100:.1f}"


def _row(label: int | str, start: str, rows: int, up_rate: float, *scores: Any) -> tuple[Any, ...]:
    """A table row: accuracy and MAE (both in %) of the model, the zero and the persistence baselines."""
    accuracy = "/".join(f"{s.accuracy * 100:.1f}" for s in scores)
    mae = "/".join(f"{s.mae * 100:.3f}" for s in scores)
    return label, start, f"{rows:,}", _pct(up_rate), accuracy, mae


@app.command()
def predict(
    symbol: SymbolOption = None,
    data: DataOption = None,
    interval: IntervalOption = "1d",
    start: FromOption = None,
    end: ToOption = None,
    lags: Annotated[int, typer.Option("--lags", help="Lagged returns used as features (1-60).")] = 10,
    folds: Annotated[int, typer.Option("--folds", help="Walk-forward folds (1-20).")] = 5,
    epochs: Annotated[int, typer.Option("--epochs", help="Most epochs per fit (early stopping).")] = 30,
    horizon: Annotated[int, typer.Option("--horizon", help="Bars ahead to predict (1-20).")] = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seed for weights and shuffling.")] = 0,
    hidden: Annotated[str, typer.Option("--hidden", help="Hidden layer widths, comma-separated.")] = "32,16",
) -> None:
    """Train an MLP on lagged returns walk-forward; its skill against naive baselines, and a verdict."""
    body = source(symbol, data, interval, start, end) | {
        "lags": lags,
        "folds": folds,
        "epochs": epochs,
        "horizon": horizon,
        "seed": seed,
        "hidden": _widths(hidden),
    }
    with state().client(timeout=600) as client:
        result = client.predict(body)

    def render(console: Any) -> None:
        console.print(
            f"{result.source}, {result.bars:,} bars, {when(result.first)} to {when(result.last)}; "
            f"MLP {'-'.join(map(str, result.hidden))} on {len(result.features)} features "
            f"({result.lags} lagged returns, volatility, range); horizon {result.horizon} bar(s), "
            f"seed {result.seed}",
            highlight=False,
        )
        rows = [
            _row(i + 1, when(f.test_start), f.test_rows, f.up_rate, f.model, f.zero, f.persistence)
            for i, f in enumerate(result.folds)
        ]
        rows.append(
            _row("all", "", result.test_rows, result.up_rate, result.model, result.zero, result.persistence)
        )
        headers = ["fold", "test from", "rows", "up %", "accuracy % model/zero/pers", "MAE % model/zero/pers"]
        title = "walk-forward, out of sample: direction accuracy and MAE of the log return (in %)"
        console.print(table(headers, rows, title=title))
        console.print(
            "baselines: zero = return 0, direction of the training rows' majority; "
            "persistence = the last return again",
            highlight=False,
        )
        console.print(result.verdict, highlight=False)
        f = result.forecast
        console.print(
            f"forecast for {f.horizon} bar(s) after {when(f.at)}: log return {f.log_return:+.5f} "
            f"({f.direction}); the model refit on all bars: a forecast, not a measure of skill",
            highlight=False,
        )
        epochs = ", ".join(str(f.epochs_run) for f in result.folds)
        console.print(
            f"epochs run per fold (early stopping, at most {result.epochs}): {epochs}; "
            f"{result.device}, {result.seconds:.1f} s",
            highlight=False,
        )

    emit(result, render)
