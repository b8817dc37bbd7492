"""`aitbc dao`: propose, vote, queue and execute governance proposals; council; delegation (docs/dao.md)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from aitbc_cli.amounts_input import shown, units_from_text
from aitbc_cli.output import CliError, emit, state, table
from aitbc_cli.secrets_input import PasswordFile
from aitbc_cli.signing import Fee, FromWallet, signing_password

app = typer.Typer(help="Governance: proposals, votes, council, delegation, treasury.", no_args_is_help=True)
council_app = typer.Typer(
    help="Council multisig: approve, veto, resolve challenges, pause the DAO.", no_args_is_help=True
)
app.add_typer(council_app, name="council")

ProposalId = Annotated[int, typer.Argument(help="Proposal id (see 'aitbc dao list').", min=1)]
TYPES = (
    "parameter-change",
    "protocol-upgrade",
    "treasury",
    "emergency",
    "agent-trading",
    "dao-grant",
)


def _chain() -> str:
    return state().settings.chain


def _utc(timestamp: int | None) -> str:
    if timestamp is None:
        return "-"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _send(from_: str, tx_type: str, payload: dict[str, Any], fee: str, password_file: Any, what: str) -> None:
    fee_units = units_from_text(fee, allow_zero=True)
    with state().client() as client:
        password = signing_password(client, from_, password_file)
        result = client.dao_transact(
            from_,
            chain=_chain(),
            tx_type=tx_type,
            payload=payload,
            fee=fee_units,
            password=password,
        )
    where = f" in block {result.height}" if result.height else ""
    reason = f" ({result.reason})" if result.reason else ""
    opened = f" as proposal {result.proposal}" if result.proposal else ""
    emit(result, f"{what}{opened}: {result.status}{where}{reason}\n  tx {result.hash}")


def _need(value: Any, option: str, kind: str) -> Any:
    if value is None:
        raise CliError(f"a {kind} proposal needs {option}")
    return value


@app.command()
def propose(
    type_: Annotated[str, typer.Option("--type", "-t", help=f"One of: {', '.join(TYPES)}.")],
    title: Annotated[str, typer.Option("--title", help="What the proposal does, in a line.")],
    from_: FromWallet,
    to: Annotated[str | None, typer.Option("--to", help="treasury: the recipient.")] = None,
    amount: Annotated[str | None, typer.Option("--amount", help="treasury, dao-grant: AIT.")] = None,
    param: Annotated[
        str | None,
        typer.Option(
            "--param",
            help="parameter-change: e.g. dao.quorum_bps, chain.min_fee, staking.gpu-30d.lock_seconds "
            "(see 'dao params').",
        ),
    ] = None,
    value: Annotated[
        int | None,
        typer.Option(
            "--value",
            help="parameter-change: the new integer value (units for rates; dao.council: the threshold).",
        ),
    ] = None,
    members: Annotated[
        str | None,
        typer.Option("--members", help="parameter-change of dao.council: the new members, comma-separated."),
    ] = None,
    grantee: Annotated[str | None, typer.Option("--grantee", help="dao-grant: who receives it.")] = None,
    vesting_days: Annotated[
        float | None, typer.Option("--vesting-days", help="dao-grant: linear vesting.")
    ] = None,
    module: Annotated[
        str | None,
        typer.Option("--module", help="emergency: exchange, staking-withdrawals, job-payments."),
    ] = None,
    pause: Annotated[
        bool | None, typer.Option("--pause/--resume", help="emergency: pause or resume.")
    ] = None,
    name: Annotated[str | None, typer.Option("--name", help="protocol-upgrade: the upgrade's name.")] = None,
    height: Annotated[
        int | None, typer.Option("--height", help="protocol-upgrade: activation height.")
    ] = None,
    max_order: Annotated[
        str | None, typer.Option("--max-order", help="agent-trading: AIT per order.")
    ] = None,
    max_daily_volume: Annotated[
        str | None, typer.Option("--max-daily-volume", help="agent-trading: AIT per day.")
    ] = None,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Open a proposal (needs 1,000 AIT of voting power; locks a 1,000 AIT bond)."""
    kind = type_
    if kind == "treasury":
        action: dict[str, Any] = {
            "to": _need(to, "--to", kind),
            "amount": units_from_text(_need(amount, "--amount", kind)),
        }
    elif kind == "dao-grant":
        action = {
            "grantee": _need(grantee, "--grantee", kind),
            "amount": units_from_text(_need(amount, "--amount", kind)),
            "vesting_seconds": max(1, int(_need(vesting_days, "--vesting-days", kind) * 86400)),
        }
    elif kind == "parameter-change" and param == "dao.council":
        council = [m.strip() for m in _need(members, "--members", "dao.council").split(",") if m.strip()]
        action = {"param": param, "value": {"members": council, "threshold": _need(value, "--value", kind)}}
    elif kind == "parameter-change":
        action = {"param": _need(param, "--param", kind), "value": _need(value, "--value", kind)}
    elif kind == "emergency":
        action = {
            "module": _need(module, "--module", kind),
            "action": "pause" if _need(pause, "--pause or --resume", kind) else "resume",
        }
    elif kind == "protocol-upgrade":
        action = {"name": _need(name, "--name", kind), "height": _need(height, "--height", kind)}
    elif kind == "agent-trading":
        action = {
            "max_order": units_from_text(_need(max_order, "--max-order", kind)),
            "max_daily_volume": units_from_text(_need(max_daily_volume, "--max-daily-volume", kind)),
        }
    else:
        raise CliError(f"--type must be one of {', '.join(TYPES)}")
    _send(
        from_,
        "dao_propose",
        {"type": kind, "title": title, "action": action},
        fee,
        password_file,
        f"proposed {kind}",
    )


