"""Two daemons on loopback: one authority, one follower that verifies and re-executes every block."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pytest

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID, devnet_signing_key
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.wallet.addresses import address_from_public_key
from tests.conftest import home_env, make_home, start_daemon

pytestmark = pytest.mark.e2e
CHAIN = DEVNET_CHAIN_ID
SENDER = devnet_signing_key(7)
RECIPIENT = address_from_public_key(bytes(devnet_signing_key(8).verify_key))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def transfer(nonce: int) -> dict:
    return sign_transaction(SENDER, chain_id=CHAIN, type="transfer", nonce=nonce, fee=3,
                            payload={"to": RECIPIENT, "amount": 11}).to_dict()


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


@pytest.fixture
def two_daemons(aitbc_home):
    port = free_port()
    authority = start_daemon(aitbc_home, "--tcp", f"127.0.0.1:{port}")
    follower_home = make_home()
    follower = start_daemon(follower_home)
    yield authority, follower, f"http://127.0.0.1:{port}"
    follower.stop()
    authority.stop()


def test_follower_catches_up_verifies_and_forwards(two_daemons):
    authority, follower, url = two_daemons
    with authority.client() as upstream:
        for nonce in range(5):
            upstream.submit_transaction(CHAIN, transfer(nonce))
        upstream.mine(CHAIN, 2)
    token = authority.paths.tcp_token_file.read_text().strip()

    followed = subprocess.run(
        [sys.executable, "-m", "aitbc_cli", "chain", "follow", url, "--token", token, "--json"],
        env=home_env(follower.home), capture_output=True, text=True, timeout=60,
    )
    assert followed.returncode == 0, followed.stderr
    assert json.loads(followed.stdout)["mining"] == "following"

    with authority.client() as upstream, follower.client() as local:
        wait_for(lambda: local.chain_status(CHAIN).height == upstream.chain_status(CHAIN).height)
        mine, theirs = local.chain_status(CHAIN), upstream.chain_status(CHAIN)
        assert (mine.head_hash, mine.app_hash) == (theirs.head_hash, theirs.app_hash)
        assert mine.following == url

        # a transaction sent to the follower is forwarded to the authority and comes back in a block
        forwarded = local.submit_transaction(CHAIN, transfer(5))
        assert forwarded.accepted
        wait_for(lambda: _included(local, forwarded.hash))
        assert local.account(CHAIN, RECIPIENT).balance == upstream.account(CHAIN, RECIPIENT).balance

        # refusals come back with the authority's code
        refused = local.submit_batch(CHAIN, [transfer(0)])
        assert refused.results[0].code == "nonce_too_low"

    # a restarted follower keeps following
    assert follower.stop() == 0
    again = start_daemon(follower.home)
    try:
        with again.client() as local, authority.client() as upstream:
            upstream.mine(CHAIN, 1)
            wait_for(lambda: local.chain_status(CHAIN).height == upstream.chain_status(CHAIN).height)
            assert local.chain_status(CHAIN).mining == "following"
    finally:
        again.stop()


def _included(client, tx_hash: str) -> bool:
    from aitbc_daemon.client import ApiError

    try:
        return client.transaction(CHAIN, tx_hash).status == "included"
    except ApiError:
        return False


def test_follow_with_a_wrong_token_is_refused_and_changes_nothing(two_daemons):
    _authority, follower, url = two_daemons
    result = subprocess.run(
        [sys.executable, "-m", "aitbc_cli", "chain", "follow", url, "--token", "wrong"],
        env=home_env(follower.home), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 1
    assert "a valid bearer token is required" in result.stderr
    with follower.client() as local:
        assert local.chain_status(CHAIN).mining == "instant"


def test_a_chain_with_its_own_blocks_cannot_turn_follower(two_daemons):
    authority, follower, url = two_daemons
    with follower.client() as local:
        local.mine(CHAIN, 1)
        token = authority.paths.tcp_token_file.read_text().strip()
        from aitbc_daemon.client import ApiError

        with pytest.raises(ApiError) as refused:
            local.follow_chain(url, token, CHAIN)
    assert refused.value.code == "chain_not_empty"
