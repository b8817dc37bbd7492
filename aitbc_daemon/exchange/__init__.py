"""The AITBC/BTC exchange chain module: bridged BTC, buys from the treasury, an order book.

Layout: `market` (genesis section, kv keys, settings, supply holder), `book`
(price levels and FIFO queues), `matching` (price-time priority fills),
`txtypes` (the transitions), `service` / `routes` / `models` (the API).
"""
