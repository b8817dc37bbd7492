"""Who may talk to the daemon: only its own uid on the socket, only token holders on TCP."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import httpx
import pytest

from tests.conftest import home_env, start_daemon

NOBODY_UID = 65534

# Raw HTTP/1.1 and nothing imported after setuid: the interpreter's own files may be
# unreadable to the unprivileged uid.
_ASK_AS_NOBODY = """
import os, socket, sys
os.setgid({uid}); os.setuid({uid})
conn = socket.socket(socket.AF_UNIX)
conn.connect(sys.argv[1])
conn.sendall(b"GET /v1/status HTTP/1.1\\r\\nHost: aitbc\\r\\nConnection: close\\r\\n\\r\\n")
chunks = []
while chunk := conn.recv(65536):
    chunks.append(chunk)
head, _, body = b"".join(chunks).partition(b"\\r\\n\\r\\n")
print(head.split()[1].decode())
print(body.decode())
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another uid")
def test_connection_from_another_uid_gets_403_even_if_the_socket_mode_is_loosened(daemon):
    # The 0600 mode already keeps other users out; loosen it so the peer-uid check itself is tested.
    for path in (daemon.home, daemon.paths.run_dir):
        os.chmod(path, 0o755)
    os.chmod(daemon.socket_path, 0o666)
    result = subprocess.run(
        [sys.executable, "-c", _ASK_AS_NOBODY.format(uid=NOBODY_UID), str(daemon.socket_path)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.split("\n", 1)
    assert status == "403"
    assert json.loads(body)["error"]["code"] == "forbidden"
    with daemon.client() as client:  # the owner is still served
        assert client.status().pid == daemon.process.pid


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def tcp_daemon(aitbc_home):
    port = free_port()
    running = start_daemon(aitbc_home, "--tcp", f"127.0.0.1:{port}")
    yield running, f"http://127.0.0.1:{port}"
    running.stop()


def test_tcp_listener_requires_the_bearer_token(tcp_daemon):
    daemon, url = tcp_daemon
    token_file = daemon.paths.tcp_token_file
    assert oct(token_file.stat().st_mode & 0o777) == "0o600"
    token = token_file.read_text().strip()
    assert len(token) >= 32
    missing = httpx.get(f"{url}/v1/health")
    assert missing.status_code == 401
    assert missing.json()["error"]["code"] == "unauthorized"
    wrong = httpx.get(f"{url}/v1/health", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = httpx.get(f"{url}/v1/status", headers={"Authorization": f"Bearer {token}"})
    assert right.status_code == 200
    assert right.json()["tcp_listen"] == url.removeprefix("http://")


def test_configured_tcp_token_is_used(aitbc_home):
    port = free_port()
    running = start_daemon(
        aitbc_home, "--tcp", f"127.0.0.1:{port}", env=home_env(aitbc_home, AITBC_TCP_TOKEN="s3cret-token")
    )
    try:
        ok = httpx.get(f"http://127.0.0.1:{port}/v1/health", headers={"Authorization": "Bearer s3cret-token"})
        assert ok.status_code == 200
        assert not running.paths.tcp_token_file.exists()
    finally:
        running.stop()


def test_the_miner_token_opens_only_the_miners_endpoints():
    import asyncio

    from aitbc_daemon.peer import PEER_SCOPE_KEY, AccessGuard, Peer

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    guard = AccessGuard(app, tcp_token="admin", miner_token="miner")

    def status(path: str, token: str) -> int:
        sent: list[dict] = []

        async def send(message):
            sent.append(message)

        scope = {"type": "http", "path": path, "headers": [(b"authorization", f"Bearer {token}".encode())],
                 PEER_SCOPE_KEY: Peer("tcp", address="127.0.0.1:1")}
        asyncio.run(guard(scope, None, send))
        return sent[0]["status"]

    assert status("/v1/miners/ait1x/lease", "miner") == 200
    assert status("/v1/blobs/" + "0" * 64, "miner") == 200
    assert status("/v1/wallets", "miner") == 403
    assert status("/v1/minersxyz", "miner") == 403
    assert status("/v1/jobs", "miner") == 403
    assert status("/v1/wallets", "admin") == 200
    assert status("/v1/miners", "wrong") == 401