@app.command("list")
def list_() -> None:
    """Proposals, newest first, with their state and tallies."""
    with state().client() as client:
        listing = client.dao_proposals(_chain())

    def render(console: Any) -> None:
        if not listing.proposals:
            console.print(f"no proposals on {listing.chain}")
            return
        rows = [
            (
                p.id,
                p.type,
                p.title,
                p.state,
                shown(p.votes_for),
                shown(p.votes_against),
                shown(p.votes_abstain),
                _utc(p.vote_end),
            )
            for p in listing.proposals
        ]
        console.print(
            table(["id", "type", "title", "state", "for", "against", "abstain", "voting ends"], rows)
        )

    emit(listing, render)


@app.command()
def show(
    proposal: ProposalId,
    wallet: Annotated[
        str | None, typer.Option("--wallet", "-w", help="Show this wallet's weight and why.")
    ] = None,
    voter: Annotated[str | None, typer.Option("--voter", help="Show this address's weight and why.")] = None,
) -> None:
    """A proposal: state, tallies, quorum progress, timeline, and a voter's weight and why."""
    with state().client() as client:
        address = voter or (client.wallet(wallet).address if wallet else None)
        info = client.dao_proposal(_chain(), proposal, address)

    def render(console: Any) -> None:
        from rich.markup import escape

        console.print(f"[bold]#{info.id} {escape(info.title)}[/] ({info.type}) - {info.state}")
        console.print(f"  proposer {info.proposer}, bond {shown(info.bond)}")
        console.print(f"  action {info.action}")
        console.print(
            f"  voting {_utc(info.vote_start)} -> {_utc(info.vote_end)}; executable from {_utc(info.eta)}"
        )
        console.print(
            f"  for {shown(info.votes_for)}  against {shown(info.votes_against)}  "
            f"abstain {shown(info.votes_abstain)}  ({info.voters} voters)"
        )
        console.print(f"  quorum {shown(info.quorum)}: {info.quorum_progress_bps / 100:g}% reached")
        if info.needs_council:
            console.print(f"  council approvals {len(info.approvals)} of {info.council_threshold}")
        if info.challenge:
            console.print(
                f"  challenged by {info.challenge['challenger']}: "
                f"{info.challenge['winner'] or 'awaiting the council'}"
            )
        if info.voter:
            v = info.voter
            bonus = f" + agent bonus {shown(v.bonus)}" if v.bonus else ""
            console.print(
                f"  {v.address}: weight {shown(v.weight)} = min(min(snapshot power {shown(v.snapshot_power)}, "
                f"24h average {shown(v.twas)}){bonus}, cap {shown(v.cap)}) - limited by {v.limited_by}"
            )
            if v.voted:
                console.print(f"  voted {v.voted} with {shown(v.voted_weight or 0)}")

    emit(info, render)


