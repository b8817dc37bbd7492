"""Transactions through the real daemon: every kind of bad input is a 4xx with a code, and changes nothing."""

from __future__ import annotations

import httpx
import pytest
from nacl.signing import SigningKey

from aitbc_daemon.chain.genesis import DEVNET_CHAIN_ID, devnet_signing_key
from aitbc_daemon.chain.tx import sign_transaction
from aitbc_daemon.wallet.addresses import address_from_public_key

CHAIN = DEVNET_CHAIN_ID
SENDER = devnet_signing_key(3)
SENDER_ADDRESS = address_from_public_key(bytes(SENDER.verify_key))
RECIPIENT = address_from_public_key(bytes(devnet_signing_key(4).verify_key))


@pytest.fixture
def http(daemon):
    transport = httpx.HTTPTransport(uds=str(daemon.socket_path))
    with httpx.Client(transport=transport, base_url="http://aitbc", timeout=30) as client:
        yield client


def transfer(nonce: int = 0, amount: int = 1_000, *, key: SigningKey = SENDER, chain: str = CHAIN, **extra) -> dict:
    tx = sign_transaction(key, chain_id=chain, type="transfer", nonce=nonce, fee=10,
                          payload={"to": RECIPIENT, "amount": amount}).to_dict()
    return {**tx, **extra}


def snapshot(http) -> tuple:
    status = http.get(f"/v1/chains/{CHAIN}/status").json()
    sender = http.get(f"/v1/chains/{CHAIN}/accounts/{SENDER_ADDRESS}").json()
    return status["height"], status["mempool_size"], status["app_hash"], sender["balance"], sender["nonce"]


def submit(http, body) -> httpx.Response:
    return http.post(f"/v1/chains/{CHAIN}/txs", json=body)


def test_valid_transfer_is_mined_instantly(http):
    before = snapshot(http)
    response = submit(http, transfer())
    assert response.status_code == 202, response.text
    tx_hash = response.json()["hash"]
    info = http.get(f"/v1/chains/{CHAIN}/txs/{tx_hash}").json()
    assert info["status"] == "included" and info["height"] == before[0] + 1
    assert http.get(f"/v1/chains/{CHAIN}/accounts/{RECIPIENT}").json()["balance"] == 1_000_000_000_000 + 1_000


def tampered_signature() -> dict:
    tx = transfer()
    flipped = "0" if tx["signature"][0] != "0" else "1"
    return {**tx, "signature": flipped + tx["signature"][1:]}


def edited_after_signing() -> dict:
    tx = transfer()
    return {**tx, "payload": {**tx["payload"], "amount": 999_999}}


BAD_TRANSACTIONS = {
    "bad signature": (tampered_signature, 400, "bad_signature"),
    "edited after signing": (edited_after_signing, 400, "bad_signature"),
    "wrong chain id": (lambda: transfer(chain="ait-othernet"), 400, "wrong_chain"),
    "future nonce beyond the gap": (lambda: transfer(nonce=10_000), 409, "nonce_too_high"),
    "overdraft": (lambda: transfer(amount=10**15), 409, "insufficient_funds"),
    "zero amount": (lambda: transfer(amount=0), 400, "invalid_amount"),
    "negative amount": (lambda: transfer(amount=-5), 400, "invalid_amount"),
    "huge amount": (lambda: {**transfer(), "fee": 2**60}, 400, "malformed_transaction"),
    "unknown field": (lambda: transfer(colour="red"), 400, "malformed_transaction"),
    "missing field": (lambda: {k: v for k, v in transfer().items() if k != "nonce"}, 400, "malformed_transaction"),
    "unknown tx type": (
        lambda: sign_transaction(SENDER, chain_id=CHAIN, type="teleport", nonce=0, fee=1, payload={}).to_dict(),
        400, "unknown_tx_type",
    ),
    "invalid bech32 recipient": (
        lambda: sign_transaction(SENDER, chain_id=CHAIN, type="transfer", nonce=0, fee=1,
                                 payload={"to": RECIPIENT[:-1] + ("q" if RECIPIENT[-1] != "q" else "p"),
                                          "amount": 5}).to_dict(),
        400, "invalid_payload",
    ),
}


