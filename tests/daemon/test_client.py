"""The typed client: transport failures and error bodies become typed exceptions."""

from __future__ import annotations

import socket

import pytest

import aitbc_daemon.client as client_module
from aitbc_daemon.client import ApiError, AsyncClient, Client, DaemonNotRunning


def test_missing_socket_is_daemon_not_running(aitbc_home):
    path = aitbc_home / "run" / "aitbc.sock"
    with Client(path) as client, pytest.raises(DaemonNotRunning) as caught:
        client.health()
    assert str(caught.value) == (
        f"aitbc daemon is not running (socket {path}); start it with 'aitbc daemon start'"
    )


def test_stale_socket_file_is_daemon_not_running(aitbc_home):
    path = aitbc_home / "stale.sock"
    leftover = socket.socket(socket.AF_UNIX)
    leftover.bind(str(path))
    leftover.close()  # the file stays, nobody listens: ECONNREFUSED
    with Client(path) as client, pytest.raises(DaemonNotRunning):
        client.status()


def test_error_body_becomes_api_error_with_code(daemon):
    with daemon.client() as client, pytest.raises(ApiError) as caught:
        client.request("GET", "/v1/missing")
    assert (caught.value.status, caught.value.code) == (404, "not_found")
    with daemon.client() as client, pytest.raises(ApiError) as caught:
        client.set_log_level("loud")
    assert caught.value.code == "invalid_request"
    assert caught.value.details[0]["loc"] == ["body", "level"]


def test_typed_results(daemon):
    with daemon.client() as client:
        status = client.status()
        assert status.pid == daemon.process.pid
        assert status.socket == str(daemon.socket_path)
        assert client.version().api == client_module.API_VERSION


def test_version_mismatch_is_reported_once(daemon, monkeypatch):
    monkeypatch.setattr(client_module, "API_VERSION", "999")
    seen = []
    with Client(daemon.socket_path, on_version_mismatch=seen.append) as client:
        client.health()
        client.health()
    assert seen == ["1"]


def test_version_mismatch_warns_in_the_cli(cli, daemon, monkeypatch):
    monkeypatch.setattr(client_module, "API_VERSION", "999")
    result = cli("daemon", "status", "--json")
    assert result.exit_code == 0
    assert "warning: the daemon speaks API version 1, this CLI speaks" in result.stderr


def test_async_client_raises_the_same_errors(aitbc_home):
    import asyncio

    async def scenario():
        async with AsyncClient(aitbc_home / "none.sock") as client:
            await client.status()

    with pytest.raises(DaemonNotRunning):
        asyncio.run(scenario())