@app.command()
def vote(
    proposal: ProposalId,
    support: Annotated[str, typer.Argument(help="for, against or abstain")],
    from_: FromWallet,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (stored with the vote's transaction).")
    ] = None,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Vote once on an active proposal with your weight at its snapshot."""
    if support not in ("for", "against", "abstain"):
        raise CliError("support must be for, against or abstain")
    payload: dict[str, Any] = {"proposal": proposal, "support": support}
    if reason:
        payload["reason"] = reason
    _send(from_, "dao_vote", payload, fee, password_file, f"voted {support} on proposal {proposal}")


def _simple(tx_type: str, verb: str, doc: str) -> None:
    def command(
        proposal: ProposalId, from_: FromWallet, fee: Fee = "0", password_file: PasswordFile = None
    ) -> None:
        _send(
            from_,
            tx_type,
            {"proposal": proposal},
            fee,
            password_file,
            f"{verb} proposal {proposal}",
        )

    command.__doc__ = doc
    app.command(tx_type.removeprefix("dao_").replace("_bond", ""))(command)


_simple("dao_queue", "queued", "Start the timelock of a succeeded proposal.")
_simple(
    "dao_execute",
    "executed",
    "Execute a queued proposal after its timelock (and council approvals).",
)
_simple("dao_cancel", "cancelled", "Cancel your own proposal while it is pending (bond returned).")
_simple(
    "dao_challenge",
    "challenged",
    "Post a bond equal to the proposal's against it; the council decides.",
)
_simple(
    "dao_reclaim_bond",
    "reclaimed the bond of",
    "Return the bond of a defeated or expired proposal.",
)


@app.command()
def delegate(
    to: Annotated[str, typer.Argument(help="Address that votes with your power (your own to undo).")],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Delegate your voting power (balance + stake); by default you delegate to yourself."""
    _send(from_, "dao_delegate", {"to": to}, fee, password_file, f"delegated to {to}")


@app.command("claim-grant")
def claim_grant(
    grant: Annotated[int, typer.Argument(help="Grant id (shown by 'dao show' of its proposal).", min=1)],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Take what has vested of a DAO grant to you."""
    _send(from_, "dao_claim_grant", {"grant": grant}, fee, password_file, f"claimed grant {grant}")


@app.command()
def power(
    address: Annotated[str | None, typer.Argument(help="Address (default: --wallet's).")] = None,
    wallet: Annotated[str | None, typer.Option("--wallet", "-w", help="Wallet whose power to show.")] = None,
    at: Annotated[int | None, typer.Option("--at", help="Block height (default: the head).", min=0)] = None,
) -> None:
    """Voting power (balance + stake, as a delegate) at a block, delegation, 24 h average."""
    with state().client() as client:
        if address is None:
            if wallet is None:
                raise CliError("give an ADDRESS or --wallet")
            address = client.wallet(wallet).address
        info = client.dao_power(_chain(), address, at)
    emit(
        info,
        f"{info.address} at block {info.height} ({_utc(info.timestamp)}): power {shown(info.power)} "
        f"(24h average before then {shown(info.twas_24h)}); delegates to "
        f"{'itself' if info.delegate == info.address else info.delegate}; "
        f"{len(info.delegators)} delegator(s)",
    )


@app.command()
def params() -> None:
    """Governable settings (dao.* and chain.*), council, treasury, paused modules, scheduled upgrades."""
    with state().client() as client:
        found = client.dao_params(_chain())

    def render(console: Any) -> None:
        rows = [(f"dao.{name}", value) for name, value in sorted(found.settings.items())]
        rows += [(f"chain.{name}", value) for name, value in sorted((found.chain_params or {}).items())]
        console.print(table(["parameter", "value"], rows))
        console.print(
            f"treasury {shown(found.treasury)}; bonds held {shown(found.bonds)}; "
            f"grants unclaimed {shown(found.grants_held)}"
        )
        console.print(
            f"council {found.council_threshold} of {len(found.council)}: {', '.join(found.council)}"
        )
        console.print(f"paused: {', '.join(found.paused) or 'nothing'}; upgrades: {found.upgrades or 'none'}")

    emit(found, render)


def _council(
    action: str, payload: dict[str, Any], from_: str, fee: str, password_file: Any, what: str
) -> None:
    _send(from_, "dao_council", {"action": action, **payload}, fee, password_file, what)


@council_app.command()
def approve(
    proposal: ProposalId, from_: FromWallet, fee: Fee = "0", password_file: PasswordFile = None
) -> None:
    """Approve an emergency or protocol-upgrade proposal (M of N needed to execute)."""
    _council(
        "approve",
        {"proposal": proposal},
        from_,
        fee,
        password_file,
        f"approved proposal {proposal}",
    )


@council_app.command()
def veto(proposal: ProposalId, from_: FromWallet, fee: Fee = "0", password_file: PasswordFile = None) -> None:
    """Veto a queued proposal during its timelock (takes effect at M of N; the bond is forfeited)."""
    _council("veto", {"proposal": proposal}, from_, fee, password_file, f"vetoed proposal {proposal}")


@council_app.command()
def resolve(
    proposal: ProposalId,
    winner: Annotated[str, typer.Option("--winner", help="proposer or challenger")],
    from_: FromWallet,
    fee: Fee = "0",
    password_file: PasswordFile = None,
) -> None:
    """Decide a challenge (at M of N): the loser's bond goes to the winner."""
    if winner not in ("proposer", "challenger"):
        raise CliError("--winner must be proposer or challenger")
    _council(
        "resolve",
        {"proposal": proposal, "winner": winner},
        from_,
        fee,
        password_file,
        f"resolved proposal {proposal} for the {winner}",
    )


@council_app.command("pause")
def pause_dao(from_: FromWallet, fee: Fee = "0", password_file: PasswordFile = None) -> None:
    """Vote to pause the DAO itself (takes effect at M of N)."""
    _council("pause", {}, from_, fee, password_file, "voted to pause the DAO")


@council_app.command("resume")
def resume_dao(from_: FromWallet, fee: Fee = "0", password_file: PasswordFile = None) -> None:
    """Vote to resume the DAO (takes effect at M of N)."""
    _council("resume", {}, from_, fee, password_file, "voted to resume the DAO")
