"""Receipts checked offline: every signature and hash, and which check fails when something was altered."""

from __future__ import annotations

import copy

import pytest
from nacl.signing import SigningKey

from aitbc_daemon.jobs.receipts import build_receipt, countersign, receipt_hash, verify_receipt
from aitbc_daemon.wallet.addresses import address_from_public_key

MINER_KEY, COORDINATOR_KEY = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32)
CLIENT = address_from_public_key(bytes(SigningKey(b"\x03" * 32).verify_key))
PAYOUT = address_from_public_key(bytes(SigningKey(b"\x04" * 32).verify_key))
COORDINATOR = address_from_public_key(bytes(COORDINATOR_KEY.verify_key))
OUTPUT = b"model bytes\n"


def signed_receipt() -> dict:
    import hashlib

    miner_signed = build_receipt(
        job_id="job-1", chain_id="ait-devnet", client=CLIENT, miner=PAYOUT, miner_key=MINER_KEY, executor="train",
        params={"epochs": 3, "lr": 0.01}, inputs=[{"name": "iris.csv", "sha256": "a" * 64, "size": 10}],
        outputs=[{"name": "model.ckpt", "sha256": hashlib.sha256(OUTPUT).hexdigest(), "size": len(OUTPUT)}],
        device="cpu", started_at_ms=1000, ended_at_ms=2000, metrics={"val_accuracy": 0.93, "loss": 0.12},
        price=5_000_000,
    )
    return countersign(miner_signed, COORDINATOR_KEY)


def escrow_for(document: dict, **changes) -> dict:
    escrow = {"payer": CLIENT, "arbiter": COORDINATOR, "amount": 5_000_000, "status": "released",
              "payee": PAYOUT, "receipt_hash": receipt_hash(document)}
    return {**escrow, **changes}


def failed(checks) -> list[str]:
    return [c.name for c in checks if not c.ok]


def test_a_genuine_receipt_passes_every_check_including_the_files(tmp_path):
    document = signed_receipt()
    (tmp_path / "model.ckpt").write_bytes(OUTPUT)
    checks = verify_receipt(document, escrow=escrow_for(document), files_dir=tmp_path)
    assert failed(checks) == []
    assert len(checks) == 11


@pytest.mark.parametrize("path,value,check", [
    (("receipt", "price"), 1, "miner signature"),
    (("receipt", "metrics", "val_accuracy"), 0.99, "miner signature"),
    (("miner_signature",), "00" * 64, "miner signature"),
    (("coordinator_signature",), "11" * 64, "coordinator signature"),
    (("receipt", "output_hash"), "0" * 64, "output hash"),
], ids=["price", "metric", "miner signature", "coordinator signature", "output hash"])
def test_an_altered_receipt_names_the_check_that_fails(path, value, check):
    document = signed_receipt()
    altered = copy.deepcopy(document)
    target = altered
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    assert check in failed(verify_receipt(altered, escrow=escrow_for(document)))


def test_a_receipt_the_chain_did_not_pay_fails_against_the_escrow():
    document = signed_receipt()
    assert failed(verify_receipt(document, escrow=escrow_for(document, receipt_hash="f" * 64))) == [
        "receipt hash on chain"]
    assert "escrow released to the miner" in failed(verify_receipt(document, escrow=escrow_for(document, status="refunded")))
    assert "coordinator is the escrow's arbiter" in failed(
        verify_receipt(document, escrow=escrow_for(document, arbiter=CLIENT)))


def test_a_tampered_output_file_fails_its_own_check(tmp_path):
    document = signed_receipt()
    (tmp_path / "model.ckpt").write_bytes(b"other bytes")
    assert failed(verify_receipt(document, files_dir=tmp_path)) == ["output model.ckpt"]


def test_garbage_is_reported_not_raised():
    checks = verify_receipt({"receipt": "nope"})
    assert checks[-1].name == "structure" and not checks[-1].ok


def test_a_diverged_metric_is_signed_as_text():
    document = build_receipt(
        job_id="job-2", chain_id="ait-devnet", client=CLIENT, miner=PAYOUT, miner_key=MINER_KEY, executor="train",
        params={}, inputs=[], outputs=[], device="cpu", started_at_ms=0, ended_at_ms=1,
        metrics={"loss": float("nan"), "val_loss": float("inf"), "epochs": 3}, price=1,
    )
    assert document["receipt"]["metrics"] == {"loss": "nan", "val_loss": "inf", "epochs": 3}
    assert failed(verify_receipt(countersign(document, COORDINATOR_KEY))) == []
