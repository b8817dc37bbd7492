"""Real daemons for the jobs tests, with the test-only executors (`sleep`, `fail`) installed as plugins,
and a hand-driven miner that speaks the coordinator's API with a real key (for the protocol tests)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from aitbc_daemon.client import Client
from aitbc_daemon.jobs.receipts import build_receipt
from aitbc_daemon.wallet.addresses import address_from_public_key
from tests.conftest import RunningDaemon, home_env, start_daemon

CHAIN = "ait-devnet"
PASSWORD = "pw"
PLUGINS = Path(__file__).parent / "plugins_fixture"
AIT = 1_000_000


def jobs_env(home: Path, **extra: str) -> dict[str, str]:
    env = home_env(home, **extra)
    env["PYTHONPATH"] = f"{PLUGINS}:{env['PYTHONPATH']}" if env.get("PYTHONPATH") else str(PLUGINS)
    return env


@pytest.fixture
def jobs_daemon(aitbc_home: Path) -> Iterator[RunningDaemon]:
    running = start_daemon(
        aitbc_home, env=jobs_env(aitbc_home, AITBC_LEASE_SECONDS="2", AITBC_MAX_INPUT_MIB="1")
    )
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def client(jobs_daemon: RunningDaemon) -> Iterator[Client]:
    with jobs_daemon.client(timeout=120) as c:
        yield c


def funded_wallet(client: Client, name: str = "alice", amount: int = 100 * AIT) -> str:
    address = client.create_wallet(name, PASSWORD).wallet.address
    if amount:
        client.faucet(CHAIN, address, amount)
    return address


def submit(
    client: Client,
    executor: str = "hash",
    *,
    payment: int = AIT,
    data: bytes | None = b"hello\n",
    name: str = "in.txt",
    **extra: Any,
) -> Any:
    inputs = []
    if data is not None:
        inputs.append({"name": name, "sha256": client.upload(data).sha256})
    body = {
        "executor": executor,
        "payment": payment,
        "wallet": "alice",
        "chain": CHAIN,
        "inputs": inputs,
        "password": PASSWORD,
        **extra,
    }
    return client.submit_job(body)


def balance(client: Client, address: str) -> int:
    return client.account(CHAIN, address).balance


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def settled(client: Client, job_id: str, timeout: float = 60.0) -> Any:
    """The job once it is final and its payment is on chain."""
    return wait_for(lambda: (j := client.job(job_id)).settlement_tx and j, timeout, f"{job_id} to settle")


class HandMiner:
    """A miner driven step by step through the HTTP API, as a remote miner would speak it."""

    def __init__(
        self,
        daemon: RunningDaemon,
        executors: tuple[str, ...] = ("hash", "sleep", "fail"),
        *,
        price: int = 0,
        devices: list[dict[str, Any]] | None = None,
    ):
        self.key = SigningKey.generate()
        self.payout = address_from_public_key(bytes(SigningKey.generate().verify_key))
        self.http = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(daemon.socket_path)), base_url="http://aitbc", timeout=60
        )
        answer = self.http.post(
            "/v1/miners",
            json={
                "public_key": bytes(self.key.verify_key).hex(),
                "payout": self.payout,
                "name": "hand",
                "executors": list(executors),
                "devices": devices or [{"id": "cpu", "kind": "cpu"}],
                "price": price,
            },
        )
        answer.raise_for_status()
        self.id = answer.json()["id"]

    def lease(self, wait: float = 0.0) -> dict[str, Any] | None:
        answer = self.http.post(f"/v1/miners/{self.id}/lease", json={"wait": wait})
        answer.raise_for_status()
        return answer.json()["lease"]

    def heartbeat(self, grant: dict[str, Any], **progress: Any) -> list[str]:
        beat = {
            "job_id": grant["job_id"],
            "lease_id": grant["lease_id"],
            "progress": progress,
            "logs": ["tick"],
        }
        answer = self.http.post(f"/v1/miners/{self.id}/heartbeat", json={"leases": [beat]})
        answer.raise_for_status()
        return answer.json()["stop"]

    def deliver(
        self,
        grant: dict[str, Any],
        output: bytes = b"out\n",
        *,
        receipt_edit: Callable[[dict], None] | None = None,
        signer: SigningKey | None = None,
        lease_id: str | None = None,
        output_name: str = "out.txt",
    ) -> httpx.Response:
        stored = self.http.put("/v1/blobs", content=output).json()
        outputs = [{"name": output_name, "sha256": stored["sha256"], "size": stored["size"]}]
        receipt = build_receipt(
            job_id=grant["job_id"],
            chain_id=grant["chain_id"],
            client=grant["client"],
            miner=self.payout,
            miner_key=signer or self.key,
            executor=grant["executor"],
            params=grant["params"],
            inputs=grant["inputs"],
            outputs=outputs,
            device="cpu (test)",
            started_at_ms=1,
            ended_at_ms=2,
            metrics={"ok": 1},
            price=grant["payment"],
        )
        if signer is not None:  # a forger signs with its own key but claims this miner's
            receipt["receipt"]["miner_key"] = bytes(self.key.verify_key).hex()
        if receipt_edit is not None:
            receipt_edit(receipt)
        return self.http.post(
            f"/v1/miners/{self.id}/jobs/{grant['job_id']}/result",
            json={"lease_id": lease_id or grant["lease_id"], "outputs": outputs, "receipt": receipt},
        )

    def fail(self, grant: dict[str, Any], error: str = "boom", hand_back: bool = False) -> httpx.Response:
        return self.http.post(
            f"/v1/miners/{self.id}/jobs/{grant['job_id']}/failure",
            json={"lease_id": grant["lease_id"], "error": error, "hand_back": hand_back},
        )

    def close(self) -> None:
        self.http.close()


@pytest.fixture
def hand_miner(jobs_daemon: RunningDaemon) -> Iterator[HandMiner]:
    miner = HandMiner(jobs_daemon)
    yield miner
    miner.close()
