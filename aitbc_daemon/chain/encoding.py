"""Canonical encoding: the exact bytes that get signed and hashed.

Two processes (or two versions of this program) must turn the same value into
the same bytes, or signatures and hashes stop matching. Canonical JSON gives
that: sorted keys, no whitespace, UTF-8, and only types with one spelling.
Floats are refused because `0.1` has no single exact text form and because
amounts are integers in the smallest unit anyway. Integers are bounded to
+-(2**53 - 1), the range every JSON parser (JavaScript included) reads exactly,
so a client in any language reproduces the same value and hash.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from aitbc_daemon.chain.errors import InvalidEncoding

MAX_SAFE_INT = 2**53 - 1
MAX_DEPTH = 16

JSONValue = None | bool | int | str | list[Any] | dict[str, Any]

# One encoder for every call: `json.dumps` with these options builds a new one each time, a
# noticeable share of encoding the small values that are hashed at every block.
_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any, depth: int = 0) -> bytes:
    """The canonical bytes of `value`; raises InvalidEncoding for values with no canonical form.

    `depth`: how deep `value` sits inside a larger value whose bytes are built around these
    (the nesting limit counts from the outer value's top).
    """
    _check_encodable(value, depth)
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot be UTF-8
        raise InvalidEncoding(f"string is not valid Unicode text: {exc.reason}") from None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_json_strict(data: bytes | str) -> Any:
    """Parse JSON from outside (wire, disk), refusing what canonical_json could not produce.

    Duplicate keys are refused because two parsers may keep different copies,
    which would let one signed transaction mean two things.
    """
    try:
        value = json.loads(
            data,
            parse_float=_refuse_float,
            parse_constant=_refuse_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except InvalidEncoding:
        raise
    except (ValueError, RecursionError) as exc:
        raise InvalidEncoding(f"not valid JSON: {exc}") from None
    _check_encodable(value, 0)
    return value


def _check_encodable(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise InvalidEncoding(f"value nests deeper than {MAX_DEPTH} levels")
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return
    if kind is int:
        if -MAX_SAFE_INT <= value <= MAX_SAFE_INT:
            return
        raise InvalidEncoding(f"integer {value} is outside +-(2**53 - 1)")
    # Sound scalars (strings, bools, nulls, safe integers) inside a container are passed over
    # inline rather than by a call each: the calls were most of the cost, and every app-hash
    # line is checked. Anything else takes the call, which refuses it with the same message
    # as ever; at the depth limit every item takes the call (which refuses it for depth).
    inline = depth < MAX_DEPTH
    if kind is dict:
        for key, item in value.items():
            if type(key) is not str:
                raise InvalidEncoding(f"object key {key!r} is not a string")
            if inline:
                item_kind = type(item)
                if item_kind is str or item_kind is bool or item is None:
                    continue
                if item_kind is int and -MAX_SAFE_INT <= item <= MAX_SAFE_INT:
                    continue
            _check_encodable(item, depth + 1)
        return
    if kind is list or kind is tuple:
        for item in value:
            if inline:
                item_kind = type(item)
                if item_kind is str or item_kind is bool or item is None:
                    continue
                if item_kind is int and -MAX_SAFE_INT <= item <= MAX_SAFE_INT:
                    continue
            _check_encodable(item, depth + 1)
        return
    if kind is float:
        raise InvalidEncoding(f"floats have no canonical encoding ({value!r}); use integer units")
    raise InvalidEncoding(f"cannot encode a value of type {kind.__name__}")


def _refuse_float(text: str) -> Any:
    raise InvalidEncoding(f"floats have no canonical encoding ({text}); use integer units")


def _refuse_constant(text: str) -> Any:
    raise InvalidEncoding(f"{text} is not allowed")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, item in pairs:
        if key in result:
            raise InvalidEncoding(f"duplicate key {key!r}")
        result[key] = item
    return result
