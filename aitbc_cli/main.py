"""The root `aitbc` command: global options, lazily loaded command groups, error handling.

Command groups are imported only when used (`aitbc daemon status` never loads
the wallet or trading modules), which keeps start-up close to the cost of
importing typer and httpx. Plugin command groups come from the
`aitbc.commands` entry point group and are looked up only when a name is not
built in, or when every command is listed (help, completion, `plugins list`).

Every failure ends here as one line on stderr: `CliError` and the client's and
config's errors with exit code 1, unexpected exceptions as "internal error"
(with a traceback under --verbose), usage errors with exit code 2.
"""

from __future__ import annotations

import importlib
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from aitbc_cli.output import CliError, CliState, set_state, state
from aitbc_daemon import API_VERSION, __version__

# name -> (module, one-line help). The module's `app` is a typer.Typer.
COMMAND_GROUPS: dict[str, tuple[str, str]] = {
    "quickstart": ("aitbc_cli.commands.quickstart", "Start the daemon if needed and show what to do next."),
    "daemon": ("aitbc_cli.commands.daemon", "Start, stop, inspect and follow the AITBC daemon."),
    "config": ("aitbc_cli.commands.config", "Show and initialise settings (config.toml, AITBC_* env)."),
    "wallet": ("aitbc_cli.commands.wallet", "Create, import, back up and unlock wallets; send and check balances."),
    "chain": ("aitbc_cli.commands.chain", "Chains this daemon hosts: status, create, devnet controls."),
    "staking": ("aitbc_cli.commands.staking", "Stake AIT in GPU pools, see pending rewards, claim them."),
    "dao": ("aitbc_cli.commands.dao", "Governance: proposals, votes, council, delegation, treasury."),
    "exchange": ("aitbc_cli.commands.exchange", "Trade AIT for bridged BTC: rate, buy, order book, orders, trades."),
    "agent": ("aitbc_cli.commands.agent", "Agent wallets: autonomous DAO voters with an owner and an emergency stop."),
    "explorer": ("aitbc_cli.commands.explorer", "Look up blocks, transactions and accounts."),
    "jobs": ("aitbc_cli.commands.jobs", "Submit paid AI jobs, follow them, fetch results, verify receipts."),
    "miner": ("aitbc_cli.commands.miner", "Run the one-click miner: earn AIT running AI jobs."),
    "plugins": ("aitbc_cli.commands.plugins", "List loaded plugins and those that failed to load."),
    "analytics": ("aitbc_cli.commands.analytics", "Market data (OHLCV import) and TA-Lib-exact indicators."),
    "ai-trading": ("aitbc_cli.commands.ai_trading", "Trading strategies: list, backtest (next-open fills, costs), optimise."),
    "ai-surveillance": ("aitbc_cli.commands.ai_surveillance", "Market surveillance: monitor, wash/spoofing alerts, patterns."),
}
# Other names a group answers to (not listed in help).
COMMAND_ALIASES: dict[str, str] = {"advanced-analytics": "analytics"}
# Flags that may stand anywhere on the line (`aitbc daemon status --json`); they
# are declared once, on the root, and moved there before parsing.
ANYWHERE_FLAGS = frozenset({"--json", "--quiet", "-q", "--verbose", "-v", "--yes", "-y"})


def hoist_global_flags(args: list[str]) -> list[str]:
    """Move the global flags to the front, leaving everything after `--` untouched."""
    cut = args.index("--") if "--" in args else len(args)
    flags = [arg for arg in args[:cut] if arg in ANYWHERE_FLAGS]
    rest = [arg for arg in args[:cut] if arg not in ANYWHERE_FLAGS]
    return flags + rest + args[cut:]


class AitbcGroup(TyperGroup):
    """The root group: global flags anywhere, lazy sub-groups, plugin groups, error handling."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_flags(args))

    def list_commands(self, ctx: typer.Context) -> list[str]:
        return [*COMMAND_GROUPS, *sorted(plugin_commands())]

    def get_command(self, ctx: typer.Context, cmd_name: str) -> Any:
        cmd_name = COMMAND_ALIASES.get(cmd_name, cmd_name)
        if cmd_name in COMMAND_GROUPS:
            module = importlib.import_module(COMMAND_GROUPS[cmd_name][0])
            command = typer.main.get_command(module.app)
            command.name = cmd_name
            return command
        return plugin_commands().get(cmd_name)

    def invoke(self, ctx: typer.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:  # the one place every command's failure is reported
            if _is_framework_signal(exc):
                raise
            message, exit_code, expected = _describe_failure(exc)
            typer.echo(f"error: {message}", err=True)
            if state().verbose and not expected:
                import traceback

                typer.echo(traceback.format_exc(), err=True, nl=False)
            raise typer.Exit(exit_code) from None


def _is_framework_signal(exc: Exception) -> bool:
    """Exit, abort and usage errors of Typer (or the Click under it) carry their own exit codes."""
    return type(exc).__module__.split(".")[0] in {"typer", "click"}


def plugin_commands() -> dict[str, Any]:
    from aitbc_cli.plugin_commands import load_plugin_commands

    return load_plugin_commands(reserved=frozenset(COMMAND_GROUPS))


def _describe_failure(exc: Exception) -> tuple[str, int, bool]:
    """(one-line message, exit code, whether the failure is an expected one)."""
    from aitbc_daemon.client import ClientError
    from aitbc_daemon.config import ConfigError

    if isinstance(exc, CliError):
        return str(exc), exc.exit_code, True
    if isinstance(exc, ClientError | ConfigError):
        return str(exc), 1, True
    return f"internal error: {type(exc).__name__}: {exc} (run with --verbose for the traceback)", 1, False


app = typer.Typer(
    name="aitbc",
    cls=AitbcGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"aitbc {__version__} (api {API_VERSION})")
        raise typer.Exit()


@app.callback()
def root(
    json: Annotated[bool, typer.Option("--json", help="Print one JSON document on stdout and nothing else; never prompt.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing on success (errors still go to stderr).")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="More detail, and tracebacks of unexpected errors.")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Answer yes to every confirmation.")] = False,
    chain: Annotated[
        str | None, typer.Option("--chain", help="Chain to act on (setting `chain`, default ait-devnet).", show_default=False)
    ] = None,
    socket: Annotated[
        str | None, typer.Option("--socket", help="Daemon socket to use (setting `socket`).", show_default=False)
    ] = None,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", help="Seconds to wait for each daemon answer (setting `request_timeout`).", min=0.001),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """AITBC: a personal AI-compute blockchain node in your terminal.

    --json, --quiet, --verbose and --yes may also follow any command.
    """
    set_state(
        CliState(
            json=json,
            quiet=quiet,
            verbose=verbose,
            yes=yes,
            setting_flags={"socket": socket, "request_timeout": timeout, "chain": chain},
        )
    )


def main() -> None:
    """Entry point of the `aitbc` console script."""
    app(prog_name="aitbc")


if __name__ == "__main__":
    main()
