"""On-miner sweeps: a grid split into `backtest` jobs, their results merged into one optimisation."""
