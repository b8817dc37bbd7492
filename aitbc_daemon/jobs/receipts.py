"""Job receipts: what a miner signs, what the coordinator countersigns, how anyone checks both.

A receipt binds one payment to one piece of work. The miner signs the body
(job, client, miner, executor, input and output hashes, device, times,
metrics, price); the coordinator checks it and countersigns the body together
with the miner's signature; the SHA-256 of the whole signed document is
recorded on chain with the escrow release. So a payment can be audited from
the chain and the receipt alone, with no trust in the daemon that shows them:
`verify_receipt` needs nothing but the document, the on-chain escrow and
(optionally) the output files.

Encoding: JSON with sorted keys and no whitespace. Unlike transactions,
receipts carry floats (losses, accuracies); Python writes each float as its
shortest round-trip text, so the same values always give the same bytes.
Times are integer milliseconds since the epoch.

This module is pure (hashlib, json, PyNaCl): the CLI imports it to verify
offline.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from aitbc_daemon.wallet.addresses import address_from_public_key

RECEIPT_VERSION = 1
RECEIPT_FIELDS = (
    "version",
    "job_id",
    "chain_id",
    "client",
    "miner",
    "miner_key",
    "executor",
    "params",
    "inputs",
    "input_hash",
    "outputs",
    "output_hash",
    "device",
    "started_at_ms",
    "ended_at_ms",
    "metrics",
    "price",
)


def receipt_json(value: Any) -> bytes:
    """The bytes that are signed and hashed (sorted keys, no whitespace, UTF-8, no NaN)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_list(files: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Inputs or outputs as `[{name, sha256, size}]` sorted by name: one spelling per set of files."""
    return sorted(
        ({"name": f["name"], "sha256": f["sha256"], "size": int(f["size"])} for f in files),
        key=lambda f: f["name"],
    )


def input_hash(params: Mapping[str, Any], inputs: Iterable[Mapping[str, Any]]) -> str:
    """What was asked: the parameters and every input file's digest, in one hash."""
    return sha256_hex(receipt_json({"params": dict(params), "inputs": file_list(inputs)}))


def output_hash(outputs: Iterable[Mapping[str, Any]]) -> str:
    """What was delivered: every output file's name, digest and size, in one hash."""
    return sha256_hex(receipt_json(file_list(outputs)))


def build_receipt(
    *,
    job_id: str,
    chain_id: str,
    client: str,
    miner: str,
    miner_key: SigningKey,
    executor: str,
    params: Mapping[str, Any],
    inputs: Sequence[Mapping[str, Any]],
    outputs: Sequence[Mapping[str, Any]],
    device: str,
    started_at_ms: int,
    ended_at_ms: int,
    metrics: Mapping[str, Any],
    price: int,
) -> dict[str, Any]:
    """The miner's signed receipt: `{"receipt": body, "miner_signature": hex}`."""
    body = {
        "version": RECEIPT_VERSION,
        "job_id": job_id,
        "chain_id": chain_id,
        "client": client,
        "miner": miner,
        "miner_key": bytes(miner_key.verify_key).hex(),
        "executor": executor,
        "params": dict(params),
        "inputs": file_list(inputs),
        "input_hash": input_hash(params, inputs),
        "outputs": file_list(outputs),
        "output_hash": output_hash(outputs),
        "device": device,
        "started_at_ms": int(started_at_ms),
        "ended_at_ms": int(ended_at_ms),
        "metrics": finite_metrics(metrics),
        "price": int(price),
    }
    return {"receipt": body, "miner_signature": miner_key.sign(receipt_json(body)).signature.hex()}


def finite_metrics(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Metrics with NaN and infinities spelled as text: a diverged loss is still a result to sign,
    and JSON has no spelling for them."""
    return {
        name: (repr(value) if isinstance(value, float) and not math.isfinite(value) else value)
        for name, value in metrics.items()
    }


def countersign(signed_by_miner: Mapping[str, Any], coordinator_key: SigningKey) -> dict[str, Any]:
    """The coordinator's signature over the body and the miner's signature: the final receipt."""
    document = {"receipt": signed_by_miner["receipt"], "miner_signature": signed_by_miner["miner_signature"]}
    return {
        **document,
        "coordinator_key": bytes(coordinator_key.verify_key).hex(),
        "coordinator_signature": coordinator_key.sign(receipt_json(document)).signature.hex(),
    }


def receipt_hash(document: Mapping[str, Any]) -> str:
    """The hash recorded on chain with the release: of the whole countersigned document."""
    return sha256_hex(receipt_json(dict(document)))


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""


def miner_signature_ok(document: Mapping[str, Any]) -> bool:
    return _signature_ok(
        document["receipt"]["miner_key"], document["miner_signature"], receipt_json(document["receipt"])
    )


def verify_receipt(
    document: Mapping[str, Any],
    *,
    escrow: Mapping[str, Any] | None = None,
    files_dir: Path | None = None,
) -> list[Check]:
    """Every check a sceptical client can run on its own; each says what it compared.

    `escrow` is the job's escrow as the chain holds it (arbiter, status, payee,
    amount, receipt_hash); `files_dir` holds downloaded outputs to re-hash.
    """
    checks: list[Check] = []
    try:
        body = document["receipt"]
        missing = [name for name in RECEIPT_FIELDS if name not in body]
        checks.append(
            Check("fields", not missing, f"missing: {', '.join(missing)}" if missing else "all present")
        )
        checks.append(
            Check("miner signature", miner_signature_ok(document), f"key {body['miner_key'][:16]}…")
        )
        countersigned = {"receipt": body, "miner_signature": document["miner_signature"]}
        checks.append(
            Check(
                "coordinator signature",
                _signature_ok(
                    document["coordinator_key"],
                    document["coordinator_signature"],
                    receipt_json(countersigned),
                ),
                f"key {document['coordinator_key'][:16]}…",
            )
        )
        recomputed_in = input_hash(body["params"], body["inputs"])
        checks.append(Check("input hash", recomputed_in == body["input_hash"], recomputed_in))
        recomputed_out = output_hash(body["outputs"])
        checks.append(Check("output hash", recomputed_out == body["output_hash"], recomputed_out))
    except (KeyError, TypeError, ValueError) as exc:
        return [*checks, Check("structure", False, f"not a receipt document: {type(exc).__name__}: {exc}")]
    if escrow is not None:
        checks.extend(_escrow_checks(document, body, escrow))
    if files_dir is not None:
        checks.extend(_file_checks(body["outputs"], files_dir))
    return checks


def _escrow_checks(
    document: Mapping[str, Any], body: Mapping[str, Any], escrow: Mapping[str, Any]
) -> list[Check]:
    try:
        coordinator = address_from_public_key(bytes.fromhex(document["coordinator_key"]))
    except ValueError:
        coordinator = "?"
    recorded = escrow.get("receipt_hash")
    computed = receipt_hash(document)
    return [
        Check(
            "coordinator is the escrow's arbiter",
            coordinator == escrow.get("arbiter"),
            str(escrow.get("arbiter")),
        ),
        Check(
            "escrow released to the miner",
            escrow.get("status") == "released" and escrow.get("payee") == body["miner"],
            f"{escrow.get('status')} to {escrow.get('payee')}",
        ),
        Check(
            "price is the escrowed amount",
            escrow.get("amount") == body["price"],
            f"{escrow.get('amount')} units",
        ),
        Check("receipt hash on chain", recorded == computed, f"chain {recorded or 'none'}"),
        Check(
            "client is the escrow's payer", escrow.get("payer") == body["client"], str(escrow.get("payer"))
        ),
    ]


def _file_checks(outputs: Sequence[Mapping[str, Any]], files_dir: Path) -> list[Check]:
    checks = []
    for item in outputs:
        path = files_dir / item["name"]
        if not path.is_file():
            checks.append(Check(f"output {item['name']}", False, f"not found in {files_dir}"))
            continue
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        checks.append(Check(f"output {item['name']}", digest == item["sha256"], digest))
    return checks


def _signature_ok(public_key_hex: str, signature_hex: str, message: bytes) -> bool:
    try:
        VerifyKey(bytes.fromhex(public_key_hex)).verify(message, bytes.fromhex(signature_hex))
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True
