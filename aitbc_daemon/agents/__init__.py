"""Agent wallets: an on-chain agent record (role, owner, controllers, emergency stop, reputation)
and the daemon's local agents, which vote on DAO proposals by a pluggable strategy (docs/agents.md)."""
