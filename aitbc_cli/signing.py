"""What every command that signs with a keystore wallet shares: its options and its password.

The daemon signs; the CLI only says with which wallet and, unless the daemon
holds that wallet unlocked (`aitbc wallet unlock`), supplies its password
(`--password-file` > $AITBC_PASSWORD > a prompt, see `secrets_input`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.secrets_input import read_password

FromWallet = Annotated[
    str, typer.Option("--from", help="Wallet that signs (an unlocked wallet needs no password).")
]
Fee = Annotated[str, typer.Option("--fee", help="Fee in AIT, paid to the block proposer.")]


def signing_password(client: Any, wallet: str, password_file: Any) -> str | None:
    """None when the daemon holds `wallet` unlocked; otherwise its password, read as scripts expect."""
    return None if client.wallet(wallet).unlocked_seconds else read_password(password_file)
