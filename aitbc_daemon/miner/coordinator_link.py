"""The miner's line to a coordinator: its own daemon over the Unix socket, or a remote one over TCP.

The miner speaks only the coordinator's public HTTP API, so the daemon's own
miner and a miner on another machine are the same code; only the transport
differs. Transport failures are retried with backoff (a remote daemon may be
restarting); the coordinator's refusals (`ApiError`) are not.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from aitbc_daemon.client import api_error

log = logging.getLogger("aitbc.miner")
RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)
CHUNK = 1 << 20


class CoordinatorUnreachable(RuntimeError):
    pass


class CoordinatorLink:
    def __init__(self, *, socket_path: Path | None = None, url: str | None = None, token: str | None = None):
        if (socket_path is None) == (url is None):
            raise ValueError("give exactly one of socket_path or url")
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if socket_path is not None:
            transport = httpx.AsyncHTTPTransport(uds=str(socket_path), verify=False)
            self.where = "local"
            base_url = "http://aitbc"
        else:
            assert url is not None
            transport = httpx.AsyncHTTPTransport(verify=False)
            self.where = url
            base_url = url.rstrip("/")
        self._http = httpx.AsyncClient(
            transport=transport,
            base_url=base_url,
            headers=headers,
            trust_env=False,
            timeout=httpx.Timeout(30.0, read=90.0),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Any:
        delays = RETRY_DELAYS if retry else ()
        for attempt in range(len(delays) + 1):
            try:
                response = await self._http.request(method, path, **kwargs)
            except httpx.TransportError as exc:
                if attempt == len(delays):
                    raise CoordinatorUnreachable(
                        f"coordinator {self.where} unreachable: {exc or type(exc).__name__}"
                    ) from exc
                await asyncio.sleep(delays[attempt])
                continue
            if response.is_success:
                return response.json() if response.content else None
            raise api_error(response)
        raise AssertionError("unreachable")

    async def register(self, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request("POST", "/v1/miners", json=body)

    async def miner(self, miner_id: str) -> dict[str, Any]:
        return await self._request("GET", f"/v1/miners/{quote(miner_id, safe='')}")

    async def lease(self, miner_id: str, wait: float) -> dict[str, Any] | None:
        answer = await self._request(
            "POST", f"/v1/miners/{quote(miner_id, safe='')}/lease", json={"wait": wait}
        )
        return answer.get("lease")

    async def heartbeat(self, miner_id: str, leases: list[dict[str, Any]]) -> list[str]:
        answer = await self._request(
            "POST", f"/v1/miners/{quote(miner_id, safe='')}/heartbeat", json={"leases": leases}, retry=False
        )
        return list(answer["stop"])

    async def result(self, miner_id: str, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request(
            "POST", f"/v1/miners/{quote(miner_id, safe='')}/jobs/{quote(job_id, safe='')}/result", json=body
        )

    async def failure(self, miner_id: str, job_id: str, body: dict[str, Any]) -> dict[str, Any]:
        return await self._request(
            "POST", f"/v1/miners/{quote(miner_id, safe='')}/jobs/{quote(job_id, safe='')}/failure", json=body
        )

    async def download(self, digest: str, target: Path) -> None:
        async with self._http.stream("GET", f"/v1/blobs/{digest}") as response:
            if not response.is_success:
                await response.aread()
                raise api_error(response)
            with open(target, "wb") as handle:
                async for chunk in response.aiter_bytes(CHUNK):
                    handle.write(chunk)

    async def upload(self, path: Path) -> dict[str, Any]:
        async def chunks() -> AsyncIterator[bytes]:
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk

        return await self._request(
            "PUT",
            "/v1/blobs",
            content=chunks(),
            retry=False,
            headers={"content-type": "application/octet-stream"},
        )
