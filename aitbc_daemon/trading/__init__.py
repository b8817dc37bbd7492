"""AI trading: a small strategy API, a vectorised backtest engine and a grid optimiser.

Strategies come from the `aitbc.strategies` entry point group (built-ins in
`builtin.py`, third-party ones from plugins). numpy and pandas load on the first
backtest in a worker thread, never at daemon start. See docs/trading.md.
"""
