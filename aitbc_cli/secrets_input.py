"""Reading passwords and key material without echoing them, or from files for scripts.

Order: an explicit file (`--password-file`, `-` for stdin) > the environment
variable (`AITBC_PASSWORD`) > a hidden prompt, and the prompt only when a person
is there to answer it (a terminal, no --json, no --yes). Secrets are never
printed, logged or put into error messages.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from aitbc_cli.output import CliError, state

PASSWORD_ENV = "AITBC_PASSWORD"
NEW_PASSWORD_ENV = "AITBC_NEW_PASSWORD"

PasswordFile = Annotated[
    Path | None,
    typer.Option("--password-file", help="Read the password from this file ('-' for stdin); else $AITBC_PASSWORD or a prompt."),
]


def read_secret_file(path: Path) -> str:
    """The first line of `path` (or of stdin for '-') without its newline."""
    try:
        text = sys.stdin.readline() if str(path) == "-" else path.read_text(encoding="utf-8").split("\n", 1)[0]
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None
    value = text.rstrip("\r\n")
    if not value:
        raise CliError(f"{path} is empty")
    return value


def read_password(
    password_file: Path | None,
    *,
    env: str = PASSWORD_ENV,
    prompt: str = "Password",
    confirm: bool = False,
) -> str:
    if password_file is not None:
        return read_secret_file(password_file)
    if os.environ.get(env):
        return os.environ[env]
    if not state().may_prompt:
        raise CliError(f"a password is needed: set {env}, pass a password file, or run in a terminal")
    return typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm)


def read_hidden(prompt: str) -> str:
    """A secret typed at a hidden prompt (key material): only when a person is there."""
    if not state().may_prompt:
        raise CliError("no key material given: pass a file option, or run in a terminal to type it")
    return typer.prompt(prompt, hide_input=True)
