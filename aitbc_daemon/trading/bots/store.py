"""The bots' local state: `data/bots.db` (SQLite, WAL) and one hot key file per live bot.

Why SQLite and not one JSON file per bot (as agents have): a bot writes after every
candle (its state, a decision row, maybe fills and an equity point) and its history is
read back in pieces (the last decisions, the fills, the equity series).

- table `bots`: name, config (JSON: what `start` was given, never changed), state
  (JSON: running/stopped/killed, reason, position, balances of a paper bot, peak
  equity, the last candle decided ...), created_at.
- table `decisions`: every decision the runner took, with its reason (like agents.db).
- table `fills`: the bot's fills (live: read back from the chain after each order;
  paper: its simulated fills).
- table `equity`: the bot's equity (satoshi) at each candle it decided on.

Why a hot key: a live bot signs orders with no person present, so like an agent's
its key is a plain key file, `data/bots/<name>.key` (0600, written atomically). What
limits a leak is on chain: the bot is an agent (role trader) whose owner can stop it
(`aitbc agent`-style `agent_stop` refuses all its transactions), and the DAO's
agent-trading limits bound what it can trade.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.errors import AitbcError, Conflict, NotFound
from aitbc_daemon.service_key import load_or_create_key
from aitbc_daemon.sqlite_db import sqlite_utils

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
RUNNING, STOPPED, KILLED = "running", "stopped", "killed"
LIVE, PAPER = "live", "paper"
FLAT, LONG = "flat", "long"


class BotExists(Conflict):
    code = "bot_exists"


class BotNotFound(NotFound):
    code = "bot_not_found"


class InvalidBotName(AitbcError):
    code = "invalid_bot_name"


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidBotName(
            f"invalid bot name {name!r}: use 1-64 of a-z 0-9 _ - (starting with a letter or digit)"
        )
    return name


@dataclass(frozen=True)
class BotConfig:
    """What `ai-trading start` was given (resolved): never changed after the start."""

    name: str
    chain: str
    market: str
    mode: str
    strategy: str
    params: dict[str, float]
    interval: str
    size: float
    stop_loss: float | None  # fractions (0.05 = 5 %), as risk_rules takes them
    take_profit: float | None
    max_drawdown: float | None
    address: str | None = None
    owner: str | None = None
    owner_wallet: str | None = None


@dataclass
class BotState:
    """What changes as the bot trades; saved after every pass that changed it."""

    state: str = RUNNING
    reason: str | None = None
    position: str = FLAT
    entry_price: float | None = None
    units: int = 0  # AIT units the open position holds (bought by the bot; funding AIT pays fees)
    reentry_blocked: bool = False  # after a stop-loss/take-profit: wait for the strategy to go flat first
    unmet_target: float | None = None  # a target the book had no liquidity for: retried on each block
    last_candle: int | None = None  # start of the last closed candle decided on
    bars: int = 0
    last_price: float | None = None
    peak_equity: int | None = None
    start_equity: int | None = None
    paper_ait: int = 0
    paper_btc: int = 0
    cost_basis: int = 0  # satoshi paid for the AIT now held (for realised PnL)
    realised_pnl: int = 0
    pending: dict[str, Any] | None = (
        None  # a live order sent but not in a block yet {tx, side, reason, action}
    )
    last_decision: str | None = None
    last_decision_at: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Bot:
    config: BotConfig
    state: BotState
    created_at: float


@dataclass(frozen=True)
class DecisionRow:
    bot: str
    time: int
    candle: int
    target: float | None
    action: str
    reason: str
    tx: str | None = None
    error: str | None = None
    id: int | None = None


@dataclass(frozen=True)
class FillRow:
    bot: str
    time: int
    side: str
    size: int
    price: float
    quote: int
    fee: int
    reason: str
    tx: str | None = None
    id: int | None = None


class BotStore:
    """`data/bots.db` and `data/bots/<name>.key`; thread-safe (one lock around the connection)."""

    def __init__(self, data_dir: Path) -> None:
        self.key_dir = data_dir / "bots"
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(data_dir / "bots.db", check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(connection)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.RLock()
        self._create_tables()

    def _create_tables(self) -> None:
        if not self.db["bots"].exists():
            self.db["bots"].create({"name": str, "config": str, "state": str, "created_at": float}, pk="name")
        if not self.db["decisions"].exists():
            self.db["decisions"].create(
                {
                    "id": int,
                    "bot": str,
                    "time": int,
                    "candle": int,
                    "target": float,
                    "action": str,
                    "reason": str,
                    "tx": str,
                    "error": str,
                },
                pk="id",
            )
            self.db["decisions"].create_index(["bot"])
        if not self.db["fills"].exists():
            self.db["fills"].create(
                {
                    "id": int,
                    "bot": str,
                    "time": int,
                    "side": str,
                    "size": int,
                    "price": float,
                    "quote": int,
                    "fee": int,
                    "reason": str,
                    "tx": str,
                },
                pk="id",
            )
            self.db["fills"].create_index(["bot"])
        if not self.db["equity"].exists():
            self.db["equity"].create({"bot": str, "time": int, "equity": int}, pk=("bot", "time"))

    def close(self) -> None:
        self.db.conn.close()

    # --- keys ------------------------------------------------------------------------------------

    def key_path(self, name: str) -> Path:
        return self.key_dir / f"{check_name(name)}.key"

    def new_key(self, name: str) -> SigningKey:
        self.key_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        return load_or_create_key(self.key_path(name))

    def key(self, name: str) -> SigningKey:
        path = self.key_path(name)
        if not path.exists():
            raise BotNotFound(f"bot {name!r} has no key file ({path})")
        return load_or_create_key(path)

    # --- bots ------------------------------------------------------------------------------------

    def exists(self, name: str) -> bool:
        with self._lock:
            return self.db.execute("SELECT 1 FROM bots WHERE name = ?", [name]).fetchone() is not None

    def add(self, bot: Bot) -> None:
        with self._lock:
            if self.exists(bot.config.name):
                raise BotExists(
                    f"bot {bot.config.name!r} exists already (a stopped bot stays; pick a new name)"
                )
            self.db["bots"].insert(
                {
                    "name": bot.config.name,
                    "config": json.dumps(asdict(bot.config)),
                    "state": json.dumps(asdict(bot.state)),
                    "created_at": bot.created_at,
                }
            )

    def save_state(self, name: str, state: BotState) -> None:
        with self._lock:
            self.db.execute("UPDATE bots SET state = ? WHERE name = ?", [json.dumps(asdict(state)), name])

    def get(self, name: str) -> Bot:
        with self._lock:
            row = self.db.execute(
                "SELECT config, state, created_at FROM bots WHERE name = ?", [check_name(name)]
            ).fetchone()
        if row is None:
            raise BotNotFound(f"no bot {name!r} (see 'aitbc ai-trading status')")
        return _bot(row)

    def list(self) -> list[Bot]:
        with self._lock:
            rows = self.db.execute("SELECT config, state, created_at FROM bots ORDER BY name").fetchall()
        return [_bot(row) for row in rows]

    # --- history ---------------------------------------------------------------------------------

    def add_decision(self, row: DecisionRow) -> DecisionRow:
        data = {k: v for k, v in asdict(row).items() if k != "id"}
        with self._lock:
            row_id = self.db["decisions"].insert(data).last_pk
        return replace(row, id=int(row_id))

    def decisions(self, name: str, limit: int = 50) -> list[DecisionRow]:
        with self._lock:
            rows = list(
                self.db.query("SELECT * FROM decisions WHERE bot = ? ORDER BY id DESC LIMIT ?", [name, limit])
            )
        return [DecisionRow(**row) for row in rows]

    def add_fill(self, row: FillRow) -> FillRow:
        data = {k: v for k, v in asdict(row).items() if k != "id"}
        with self._lock:
            row_id = self.db["fills"].insert(data).last_pk
        return replace(row, id=int(row_id))

    def fills(self, name: str) -> list[FillRow]:
        with self._lock:
            rows = list(self.db.query("SELECT * FROM fills WHERE bot = ? ORDER BY id", [name]))
        return [FillRow(**row) for row in rows]

    def add_equity(self, name: str, time: int, equity: int) -> None:
        with self._lock:
            self.db["equity"].upsert({"bot": name, "time": time, "equity": equity}, pk=("bot", "time"))

    def equity(self, name: str) -> list[tuple[int, int]]:
        with self._lock:
            rows = self.db.execute("SELECT time, equity FROM equity WHERE bot = ? ORDER BY time", [name])
            return [(int(t), int(e)) for t, e in rows.fetchall()]


def _bot(row: tuple[str, str, float]) -> Bot:
    config, state, created_at = row
    return Bot(BotConfig(**json.loads(config)), BotState(**json.loads(state)), created_at)
