"""The `aitbc ai-trading` Typer group, which each command module of the package registers on."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Trading strategies, backtests, optimisation, predictions, portfolios, risk and live bots.",
    no_args_is_help=True,
)
