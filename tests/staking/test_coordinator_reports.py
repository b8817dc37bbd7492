"""The coordinator's staking reports and stake-as-collateral, against a real daemon on the devnet.

Miners are driven by hand through the coordinator's HTTP API (as a remote
miner speaks it) and paid to keystore wallets that stake; reports are forced
with `POST /v1/chains/{chain}/staking/report` (what `aitbc staking report --now`
sends) except in the test of the background loop, which runs on a 1 s interval.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import DEVNET_REPORTER, devnet_signing_key
from aitbc_daemon.client import ApiError, Client
from aitbc_daemon.jobs.staking_reports import multiplier_bps
from aitbc_daemon.wallet.addresses import address_from_public_key
from tests.conftest import RunningDaemon, start_daemon
from tests.jobs_fixtures import (
    AIT,
    CHAIN,
    PASSWORD,
    HandMiner,
    funded_wallet,
    jobs_env,
    settled,
    submit,
    wait_for,
)

RATE = AIT // 100  # gpu-flex pays 0.01 AIT a second to the whole pool
DEVNET_REPORTER_ADDRESS = address_from_public_key(bytes(devnet_signing_key(DEVNET_REPORTER).verify_key))


class PayoutMiner(HandMiner):
    """A hand-driven miner that pays out to a given address (a keystore wallet that can stake)."""

    def __init__(self, daemon: RunningDaemon, payout: str):
        self.key = SigningKey.generate()
        self.payout = payout
        self.http = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(daemon.socket_path)), base_url="http://aitbc", timeout=60
        )
        self.registration = self.register()
        self.id = self.registration.json().get("id")

    def register(self) -> httpx.Response:
        return self.http.post(
            "/v1/miners",
            json={
                "public_key": bytes(self.key.verify_key).hex(),
                "payout": self.payout,
                "name": "staked",
                "executors": ["hash", "sleep", "fail"],
                "devices": [{"id": "cpu", "kind": "cpu"}],
                "price": 0,
            },
        )

    def running(self, grant: dict[str, Any]) -> None:
        """Say the job started, as the real miner's first heartbeat does (the coordinator times it)."""
        beat = {"job_id": grant["job_id"], "lease_id": grant["lease_id"], "running": True}
        self.http.post(f"/v1/miners/{self.id}/heartbeat", json={"leases": [beat]}).raise_for_status()

    def complete_one(self, client: Client) -> None:
        job = submit(client)
        grant = self.lease()
        assert grant is not None and grant["job_id"] == job.id
        self.running(grant)
        assert self.deliver(grant).status_code == 200
        settled(client, job.id)

    def fail_one(self, client: Client) -> None:
        job = submit(client)
        grant = self.lease()
        assert grant is not None and grant["job_id"] == job.id
        self.running(grant)
        assert self.fail(grant).status_code == 200
        settled(client, job.id)


def staked_wallet(client: Client, name: str, amount: int = 10 * AIT) -> str:
    address = funded_wallet(client, name, amount=amount + AIT)
    result = client.stake(name, chain=CHAIN, pool="gpu-flex", amount=amount, password=PASSWORD)
    assert result.status == "included", result
    return address


def position(client: Client, address: str) -> Any:
    (found,) = client.staking_positions(CHAIN, address).positions
    return found


def by_address(report: Any) -> dict[str, Any]:
    return {m.address: m for m in report.miners}


