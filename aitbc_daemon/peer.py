"""Who is on the other end of a connection, and whether they may talk to us.

uvicorn does not put the socket in the ASGI scope, so a thin subclass of its
HTTP protocol reads the peer at `connection_made` (SO_PEERCRED on the Unix
socket, the address on TCP) and hands it to the app as `scope["aitbc.peer"]`.
The policy itself lives in `AccessGuard`, an ordinary ASGI middleware, so a
refusal is a normal JSON error response rather than a dropped connection:
- Unix socket: only the daemon's own uid (the socket is 0600 too; this holds
  even if its mode is loosened).
- TCP: every request needs `Authorization: Bearer <tcp_token>`, or the miner
  token, which opens only what a remote miner needs (register, lease,
  heartbeat, deliver, fetch and store job files): a miner can be handed it
  without being handed the wallets.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import socket
import struct
from dataclasses import dataclass
from typing import Any, Literal

from starlette.types import ASGIApp, Receive, Scope, Send

PEER_SCOPE_KEY = "aitbc.peer"
MINER_TOKEN_PATHS = ("/v1/miners", "/v1/blobs", "/v1/health", "/v1/version")
_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}


@dataclass(frozen=True)
class Peer:
    transport: Literal["unix", "tcp"]
    uid: int | None = None
    pid: int | None = None
    address: str | None = None


def peer_of(transport: asyncio.BaseTransport) -> Peer:
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family == socket.AF_UNIX:
        pid, uid, _gid = _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))
        return Peer("unix", uid=uid, pid=pid)
    peername = transport.get_extra_info("peername")
    return Peer("tcp", address=f"{peername[0]}:{peername[1]}" if peername else None)


class _WithPeer:
    """Puts the connection's peer into every request's scope."""

    def __init__(self, app: ASGIApp, peer: Peer):
        self.app = app
        self.peer = peer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope[PEER_SCOPE_KEY] = self.peer
        await self.app(scope, receive, send)


def peer_aware(protocol_class: type[Any]) -> type[Any]:
    """A subclass of a uvicorn HTTP protocol class that records each connection's peer."""

    class PeerAwareProtocol(protocol_class):  # type: ignore[misc, valid-type]
        def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
            # uvicorn makes one protocol object per connection, so wrapping the
            # app here scopes the peer to exactly this connection.
            self.app = _WithPeer(self.app, peer_of(transport))
            super().connection_made(transport)

    PeerAwareProtocol.__name__ = f"PeerAware{protocol_class.__name__}"
    return PeerAwareProtocol


class AccessGuard:
    """Refuses requests from other uids (Unix socket) or without the bearer token (TCP)."""

    def __init__(self, app: ASGIApp, *, allowed_uid: int | None = None, tcp_token: str = "", miner_token: str = ""):
        self.app = app
        self.allowed_uid = os.getuid() if allowed_uid is None else allowed_uid
        self.tcp_token = tcp_token.encode()
        self.miner_token = miner_token.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is None:
            await self.app(scope, receive, send)
            return
        status, code, message = refusal
        body = json.dumps({"error": {"code": code, "message": message}}).encode()
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 401:
            headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _refusal(self, scope: Scope) -> tuple[int, str, str] | None:
        peer: Peer | None = scope.get(PEER_SCOPE_KEY)
        if peer is None:
            return 403, "forbidden", "connection of unknown origin refused"
        if peer.transport == "unix":
            if peer.uid != self.allowed_uid:
                return 403, "forbidden", f"uid {peer.uid} may not use this daemon (it serves uid {self.allowed_uid})"
            return None
        presented = dict(scope.get("headers", [])).get(b"authorization", b"")
        scheme, _, token = presented.partition(b" ")
        if scheme.lower() == b"bearer":
            if self.tcp_token and hmac.compare_digest(token, self.tcp_token):
                return None
            if self.miner_token and hmac.compare_digest(token, self.miner_token):
                path = scope.get("path", "")
                if any(path == p or path.startswith(p + "/") for p in MINER_TOKEN_PATHS):
                    return None
                return 403, "forbidden", f"the miner token opens only the miners' endpoints, not {path}"
        return 401, "unauthorized", "a valid bearer token is required on the TCP listener"
