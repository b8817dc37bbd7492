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
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from aitbc_daemon.chain.encoding import canonical_json
from aitbc_daemon.chain.state import ChainState, StateOverlay, StateView, flatten

BUCKETS = 1 << 16
EMPTY_BUCKET = hashlib.sha256(b"").digest()

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


class StateHasher:
    """Bucket digests and members of the committed state, for incremental app hashes."""

    def __init__(self, state: ChainState) -> None:
        members: dict[int, set[Entity]] = {}
        for entity in _entities(state):
            members.setdefault(_bucket(entity), set()).add(entity)
        self._members = members
        self._digests = [EMPTY_BUCKET] * BUCKETS
        for bucket, entities in members.items():
            self._digests[bucket], live = _bucket_digest(entities, state)
            members[bucket] = live
        self._root = hashlib.sha256(b"".join(self._digests)).hexdigest()

    @property
    def root(self) -> str:
        return self._root

    def prepare(self, view: StateOverlay) -> HashUpdate:
        """The app hash of `view` (overlays over this hasher's committed state), plus the update."""
        touched: dict[int, set[Entity]] = {}
        for entity in _written_entities(view):
            touched.setdefault(_bucket(entity), set()).add(entity)
        digests: dict[int, bytes] = {}
        members: dict[int, set[Entity]] = {}
        for bucket, entities in touched.items():
            digests[bucket], members[bucket] = _bucket_digest(
                self._members.get(bucket, set()) | entities, view
            )
        all_digests = list(self._digests)
        for bucket, digest in digests.items():
            all_digests[bucket] = digest
        root = hashlib.sha256(b"".join(all_digests)).hexdigest()
        return HashUpdate(self._root, root, digests, members)

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
        self._root = update.root


def _bucket(entity: Entity) -> int:
    data = entity.encode() if isinstance(entity, str) else canonical_json(list(entity))
    return int.from_bytes(hashlib.sha256(data).digest()[:2], "big")


def _entity_lines(entity: Entity, view: StateView) -> list[bytes]:
    if isinstance(entity, str):
        # Addresses are validated bech32 (lower-case letters and digits), so formatting
        # them directly gives exactly the canonical JSON, several times faster.
        lines = []
        balance = view.balance(entity)
        if balance:
            lines.append(f'["balance","{entity}",{balance}]\n'.encode())
        nonce = view.nonce(entity)
        if nonce:
            lines.append(f'["nonce","{entity}",{nonce}]\n'.encode())
        return lines
    if entity[0] == "escrow":
        escrow = view.escrow(entity[1])
        if escrow is None:
            return []
        return [canonical_json(["escrow", entity[1], escrow.to_dict()]) + b"\n"]
    value = view.kv_get(entity[1], entity[2])
    if value is None:
        return []
    return [canonical_json(["kv", entity[1], entity[2], value]) + b"\n"]


def _bucket_digest(entities: Iterable[Entity], view: StateView) -> tuple[bytes, set[Entity]]:
    """The bucket's digest and the entities that still have lines in it."""
    lines: list[bytes] = []
    live: set[Entity] = set()
    for entity in entities:
        entity_lines = _entity_lines(entity, view)
        if entity_lines:
            live.add(entity)
            lines.extend(entity_lines)
    lines.sort()
    return hashlib.sha256(b"".join(lines)).digest(), live


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
