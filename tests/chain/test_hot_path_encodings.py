"""The batch path's shortcuts give exactly the bytes (and refusals) of the full encodings.

Signing bytes cut out of a transaction's encoding, entity ids quoted by hand, kv
lines built around an encoded value, the hasher's cached lines and the client's
batch answer decoded by hand: each must agree with the general route it skips,
or signatures, app hashes and answers would change.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from aitbc_daemon.api_model import decode
from aitbc_daemon.chain.encoding import MAX_DEPTH, canonical_json
from aitbc_daemon.chain.errors import InvalidEncoding
from aitbc_daemon.chain.models import BatchResult
from aitbc_daemon.chain.state import StateOverlay, state_from_allocations
from aitbc_daemon.chain.state_hash import StateHasher, _entity_id, app_hash
from aitbc_daemon.chain.tx import _SIGNED_FIELDS, Transaction, transaction_from_dict, verify_transaction
from aitbc_daemon.client import _batch_result

from .conftest import ADDRESSES, CHAIN_ID, KEYS, OUTSIDER, signed


def _full_signing_bytes(tx: Transaction) -> bytes:
    return canonical_json({name: getattr(tx, name) for name in _SIGNED_FIELDS})


@pytest.mark.parametrize(
    "payload",
    [
        {"to": OUTSIDER, "amount": 5},
        {"signature": "ab", "type": "zz", "note": ',"signature":"' + "0" * 128 + '","type":"transfer"}'},
        {"é": ["\u2028", None, True, {"deep": [1, 2]}]},
    ],
)
def test_signing_bytes_cut_from_the_encoding_match_the_full_encoding(payload: dict[str, Any]) -> None:
    tx = transaction_from_dict(signed(KEYS[1], 0, "transfer", payload).to_dict())
    assert tx.signing_bytes == _full_signing_bytes(tx)
    verify_transaction(tx, CHAIN_ID)


@pytest.mark.parametrize(("tx_type", "signature"), [('a"b', "cd" * 64), ("transfer", "x\\y"), (5, "ab")])
def test_signing_bytes_of_odd_fields_take_the_full_encoding(tx_type: Any, signature: str) -> None:
    good = signed(KEYS[1], 0)
    odd = Transaction(CHAIN_ID, tx_type, good.sender, 0, 10, {}, good.public_key, signature)
    assert odd.signing_bytes == _full_signing_bytes(odd)


@pytest.mark.parametrize(
    "entity",
    [
        ("kv", "exchange", "order:17"),
        ("kv", "dao", 'say "hi"'),
        ("kv", "dao", "back\\slash"),
        ("kv", "dao", "line\nbreak\x01"),
        ("kv", "dao", "é\u2028\x7f"),
        ("escrow", "job-1"),
    ],
)
def test_entity_ids_are_the_canonical_json_of_the_entity(entity: tuple[str, ...]) -> None:
    assert _entity_id(entity) == canonical_json(list(entity))


def test_entity_id_with_a_lone_surrogate_is_refused_as_before() -> None:
    with pytest.raises(InvalidEncoding):
        _entity_id(("kv", "dao", "\ud800"))


def test_nesting_limit_is_unchanged() -> None:
    deepest: Any = 1
    for _ in range(MAX_DEPTH):
        deepest = [deepest]
    canonical_json(deepest)  # MAX_DEPTH levels of lists around a scalar: allowed
    with pytest.raises(InvalidEncoding, match="deeper"):
        canonical_json([deepest])
    with pytest.raises(InvalidEncoding, match="deeper"):
        canonical_json(deepest, depth=1)  # the same value inside a one-level wrapper


def test_cached_lines_track_every_block_like_a_fresh_hash() -> None:
    """Entities sharing buckets with untouched ones, rewritten, deleted and re-created."""
    committed = state_from_allocations([(a, 100) for a in ADDRESSES])
    hasher = StateHasher(committed)
    for height in range(1, 40):
        overlay = StateOverlay(committed)
        for i in range(0, 300, height % 5 + 1):
            if (i + height) % 7 == 0:
                overlay.kv_delete("exchange", f"order:{i}")
            else:
                overlay.kv_put("exchange", f"order:{i}", {"id": i, "filled": height, "tag": 'q"\\'})
        overlay.credit(ADDRESSES[height % len(ADDRESSES)], height)
        update = hasher.prepare(overlay)
        assert update.root == app_hash(overlay)
        committed.apply_changes(overlay.changes())
        hasher.apply(update)
        assert hasher.root == StateHasher(committed).root
    assert update.kv_json  # what the store writes: the same bytes it would encode itself
    assert all(encoded == canonical_json(committed.kv[key]) for key, encoded in update.kv_json.items())


def test_batch_answer_decoded_by_hand_matches_the_generic_decoder() -> None:
    data = {
        "accepted": 1,
        "rejected": 1,
        "height": 7,
        "results": [
            {"hash": "ab" * 32, "accepted": True, "code": None, "message": None},
            {"hash": None, "accepted": False, "code": "malformed_tx", "message": "no"},
        ],
    }
    assert _batch_result(json.loads(json.dumps(data))) == decode(BatchResult, data)


@pytest.mark.parametrize(
    "results",
    [None, [{"hash": "ab", "accepted": "yes"}], [{"hash": 5, "accepted": True}], ["x"]],
)
def test_batch_answer_of_the_wrong_shape_is_refused(results: Any) -> None:
    with pytest.raises(ValueError, match="unexpected answer"):
        _batch_result({"accepted": 0, "rejected": 0, "height": 1, "results": results})
