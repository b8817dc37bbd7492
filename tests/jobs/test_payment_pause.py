"""A DAO emergency pause of job payments through a real daemon: the payment stays owed, then is
paid exactly once after the resume (the coordinator's retry), with the devnet's council deciding."""

from __future__ import annotations

from aitbc_daemon.client import Client
from tests.jobs_fixtures import AIT, CHAIN, PASSWORD, balance, funded_wallet, settled, submit

DAY = 86_400


def _dev_wallets(client: Client) -> None:
    """Dev accounts 1 and 2 (1,000,000 AIT each, members of the devnet council) as wallets dev1, dev2."""
    accounts = client.dev_accounts(CHAIN).accounts
    for index in (1, 2):
        client.import_wallet(f"dev{index}", PASSWORD, private_key=accounts[index].private_key)


def _dao(client: Client, wallet: str, tx_type: str, payload: dict) -> None:
    result = client.dao_transact(wallet, chain=CHAIN, tx_type=tx_type, payload=payload, password=PASSWORD)
    assert result.status == "included", (tx_type, result.reason)


def _enact_emergency(client: Client, action: str) -> None:
    """Propose, vote, queue, approve (2 of 3), execute: the devnet DAO's whole timeline."""
    emergency = {"module": "job-payments", "action": action}
    title = f"{action} job payments"
    _dao(client, "dev1", "dao_propose", {"type": "emergency", "title": title, "action": emergency})
    proposal = max(p.id for p in client.dao_proposals(CHAIN).proposals)
    client.advance(CHAIN, DAY)
    for wallet in ("dev1", "dev2"):
        _dao(client, wallet, "dao_vote", {"proposal": proposal, "support": "for"})
    client.advance(CHAIN, 7 * DAY)
    _dao(client, "dev2", "dao_queue", {"proposal": proposal})
    for wallet in ("dev1", "dev2"):
        _dao(client, wallet, "dao_council", {"action": "approve", "proposal": proposal})
    client.advance(CHAIN, 2 * DAY)
    _dao(client, "dev1", "dao_execute", {"proposal": proposal})


def test_paused_job_payments_stay_owed_and_are_paid_once_after_resume(client, hand_miner):
    _dev_wallets(client)
    funded_wallet(client)
    _enact_emergency(client, "pause")
    assert client.dao_params(CHAIN).paused == ["job-payments"]
    assert client.chain_status(CHAIN).paused == ["job-payments"]

    job = submit(client, payment=2 * AIT)  # locking a payment is not paused
    grant = hand_miner.lease()
    assert grant["job_id"] == job.id
    answer = hand_miner.deliver(grant)
    assert answer.status_code == 200, answer.text

    done = client.job(job.id)
    assert (done.state, done.settlement, done.settlement_tx) == ("completed", "release", None)
    assert client.escrow(CHAIN, job.id).status == "locked"
    client.mine(CHAIN, 2)  # more blocks, sweeps in between: still owed, nothing moved
    assert client.job(job.id).settlement_tx is None
    assert client.escrow(CHAIN, job.id).status == "locked"
    assert balance(client, hand_miner.payout) == 0

    _enact_emergency(client, "resume")
    assert client.chain_status(CHAIN).paused == []
    paid = settled(client, job.id)  # the sweeper's retry
    escrow = client.escrow(CHAIN, job.id)
    assert (escrow.status, escrow.payee) == ("released", hand_miner.payout)
    assert balance(client, hand_miner.payout) == 2 * AIT  # once, not twice
    settlement = client.transaction(CHAIN, paid.settlement_tx)
    assert settlement.status == "included" and settlement.transaction["type"] == "escrow_release"