@pytest.mark.parametrize("case", list(BAD_TRANSACTIONS))
def test_bad_transaction_is_refused_with_a_code_and_changes_nothing(http, case):
    make, status, code = BAD_TRANSACTIONS[case]
    before = snapshot(http)
    try:
        body = make()
    except ValueError as exc:  # the signer itself refuses some of these before any network call
        pytest.skip(f"refused before signing: {exc}")
    response = submit(http, body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert snapshot(http) == before


def test_replayed_transaction_is_refused(http):
    tx = transfer()
    assert submit(http, tx).status_code == 202
    before = snapshot(http)
    replay = submit(http, tx)
    assert replay.status_code == 409
    assert replay.json()["error"]["code"] == "nonce_too_low"
    assert snapshot(http) == before


def test_oversize_payload_is_refused(http):
    tx = transfer()
    response = submit(http, {**tx, "payload": {**tx["payload"], "memo": "x" * 20_000}})
    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"transaction_too_large", "malformed_transaction"}


def test_malformed_json_and_non_object_bodies(http):
    before = snapshot(http)
    bad_json = http.post(f"/v1/chains/{CHAIN}/txs", content=b"{nope", headers={"content-type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()["error"]["code"] == "invalid_json"
    as_list = http.post(f"/v1/chains/{CHAIN}/txs", json=[1, 2])
    assert as_list.status_code in (400, 422)
    assert snapshot(http) == before


def test_batch_gives_each_transaction_its_own_verdict(http):
    good = [transfer(nonce=n) for n in range(3)]
    bad = tampered_signature()
    response = http.post(f"/v1/chains/{CHAIN}/txs/batch", json={"transactions": [*good, bad, {"junk": 1}]})
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["accepted"], result["rejected"]) == (3, 2)
    assert [r["code"] for r in result["results"]] == [None, None, None, "bad_signature", "malformed_transaction"]
    assert http.get(f"/v1/chains/{CHAIN}/accounts/{SENDER_ADDRESS}").json()["nonce"] == 3


def test_unknown_chain_and_unknown_objects_are_404(http):
    assert http.get("/v1/chains/nope/status").json()["error"]["code"] == "chain_not_found"
    assert http.get(f"/v1/chains/{CHAIN}/txs/{'ab' * 32}").json()["error"]["code"] == "tx_not_found"
    assert http.get(f"/v1/chains/{CHAIN}/blocks/999").json()["error"]["code"] == "block_not_found"
    assert http.get(f"/v1/chains/{CHAIN}/blocks/xyz").status_code == 400
    assert http.get(f"/v1/chains/{CHAIN}/accounts/ait1nothing").status_code == 400


def test_devnet_controls_are_refused_on_other_chains(http):
    from aitbc_daemon.chain.genesis import devnet_genesis

    genesis = devnet_genesis().to_dict() | {"chain_id": "prod-chain", "is_devnet": False}
    assert http.post("/v1/chains", json={"genesis": genesis}).status_code == 201
    for path, body in (("mine", {"blocks": 1}), ("advance", {"seconds": 60}), ("faucet", {"to": RECIPIENT, "amount": 1})):
        response = http.post(f"/v1/chains/prod-chain/{path}", json=body)
        assert response.status_code == 403, (path, response.text)
        assert response.json()["error"]["code"] == "devnet_only"
    assert http.get("/v1/chains/prod-chain/dev-accounts").json()["error"]["code"] == "devnet_only"


def test_transaction_for_one_chain_is_refused_by_another(http):
    from aitbc_daemon.chain.genesis import devnet_genesis

    genesis = devnet_genesis().to_dict() | {"chain_id": "second-devnet"}
    assert http.post("/v1/chains", json={"genesis": genesis}).status_code == 201
    tx = transfer(chain="second-devnet")
    wrong = submit(http, tx)  # sent to ait-devnet
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "wrong_chain"
    right = http.post("/v1/chains/second-devnet/txs", json=tx)
    assert right.status_code == 202


def test_advance_moves_block_time(http):
    head_time = http.get(f"/v1/chains/{CHAIN}/status").json()["head_time"]
    advanced = http.post(f"/v1/chains/{CHAIN}/advance", json={"seconds": 86_400}).json()
    assert advanced["block_time"] >= head_time + 86_400
