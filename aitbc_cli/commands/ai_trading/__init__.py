"""`aitbc ai-trading`: one module per family of commands, each registering on one Typer app.

Importing a module registers its commands; `main.py` loads this package only when
`ai-trading` is typed.
"""

from aitbc_cli.commands.ai_trading import (
    backtest,  # noqa: F401  (registers its commands)
    bots,  # noqa: F401  (registers its commands)
    portfolio,  # noqa: F401  (registers its commands)
    predict,  # noqa: F401  (registers its command)
    sweeps,  # noqa: F401  (registers `sweep`)
)
from aitbc_cli.commands.ai_trading.app import app

__all__ = ["app"]
