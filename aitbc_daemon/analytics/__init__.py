"""Market data and technical indicators (see docs/analytics.md).

- `ohlcv_csv`: reading an external OHLCV CSV, every bad row reported by line.
- `candles`: OHLCV candles from trades (a pure function; the exchange feeds it later).
- `indicators`: SMA, EMA, RSI, MACD, Bollinger bands, ATR with TA-Lib's definitions.
- `store`: the series in `data/market.db`, keyed by symbol and interval.
- `service`: import, read and compute, for the API; `models`, `routes`: the HTTP layer.
- `data/`: the bundled real dataset (`aapl-daily`) with its NOTICE.
"""
