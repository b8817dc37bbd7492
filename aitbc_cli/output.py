"""The CLI's conventions in one place, so no command repeats them.

- `--json`: exactly one JSON document on stdout and nothing else there; never prompt.
- `--quiet`: no human output on success; errors still go to stderr.
- `--verbose`: tracebacks for unexpected errors, extra detail where a command has it.
- `--yes`: answer yes to confirmations (also implied by --json and by no TTY).
- Errors: one line on stderr and exit 1, raised as `CliError` from anywhere.

Rich is imported only when a human-readable rendering is printed, which keeps
`--json` calls (scripts, CI) on the fast path.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import typer

from aitbc_daemon.config import Settings, load_settings

if TYPE_CHECKING:
    from rich.console import Console

    from aitbc_daemon.client import Client


class CliError(Exception):
    """A failure to report as one line on stderr, with `exit_code` (1 unless said otherwise)."""

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class CliState:
    """Global options of one invocation, set wherever on the command line they appear."""

    json: bool = False
    quiet: bool = False
    verbose: bool = False
    yes: bool = False
    setting_flags: dict[str, Any] = field(default_factory=dict)
    _settings: Settings | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.setting_flags)
        return self._settings

    def client(self, timeout: float | None = None) -> Client:
        """A client of this invocation's daemon; `timeout` raises the per-answer limit for slow calls."""
        from aitbc_daemon.client import Client

        return Client(
            self.settings.socket_path,
            timeout=max(timeout, self.settings.request_timeout) if timeout else self.settings.request_timeout,
            on_version_mismatch=self._warn_version_mismatch,
        )

    def _warn_version_mismatch(self, daemon_api: str) -> None:
        from aitbc_daemon import API_VERSION

        warn(
            f"the daemon speaks API version {daemon_api}, this CLI speaks {API_VERSION}; "
            "restart the daemon after upgrading (aitbc daemon stop && aitbc daemon start)"
        )

    @property
    def may_prompt(self) -> bool:
        return not (self.json or self.yes) and sys.stdin.isatty()


_current_state: ContextVar[CliState] = ContextVar("aitbc_cli_state")


def state() -> CliState:
    """The current invocation's options (set by the root callback before any command runs)."""
    try:
        return _current_state.get()
    except LookupError:
        fresh = CliState()
        _current_state.set(fresh)
        return fresh


def set_state(new_state: CliState) -> None:
    _current_state.set(new_state)


def to_jsonable(data: Any) -> Any:
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        return dataclasses.asdict(data)
    if isinstance(data, list):
        return [to_jsonable(item) for item in data]
    if isinstance(data, dict):
        return {key: to_jsonable(value) for key, value in data.items()}
    return data


def emit(data: Any, human: Callable[[Console], None] | str | None = None) -> None:
    """Print a command's result: `data` as JSON with --json, else `human` for people."""
    current = state()
    if current.json:
        sys.stdout.write(json.dumps(to_jsonable(data), indent=2) + "\n")
        return
    if current.quiet or human is None:
        return
    console = stdout_console()
    if isinstance(human, str):
        console.print(human, highlight=False)
    else:
        human(console)


def emit_line(data: Any, human: str) -> None:
    """One item of a stream (logs -f, events): a JSON line with --json, else a line of text."""
    if state().json:
        sys.stdout.write(json.dumps(to_jsonable(data)) + "\n")
    else:
        sys.stdout.write(human + "\n")
    sys.stdout.flush()


def stdout_console() -> Console:
    from rich.console import Console

    return Console(soft_wrap=True)


def warn(message: str) -> None:
    if not state().quiet:
        typer.echo(f"warning: {message}", err=True)


def confirm_destructive(question: str) -> None:
    """Ask before something that cannot be undone; without a person to ask, demand --yes."""
    current = state()
    if current.yes:
        return
    if not current.may_prompt:
        raise CliError(f"not confirmed ({question.split('?')[0]}?); pass --yes to go ahead")
    if not typer.confirm(question, default=False):
        raise CliError("cancelled")


def key_value_table(rows: Iterable[tuple[str, Any]]) -> Any:
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, "-" if value is None else str(value))
    return table


def table(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str | None = None) -> Any:
    from rich.table import Table

    result = Table(title=title, title_justify="left")
    for column in columns:
        result.add_column(column, overflow="fold")  # addresses and hashes wrap, never lose characters
    for row in rows:
        result.add_row(*("-" if cell is None else str(cell) for cell in row))
    return result
