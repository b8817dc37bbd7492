"""What every command that signs with a keystore wallet shares: its options and its password.

The daemon signs; the CLI only says with which wallet and, unless the daemon
holds that wallet unlocked (`aitbc wallet unlock`), supplies its password
(`--password-file` > $AITBC_PASSWORD > a prompt, see `secrets_input`).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from aitbc_cli.output import CliError
from aitbc_cli.secrets_input import read_password

FromWallet = Annotated[
    str, typer.Option("--from", help="Wallet that signs (an unlocked wallet needs no password).")
]
Fee = Annotated[str, typer.Option("--fee", help="Fee in AIT, paid to the block proposer.")]


def signing_password(client: Any, wallet: str, password_file: Any) -> str | None:
    """None when the daemon holds `wallet` unlocked; otherwise its password, read as scripts expect."""
    return None if client.wallet(wallet).unlocked_seconds else read_password(password_file)


def paying_wallet(client: Any, given: str | None, option: str = "--from") -> str:
    """The wallet named with `option`, or the only one there is: a payer is never guessed among several."""
    if given:
        return given
    wallets = client.wallets().wallets
    if len(wallets) == 1:
        return str(wallets[0].name)
    if not wallets:
        raise CliError("no wallet to pay from: create one with 'aitbc wallet create NAME'")
    raise CliError(f"several wallets ({', '.join(w.name for w in wallets)}): choose one with {option}")
