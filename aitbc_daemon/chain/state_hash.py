"""The app hash: one SHA-256 that commits to the whole state, updated incrementally.

Why buckets: hashing every entry at every block costs O(state) per block
(about 0.3 s at 100k accounts), while a block touches a few thousand entries.
So the state is split into 65,536 buckets by the SHA-256 of each *entity*
(an account address, an escrow id, a module kv key), each bucket has a digest,
and the app hash is SHA-256 over the concatenated bucket digests in bucket
order. A block recomputes only the buckets it touched: O(touched entities
+ number of buckets) instead of O(state).

Definition (clients recomputing the hash need exactly this):

- entity lines, each canonical JSON plus "\\n": `["balance", address, units]`
  and `["nonce", address, next_nonce]` (left out when zero, so an untouched
  account and one back at zero hash alike), `["escrow", id, {escrow}]`,
  `["kv", module, key, value]`;
- bucket of an entity: the first two bytes (big-endian) of SHA-256 of the
  address, or of the canonical JSON of `["escrow", id]` / `["kv", module, key]`;
- bucket digest: SHA-256 of its lines sorted bytewise and concatenated
  (an empty bucket is SHA-256 of nothing);
- app hash: hex SHA-256 of the 65,536 bucket digests, bucket 0 first.

`app_hash(view)` computes it from scratch (the reference, used to verify the
store at open); `StateHasher` keeps bucket digests and members for the
committed state and prices a block at the buckets it touched. Tests check the
two always agree.

Why the hasher also keeps every committed entity's lines: a touched bucket's
digest needs the lines of its untouched members too, and re-encoding those
(canonical JSON of exchange orders, trades...) was most of a block's hashing
time. A committed entity's lines change only through `apply`, so they are
encoded once. And why a block's kv values leave here already encoded: the
store writes the same canonical JSON, so `HashUpdate.kv_json` saves encoding
each value twice.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from aitbc_daemon.chain.encoding import canonical_json
from aitbc_daemon.chain.state import ChainState, StateOverlay, StateView, flatten

BUCKETS = 1 << 16
EMPTY_BUCKET = hashlib.sha256(b"").digest()
# What JSON escapes in a string (ensure_ascii off): quote, backslash, control characters.
_NEEDS_ESCAPE = re.compile(r'[\x00-\x1f"\\]')

# An address (str), ("escrow", id) or ("kv", module, key).
Entity = str | tuple[str, ...]


def app_hash(view: StateView) -> str:
    """The app hash of `view`, computed from scratch."""
    state = view if isinstance(view, ChainState) else flatten(view)
    return StateHasher(state).root


@dataclass(frozen=True)
class HashUpdate:
    """A block's effect on the bucket digests, applied by `StateHasher.apply` at commit."""

    base: str  # the root this update was computed against
    root: str
    digests: dict[int, bytes]
    members: dict[int, set[Entity]]
    lines: dict[Entity, tuple[bytes, ...]]  # the written entities' new lines (empty: gone)
    kv_json: dict[tuple[str, str], bytes]  # canonical JSON of each written kv value still set


class StateHasher:
    """Bucket digests and members of the committed state, for incremental app hashes."""

    def __init__(self, state: ChainState) -> None:
        members: dict[int, set[Entity]] = {}
        for entity in _entities(state):
            members.setdefault(_bucket(entity), set()).add(entity)
        self._members = members
        self._lines: dict[Entity, tuple[bytes, ...]] = {}
        self._digests = [EMPTY_BUCKET] * BUCKETS
        for bucket, entities in members.items():
            lines = {entity: _entity_lines(entity, state) for entity in entities}
            self._digests[bucket] = _digest(lines.values())
            members[bucket] = {entity for entity, found in lines.items() if found}
            self._lines.update((entity, found) for entity, found in lines.items() if found)
        self._root = hashlib.sha256(b"".join(self._digests)).hexdigest()

    @property
    def root(self) -> str:
        return self._root

    def prepare(self, view: StateOverlay) -> HashUpdate:
        """The app hash of `view` (overlays over this hasher's committed state), plus the update."""
        touched: dict[int, dict[Entity, bytes]] = {}  # bucket -> written entity -> its id bytes
        for entity in _written_entities(view):
            entity_id = _entity_id(entity)
            touched.setdefault(_bucket_of(entity_id), {})[entity] = entity_id
        kv_json: dict[tuple[str, str], bytes] = {}
        written: dict[Entity, tuple[bytes, ...]] = {}
        digests: dict[int, bytes] = {}
        members: dict[int, set[Entity]] = {}
        committed_lines, committed_members = self._lines, self._members
        for bucket, entities in touched.items():
            others = committed_members.get(bucket)
            lines = {entity: committed_lines[entity] for entity in others} if others else {}
            for entity, entity_id in entities.items():
                lines[entity] = written[entity] = _entity_lines(entity, view, kv_json, entity_id)
            digests[bucket] = _digest(lines.values())
            members[bucket] = {entity for entity, found in lines.items() if found}
        all_digests = list(self._digests)
        for bucket, digest in digests.items():
            all_digests[bucket] = digest
        root = hashlib.sha256(b"".join(all_digests)).hexdigest()
        return HashUpdate(self._root, root, digests, members, written, kv_json)

    def apply(self, update: HashUpdate) -> None:
        """Make `update` (prepared against the current root) the committed bucket state."""
        if update.base != self._root:
            raise ValueError("hash update was prepared against another state")
        for bucket, digest in update.digests.items():
            self._digests[bucket] = digest
            if update.members[bucket]:
                self._members[bucket] = update.members[bucket]
            else:
                self._members.pop(bucket, None)
        self._lines.update(update.lines)
        for entity, lines in update.lines.items():
            if not lines:
                del self._lines[entity]
        self._root = update.root