def test_reports_follow_reputation_and_utilization_and_rewards_follow_the_reports(client, jobs_daemon, cli):
    funded_wallet(client, "alice")
    good_address = staked_wallet(client, "good")
    bad_address = staked_wallet(client, "bad")
    staker = staked_wallet(client, "bob")  # stakes, mines nothing: reported as a miner with no record
    good, bad = PayoutMiner(jobs_daemon, good_address), PayoutMiner(jobs_daemon, bad_address)
    HandMiner(jobs_daemon).close()  # a miner with no stake is not reported either

    before = client.staking_report(CHAIN)
    assert before.reporter == DEVNET_REPORTER_ADDRESS and before.reporter_listed

    # Idle newcomers: reputation 0.5, utilization 0 -> 25%, posted as soon as they stake (the sweeper
    # sees new positions), not an interval later.
    for address in (good_address, bad_address, staker):  # stake alone earns what an idle miner does
        wait_for(lambda a=address: position(client, a).multiplier_bps == 2_500, 20, "a newcomer's report")
    entry = by_address(client.staking_report(CHAIN))[good_address]
    assert (entry.multiplier_bps, entry.previous_bps, entry.status) == (2_500, 10_000, "included")
    assert entry.tx and client.transaction(CHAIN, entry.tx).status == "included"
    assert position(client, good_address).weight == 10 * AIT * 2_500 // 10_000
    first = client.run_staking_report(CHAIN)
    assert {good_address, bad_address, staker} <= set(by_address(first))  # the daemon is shared
    entry = by_address(first)[good_address]
    assert (entry.multiplier_bps, entry.previous_bps, entry.status) == (2_500, 2_500, "unchanged")

    for _ in range(3):
        good.complete_one(client)
    for _ in range(2):
        bad.fail_one(client)

    second = by_address(client.run_staking_report(CHAIN))
    rose = second[good_address]
    assert (rose.completed, rose.failed, rose.reputation) == (3, 0, 0.8)
    assert 0 < rose.busy_seconds and 0 < rose.utilization < 1
    assert rose.multiplier_bps == multiplier_bps(
        completed=3, failed=0, lost=0, busy_seconds=rose.busy_seconds, window=3600
    )
    assert 4_000 <= rose.multiplier_bps < 4_100 and rose.previous_bps == 2_500 and rose.status == "included"
    fell = second[bad_address]
    assert (fell.completed, fell.failed, fell.utilization) == (0, 2, 0.0)
    assert (fell.multiplier_bps, fell.previous_bps, fell.status) == (1_250, 2_500, "included")  # 1/4 x 0.5
    assert second[staker].status == "unchanged"

    # Over the next interval the pool's rewards split by weight: amount x multiplier.
    weights = {a: position(client, a).weight for a in (good_address, bad_address, staker)}
    assert weights[good_address] == 10 * AIT * rose.multiplier_bps // 10_000
    start = {a: position(client, a).pending for a in weights}
    t0 = client.staking_positions(CHAIN, staker).time
    client.advance(CHAIN, 1_000)
    t1 = client.staking_positions(CHAIN, staker).time
    paid = (t1 - t0) * RATE
    total_weight = sum(weights.values())
    for address, weight in weights.items():
        gained = position(client, address).pending - start[address]
        assert abs(gained - paid * weight // total_weight) <= 2, address
    assert position(client, good_address).pending - start[good_address] > (
        position(client, bad_address).pending - start[bad_address]
    )

    # Nothing changed: nothing is sent.
    third = by_address(client.run_staking_report(CHAIN))
    assert third[good_address].status == "unchanged" and third[good_address].tx is None

    # The CLI shows each position's multiplier and why, and the last report.
    rewards = json.loads(cli("staking", "rewards", "-w", "good", "--json").stdout)
    (shown,) = rewards["positions"]
    assert shown["multiplier_bps"] == rose.multiplier_bps and shown["reputation"] == 0.8
    assert shown["utilization"] == rose.utilization and "reputation 0.80" in shown["reason"]
    human = cli("staking", "rewards", "-w", "good")
    assert human.exit_code == 0 and "reputation 0.80 x (0.5 + 0.5 x utilization" in human.stdout
    report = json.loads(cli("staking", "report", "--json").stdout)
    assert {good_address, bad_address, staker} <= {m["address"] for m in report["miners"]}
    human = cli("staking", "report", "--now")
    assert human.exit_code == 0 and f"reporter {DEVNET_REPORTER_ADDRESS}, window 3600s" in human.stdout
    assert "unchanged" in human.stdout and "25% -> 12.5%" not in human.stdout
    for miner in (good, bad):
        miner.close()


def test_the_background_loop_reports_and_a_chain_that_does_not_list_the_coordinator_is_skipped(
    aitbc_home: Path,
) -> None:
    daemon = start_daemon(aitbc_home, env=jobs_env(aitbc_home, AITBC_STAKING_REPORT_SECONDS="1"))
    try:
        with daemon.client(timeout=60) as client:
            address = staked_wallet(client, "good")
            miner = PayoutMiner(daemon, address)
            authority = SigningKey.generate()
            client.create_chain(_private_chain(authority), bytes(authority).hex())

            # The loop posts the idle newcomer's 25% on its own, within an interval or two.
            wait_for(lambda: position(client, address).multiplier_bps == 2_500, 20, "the loop's report")
            posted = client.staking_report(CHAIN)
            assert by_address(posted)[address].multiplier_bps == 2_500

            # On a chain whose genesis does not list the coordinator's key: skipped, logged once.
            first = wait_for(lambda: (r := client.staking_report("team-net")).at and r, 20, "a round")
            assert not first.reporter_listed and first.miners == []
            assert first.reporter != DEVNET_REPORTER_ADDRESS
            assert "staking.reporters" in (first.skipped or "")
            wait_for(lambda: (client.staking_report("team-net").at or 0) > (first.at or 0), 20, "another")
            forced = client.run_staking_report("team-net")
            assert forced.skipped and not forced.miners
            log = (aitbc_home / "logs" / "daemon.log").read_text()
            assert log.count("staking reports on team-net skipped") == 1
            miner.close()
    finally:
        daemon.stop()


def _private_chain(authority: SigningKey) -> dict[str, Any]:
    """A non-devnet chain with a staking pool whose reporter is somebody else."""
    somebody = address_from_public_key(bytes(SigningKey.generate().verify_key))
    return {
        "chain_id": "team-net",
        "timestamp": 1_767_225_600,
        "authorities": [bytes(authority.verify_key).hex()],
        "allocations": {somebody: 1_000 * AIT},
        "block_time": 1,
        "is_devnet": False,
        "staking": {
            "pools": {
                "flex": {"reward_rate": 1, "lock_seconds": 0, "early_exit_penalty_bps": 0, "budget": 1_000},
            },
            "reporters": [somebody],
        },
    }


@pytest.fixture
def collateral_daemon(aitbc_home: Path) -> Iterator[RunningDaemon]:
    running = start_daemon(aitbc_home, env=jobs_env(aitbc_home, AITBC_MINER_MIN_STAKE=str(5 * AIT)))
    yield running
    if running.process.poll() is None:
        running.stop()


def test_a_miner_needs_its_minimum_stake_to_register_and_to_lease(collateral_daemon, cli, monkeypatch):
    with collateral_daemon.client(timeout=120) as client:
        funded_wallet(client, "alice")
        address = funded_wallet(client, "payout", amount=10 * AIT)
        miner = PayoutMiner(collateral_daemon, address)
        refused = miner.registration
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "stake_required"
        assert "5 AIT" in refused.json()["error"]["message"]

        client.stake("payout", chain=CHAIN, pool="gpu-flex", amount=4 * AIT, password=PASSWORD)
        assert miner.register().status_code == 403  # 4 of 5 is not enough
        client.stake("payout", chain=CHAIN, pool="gpu-flex", amount=AIT, password=PASSWORD)
        accepted = miner.register()
        assert accepted.status_code == 201
        miner.id = accepted.json()["id"]
        job = submit(client)
        grant = miner.lease()
        assert grant is not None and grant["job_id"] == job.id
        assert miner.deliver(grant).status_code == 200

        # Unstaking below the minimum stops the leases at the next request.
        first = client.staking_positions(CHAIN, address).positions[0]
        client.unstake("payout", chain=CHAIN, position=first.id, password=PASSWORD)
        waiting = submit(client)
        answer = miner.http.post(f"/v1/miners/{miner.id}/lease", json={"wait": 0})
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "stake_required"
        assert client.job(waiting.id).state == "queued"
        client.cancel_job(waiting.id)
        with pytest.raises(ApiError):
            client.run_staking_report("no-such-chain")
        miner.close()

    # 'aitbc miner start' with an unstaked payout wallet: one line that says what to do.
    monkeypatch.setenv("AITBC_PASSWORD", PASSWORD)
    started = cli("miner", "start", "--wallet", "payout2", "--devices", "cpu")
    assert started.exit_code == 1
    assert started.stderr.count("\n") == 1 and "stake_required" not in started.stderr
    assert "needs at least 5 AIT as collateral" in started.stderr and "--from payout2" in started.stderr
    assert "Recovery phrase" in started.stdout  # the new wallet's phrase is not lost to the refusal

    # Staked, the same command starts the miner; 'miner status' shows its multiplier and why.
    with collateral_daemon.client(timeout=120) as client:
        client.faucet(CHAIN, client.wallet("payout2").address, 6 * AIT)
        client.stake("payout2", chain=CHAIN, pool="gpu-flex", amount=5 * AIT, password=PASSWORD)
        try:
            assert cli("miner", "start", "--wallet", "payout2", "--devices", "cpu").exit_code == 0
            payout = client.wallet("payout2").address
            wait_for(lambda: position(client, payout).multiplier_bps == 2_500, 20, "the newcomer's report")
            status = json.loads(cli("miner", "status", "--json").stdout)
            assert status["running"] and status["staking"]["staked"] == 5 * AIT
            assert (status["staking"]["multiplier_bps"], status["staking"]["reputation"]) == (2_500, 0.5)
            assert status["staking"]["report_tx"]
            human = cli("miner", "status").stdout
            assert "staking: 5 AIT staked, multiplier 25% = reputation 0.50" in human
        finally:
            cli("miner", "stop", "--now")
