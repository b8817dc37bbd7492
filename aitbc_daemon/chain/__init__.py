"""Proof-of-Authority chain node: transactions, blocks, state, mempool, storage.

Modules, each with one job (the pure core has no HTTP, CLI or daemon wiring):

- `encoding`: canonical JSON, the bytes that are signed and hashed.
- `amounts`: integer units (6 decimals) and their decimal text.
- `tx`: signed transactions, strict parsing, signature verification.
- `state`: committed state, copy-on-write overlays, app hash, supply.
- `txtypes`: the registry other chain modules extend with their tx types.
- `transitions`: `apply_transaction` and the core types (transfer, escrow).
- `genesis`: chain parameters, allocations, the deterministic devnet.
- `block`: headers, merkle root, block signatures.
- `mempool`: admission, ordering, eviction.
- `store`: the per-chain SQLite file (block log, state, mempool, account history).
- `archive`: export the block log to one file; import it by full replay.
- `node`: the ABCI-shaped state machine over all of the above.
- `errors`: typed refusals with stable codes.
"""