def _bucket(entity: Entity) -> int:
    return _bucket_of(_entity_id(entity))


def _bucket_of(entity_id: bytes) -> int:
    return int.from_bytes(hashlib.sha256(entity_id).digest()[:2], "big")


def _entity_id(entity: Entity) -> bytes:
    """The bytes whose SHA-256 picks the entity's bucket (see the module docstring)."""
    if isinstance(entity, str):
        return entity.encode()
    try:
        plain = "".join(entity)
    except TypeError:  # not all strings
        return canonical_json(list(entity))
    if not _NEEDS_ESCAPE.search(plain):
        # Strings JSON leaves as they are (no quote, backslash or control character): quoting
        # them gives exactly their canonical JSON, without a general encoder's cost per key.
        try:
            return ('["' + '","'.join(entity) + '"]').encode()
        except UnicodeEncodeError:
            pass  # a lone surrogate: canonical_json says why
    return canonical_json(list(entity))


def _entity_lines(
    entity: Entity,
    view: StateView,
    kv_json: dict[tuple[str, str], bytes] | None = None,
    entity_id: bytes | None = None,
) -> tuple[bytes, ...]:
    """The entity's lines in `view`; a kv value's canonical JSON is also left in `kv_json`.

    `entity_id`: `_entity_id(entity)` if the caller has it already.
    """
    if isinstance(entity, str):
        # Addresses are validated bech32 (lower-case letters and digits), so formatting
        # them directly gives exactly the canonical JSON, several times faster.
        lines: list[bytes] = []
        balance = view.balance(entity)
        if balance:
            lines.append(f'["balance","{entity}",{balance}]\n'.encode())
        nonce = view.nonce(entity)
        if nonce:
            lines.append(f'["nonce","{entity}",{nonce}]\n'.encode())
        return tuple(lines)
    if entity[0] == "escrow":
        escrow = view.escrow(entity[1])
        if escrow is None:
            return ()
        return (canonical_json(["escrow", entity[1], escrow.to_dict()]) + b"\n",)
    module, key = entity[1], entity[2]
    value = view.kv_get(module, key)
    if value is None:
        return ()
    encoded = canonical_json(value, depth=1)  # it sits inside the line's list
    if kv_json is not None:
        kv_json[(module, key)] = encoded
    # Canonical JSON of a list is its items' canonical JSON joined by commas, so the
    # line is built around the encoded value instead of encoding it a second time.
    if entity_id is None:
        entity_id = _entity_id(entity)
    return (b"".join((entity_id[:-1], b",", encoded, b"]\n")),)


def _digest(entity_lines: Iterable[tuple[bytes, ...]]) -> bytes:
    """A bucket's digest from its members' lines."""
    lines = [line for group in entity_lines for line in group]
    lines.sort()
    return hashlib.sha256(b"".join(lines)).digest()


def _entities(state: ChainState) -> Iterable[Entity]:
    yield from state.balances.keys() | state.nonces.keys()
    for escrow_id in state.escrows:
        yield ("escrow", escrow_id)
    for module, key in state.kv:
        yield ("kv", module, key)


def _written_entities(view: StateView) -> set[Entity]:
    """Every entity written in any overlay layer above the committed state."""
    written: set[Entity] = set()
    while isinstance(view, StateOverlay):
        written.update(view.balances)
        written.update(view.nonces)
        written.update(("escrow", escrow_id) for escrow_id in view.escrows)
        written.update(("kv", module, key) for module, key in view.kv)
        view = view.parent
    return written
