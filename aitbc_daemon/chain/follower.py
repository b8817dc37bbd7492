"""Following a chain hosted by another daemon, over its token-guarded TCP listener.

A follower trusts nothing it receives: each block goes through the same
`finalize_block` + `commit` as a locally produced one, which checks the
proposer's signature against the genesis authorities, the parent hash, the
merkle root, and that re-executing the transactions gives the header's app
hash. Transactions submitted to a follower are forwarded to the authority;
they come back in the blocks it produces.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.errors import AitbcError

if TYPE_CHECKING:
    from aitbc_daemon.chain.service import ChainService

log = logging.getLogger("aitbc.chain")

FOLLOW_FILE = "follow.json"
SYNC_BATCH = 200
POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0


class UpstreamError(AitbcError):
    """The daemon being followed could not be reached or refused us."""

    status, code = 502, "upstream_error"


@dataclass(frozen=True)
class FollowTarget:
    """Where a followed chain comes from; kept in the chain's directory, mode 0600 (it holds the token)."""

    url: str
    token: str

    def save(self, directory: Path) -> None:
        write_atomically(directory / FOLLOW_FILE, json.dumps({"url": self.url, "token": self.token}).encode())

    @classmethod
    def load(cls, directory: Path) -> FollowTarget | None:
        path = directory / FOLLOW_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(str(data["url"]), str(data["token"]))


class Upstream:
    """A small client for the followed daemon's chain endpoints."""

    def __init__(self, target: FollowTarget, chain_id: str, timeout: float = 10.0):
        import httpx  # only a following daemon needs an HTTP client; the others start faster

        self._transport_errors = httpx.HTTPError
        self.chain_id = chain_id
        self.url = target.url
        self._http = httpx.Client(
            base_url=target.url.rstrip("/"),
            headers={"Authorization": f"Bearer {target.token}"},
            timeout=timeout,
            trust_env=False,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, f"/v1/chains/{self.chain_id}{path}", **kwargs)
        except self._transport_errors as exc:
            raise UpstreamError(f"cannot reach {self._http.base_url}: {exc or type(exc).__name__}") from None
        if not response.is_success:
            try:
                message = response.json()["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = f"HTTP {response.status_code}"
            raise UpstreamError(f"{self._http.base_url} refused: {message}")
        return response.json()

    def genesis(self) -> dict[str, Any]:
        return self._call("GET", "/genesis")

    def sync(self, start: int, limit: int = SYNC_BATCH) -> dict[str, Any]:
        return self._call("GET", "/sync", params={"from": start, "limit": limit})

    def submit_batch(self, transactions: list[Any]) -> dict[str, Any]:
        return self._call("POST", "/txs/batch", json={"transactions": transactions})

    def account(self, address: str) -> dict[str, Any]:
        return self._call("GET", f"/accounts/{address}")


async def follow_forever(chains: ChainService, chain_id: str) -> None:
    """Keep `chain_id` in step with its upstream until cancelled; retry with backoff on failures."""
    backoff = POLL_SECONDS
    while True:
        try:
            applied = await asyncio.to_thread(chains.sync_once, chain_id)
            backoff = POLL_SECONDS
            if applied:
                continue  # more may be waiting
        except AitbcError as exc:
            log.warning("following %s: %s (retrying in %.1fs)", chain_id, exc.message, backoff)
            chains.get(chain_id).follow_error = exc.message
            backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        await asyncio.sleep(backoff)
