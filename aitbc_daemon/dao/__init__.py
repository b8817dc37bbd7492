"""DAO governance: voting power, proposals, council, treasury (see docs/dao.md).

- `params`: the genesis `dao` section, governable settings, kv layout (module "dao"),
  the supply holder (treasury + bonds + unvested grants).
- `checkpoints`: voting power per block (balance + stake, by delegate), O(log n) look-ups
  and the time-weighted average (TWAS) used against flash loans.
- `proposals`: proposal records, their state as a pure function of time, vote weights.
- `txtypes`: the dao transactions (registered at import by `aitbc_daemon.chain.modules`).
- `block_reward`: the end-of-block hook paying `chain.block_reward` from the treasury.
- `pauses`: the transaction guard that enforces the "job-payments" emergency pause.
- `service`, `models`, `routes`: the HTTP layer.
"""
