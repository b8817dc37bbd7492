"""GPU staking: pools with their own reward rate, lock and emission budget (see docs/staking.md).

- `pools`: pool parameters from the genesis `staking` section, the state they
  start as, the kv layout (module "staking") and the supply holder.
- `accumulator`: pure integer reward arithmetic (reward per unit of weight).
- `txtypes`: the `stake`, `unstake`, `claim_rewards` and `staking_report`
  transactions (registered at import by `aitbc_daemon.chain.modules`).
- `service`: read-only views for the API (pools, positions with pending rewards).
- `models`, `routes`: the HTTP layer.
"""
