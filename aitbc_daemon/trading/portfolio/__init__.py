"""Portfolio optimisation and historical risk (`aitbc ai-trading portfolio | risk`, docs/trading.md).

- `returns`: closes of several stored series aligned on their common dates, simple returns
- `covariance`: sample or Ledoit–Wolf shrunk covariance (scikit-learn), annualised
- `optimizer`: max-Sharpe, min-volatility and risk-parity weights (SciPy SLSQP), risk contributions
- `var`: historical VaR / CVaR, Kupiec's breach test, max drawdown and its duration
- `service` / `routes` / `models`: the HTTP side; everything numeric runs in worker threads

numpy, scipy and scikit-learn load on the first request, never at daemon start.
"""
