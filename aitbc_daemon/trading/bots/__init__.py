"""Live trading bots: a strategy trading AITBC/BTC on the chain's exchange (or on paper) in the daemon."""
