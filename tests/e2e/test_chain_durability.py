"""Durability with real processes: kill -9 at any moment loses nothing that was reported."""

from __future__ import annotations

import random
import signal
import sqlite3
import threading
import time

import pytest

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID, devnet_signing_key
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.client import ClientError
from aitbc_daemon.wallet.addresses import address_from_public_key
from tests.conftest import home_env, start_daemon

pytestmark = pytest.mark.e2e
CHAIN = DEVNET_CHAIN_ID
SENDER = devnet_signing_key(5)
RECIPIENT = address_from_public_key(bytes(devnet_signing_key(6).verify_key))


def transfer(nonce: int) -> dict:
    return sign_transaction(SENDER, chain_id=CHAIN, type="transfer", nonce=nonce, fee=1,
                            payload={"to": RECIPIENT, "amount": 7}).to_dict()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_transactions_reported_included_survive_kill_9(aitbc_home, seed):
    daemon = start_daemon(aitbc_home)
    reported: list[str] = []
    stop = threading.Event()

    def submit_forever() -> None:
        nonce = 0
        with daemon.client(timeout=5) as client:
            while not stop.is_set():
                try:
                    result = client.submit_batch(CHAIN, [transfer(nonce + i) for i in range(20)])
                except ClientError:
                    return  # the daemon is gone
                reported.extend(r.hash for r in result.results if r.accepted)
                nonce += result.accepted

    worker = threading.Thread(target=submit_forever)
    worker.start()
    time.sleep(random.Random(seed).uniform(0.3, 1.5))
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(10)
    stop.set()
    worker.join(10)
    assert reported, "nothing was submitted before the kill"

    restarted = start_daemon(aitbc_home)  # verifies the head (hashes, signatures, app hash) on open
    try:
        with restarted.client() as client:
            statuses = {client.transaction(CHAIN, h).status for h in reported}
            assert statuses == {"included"}
            account = client.account(CHAIN, address_from_public_key(bytes(SENDER.verify_key)))
            assert account.nonce >= len(reported)
            # and the chain goes on
            assert client.submit_transaction(CHAIN, transfer(account.pending_nonce)).accepted
    finally:
        assert restarted.stop() == 0


def test_accepted_mempool_transactions_survive_a_restart(aitbc_home):
    env = home_env(aitbc_home, AITBC_BLOCK_TIME="3600")  # interval mining: nothing is mined for an hour
    daemon = start_daemon(aitbc_home, env=env)
    with daemon.client() as client:
        tx_hash = client.submit_transaction(CHAIN, transfer(0)).hash
        assert client.transaction(CHAIN, tx_hash).status == "pending"
    daemon.process.send_signal(signal.SIGKILL)
    daemon.process.wait(10)

    restarted = start_daemon(aitbc_home, env=env)
    try:
        with restarted.client() as client:
            assert client.transaction(CHAIN, tx_hash).status == "pending"
            assert client.chain_status(CHAIN).mempool_size == 1
            client.mine(CHAIN, 1)
            assert client.transaction(CHAIN, tx_hash).status == "included"
    finally:
        restarted.stop()


def test_tampered_state_is_detected_when_the_daemon_starts(aitbc_home):
    daemon = start_daemon(aitbc_home)
    with daemon.client() as client:
        client.submit_transaction(CHAIN, transfer(0))
    assert daemon.stop() == 0
    db = daemon.paths.data_dir / "chains" / CHAIN / "chain.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE accounts SET balance = balance + 1000000 WHERE address = ?", (RECIPIENT,))
    with pytest.raises(RuntimeError, match="app hash") as refused:
        start_daemon(aitbc_home)
    assert "Traceback" not in str(refused.value)
