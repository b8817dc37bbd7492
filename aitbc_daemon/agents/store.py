"""The daemon's local agents: one JSON record and one hot key file each, and the decision log.

Why a hot key: an agent votes with no person present (the runner signs
`dao_vote` on its own), so, like the chain's validator key and the
coordinator's key, its key is a plain key file (`data/agents/<name>.key`,
0600, written atomically; `service_key.load_or_create_key`). What limits the
damage of a leaked key is on chain: the agent's owner, a cold, password-
protected keystore wallet, and the controllers it authorizes can stop the
agent, after which every transaction it sends fails; the agent's own key can
never restart it or change its controllers.

- `data/agents/<name>.json`: {name, chain, address, role, strategy, owner,
  owner_wallet, confidence, running, created_at} (0600, atomic).
- `data/agents.db` (sqlite-utils, WAL): table `decisions`, one row per decision
  the runner took (voted, skipped, failed), with its reason.
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.errors import AitbcError, Conflict, NotFound
from aitbc_daemon.service_key import load_or_create_key
from aitbc_daemon.sqlite_db import sqlite_utils

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


class AgentExists(Conflict):
    code = "agent_exists"


class AgentNotFound(NotFound):
    code = "agent_not_found"


class InvalidAgentName(AitbcError):
    code = "invalid_agent_name"


@dataclass(frozen=True)
class LocalAgent:
    """An agent this daemon runs: its settings and whether its runner is on."""

    name: str
    chain: str
    address: str
    role: str
    strategy: str
    owner: str
    owner_wallet: str
    confidence: float
    running: bool
    created_at: float


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise InvalidAgentName(
            f"invalid agent name {name!r}: use 1-64 of a-z 0-9 _ - (starting with a letter or digit)"
        )
    return name


class AgentStore:
    """Records and keys under `directory` (data/agents/)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def _record_path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.json"

    def key_path(self, name: str) -> Path:
        return self.directory / f"{check_name(name)}.key"

    def exists(self, name: str) -> bool:
        return self._record_path(name).exists()

    def new_key(self, name: str) -> SigningKey:
        """The agent's hot key, made now (a key file left by a failed create is reused)."""
        if self.exists(name):
            raise AgentExists(f"agent {name!r} exists already")
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        return load_or_create_key(self.key_path(name))

    def key(self, name: str) -> SigningKey:
        self.get(name)
        return load_or_create_key(self.key_path(name))

    def save(self, agent: LocalAgent) -> None:
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        with self._lock:
            write_atomically(self._record_path(agent.name), json.dumps(asdict(agent), indent=2).encode())

    def get(self, name: str) -> LocalAgent:
        path = self._record_path(name)
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise AgentNotFound(f"no agent {name!r} (see 'aitbc agent list')") from None
        return LocalAgent(**data)

    def list(self) -> list[LocalAgent]:
        if not self.directory.exists():
            return []
        return [self.get(path.stem) for path in sorted(self.directory.glob("*.json"))]

    def set_running(self, name: str, running: bool) -> LocalAgent:
        agent = replace(self.get(name), running=running)
        self.save(agent)
        return agent


@dataclass(frozen=True)
class DecisionRow:
    agent: str
    chain: str
    proposal: int
    outcome: str  # voted, skipped, failed
    support: str
    confidence: float
    reason: str
    time: float
    tx: str | None = None
    error: str | None = None  # the chain's reason for a failed vote
    id: int | None = None


class DecisionLog:
    """`data/agents.db`: what each agent decided, newest first when read."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db = sqlite_utils.Database(connection)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")
        self._lock = threading.Lock()
        table = self.db["decisions"]
        if not table.exists():
            table.create(
                {
                    "id": int,
                    "agent": str,
                    "chain": str,
                    "proposal": int,
                    "outcome": str,
                    "support": str,
                    "confidence": float,
                    "reason": str,
                    "time": float,
                    "tx": str,
                    "error": str,
                },
                pk="id",
            )
            table.create_index(["agent", "chain", "proposal"])

    def add(self, row: DecisionRow) -> DecisionRow:
        data = {k: v for k, v in asdict(row).items() if k != "id"}
        with self._lock:
            row_id = self.db["decisions"].insert(data).last_pk
        return replace(row, id=int(row_id))

    def decided(self, agent: str, chain: str) -> set[int]:
        """Proposals this agent has decided on already (any outcome): each is decided once."""
        with self._lock:
            rows = self.db.execute(
                "SELECT DISTINCT proposal FROM decisions WHERE agent = ? AND chain = ?", [agent, chain]
            ).fetchall()
        return {int(r[0]) for r in rows}

    def recent(self, agent: str, limit: int) -> list[DecisionRow]:
        with self._lock:
            rows = list(
                self.db.query(
                    "SELECT * FROM decisions WHERE agent = ? ORDER BY id DESC LIMIT ?", [agent, limit]
                )
            )
        return [DecisionRow(**row) for row in rows]

    def forget(self, agent: str) -> None:
        with self._lock:
            self.db.execute("DELETE FROM decisions WHERE agent = ?", [agent])

    def close(self) -> None:
        self.db.conn.close()
