"""Alerts on market data: created with a condition, evaluated when the symbol's data changes.

When: after an import of the symbol (any interval the alert watches), and for
AITBC/BTC after each block that added exchange trades (`watch_exchange_trades`).
What: the bars that are new since the alert last looked: for an imported series
those after `checked_through`; for exchange candles also the bar in progress, whose
close moves with every trade. An alert fires once, on the first such bar where the
condition holds: it is stored as fired (committed first), then published on the
event bus as `analytics.alert`. Conditions are parsed by `alert_rules`, never eval'd.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
from collections.abc import Callable

from aitbc_daemon.analytics.alert_rules import InvalidCondition, evaluate, parse_condition
from aitbc_daemon.analytics.alert_store import AlertStore
from aitbc_daemon.analytics.exchange_feed import EXCHANGE_SYMBOL, last_trade_id
from aitbc_daemon.analytics.models import AlertOut, AlertRequest, FiredAlert
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.events import EventBus, after_blocks

log = logging.getLogger("aitbc.analytics")
TOPIC = "analytics.alert"
BarsLoader = Callable[[str, str], list[Bar]]  # (symbol, interval) -> the series, oldest first


class InvalidAlert(AitbcError):
    status, code = 400, "invalid_alert"


def create(alerts: AlertStore, request: AlertRequest, bars: list[Bar], known: bool) -> AlertOut:
    """Store an alert; it watches bars after the series' current last one. `known`: the symbol exists."""
    try:
        condition = parse_condition(request.when)
    except InvalidCondition as exc:
        raise InvalidAlert(f"condition {request.when!r}: {exc}") from None
    if not known:
        raise NotFound(
            f"no market data for {request.symbol} {request.interval}; import it first "
            f"(or use {EXCHANGE_SYMBOL}, built from the chain's trades)"
        )
    checked = bars[-1].timestamp if bars else None
    return alerts.create(request.symbol, request.interval, condition.text, checked)


def delete(alerts: AlertStore, alert_id: int) -> None:
    if not alerts.delete(alert_id):
        raise NotFound(f"no alert {alert_id}")


def check_symbol(
    alerts: AlertStore, bus: EventBus, symbol: str, load: BarsLoader, *, in_progress: bool = False
) -> list[FiredAlert]:
    """Evaluate the symbol's active alerts on their new bars; returns (and publishes) those that fired.

    `in_progress`: the last checked bar may have changed since (exchange candles), so look at it again.
    """
    fired: list[FiredAlert] = []
    cache: dict[str, list[Bar]] = {}
    for alert in alerts.list(symbol=symbol, active_only=True):
        if alert.interval not in cache:
            cache[alert.interval] = load(symbol, alert.interval)
        bars = cache[alert.interval]
        if not bars:
            continue
        hit = _first_hit(alert, bars, in_progress)
        if hit is None:
            alerts.checked(alert.id, bars[-1].timestamp)
            continue
        index, values = hit
        record = alerts.fire(alert, bars[index].timestamp, bars[index].close, values)
        if record is not None:
            bus.publish(TOPIC, dataclasses.asdict(record))
            log.info("alert %s fired: %s %s on bar %s", alert.id, symbol, alert.when, record.bar)
            fired.append(record)
    return fired


def _first_hit(alert: AlertOut, bars: list[Bar], in_progress: bool) -> tuple[int, dict[str, float]] | None:
    import numpy as np

    holds, values = evaluate(parse_condition(alert.when), bars)
    stamps = np.fromiter((b.timestamp for b in bars), np.int64, len(bars))
    if alert.checked_through is not None:
        new = stamps >= alert.checked_through if in_progress else stamps > alert.checked_through
        holds &= new
    found = np.flatnonzero(holds)
    if found.size == 0:
        return None
    index = int(found[0])
    return index, {text: float(v[index]) for text, v in values.items() if math.isfinite(v[index])}


async def watch_exchange_trades(
    alerts: AlertStore, bus: EventBus, chain: str, chains: ChainService, load: BarsLoader
) -> None:
    """The daemon's background loop: after blocks with new trades, check the AITBC/BTC alerts."""
    seen = await asyncio.to_thread(_newest_trade, chains, chain)

    def check() -> None:
        nonlocal seen
        seen = _check_new_trades(alerts, bus, chain, chains, load, seen)

    await after_blocks(bus, check, name="exchange alert check", run_first=False)


def _newest_trade(chains: ChainService, chain: str) -> int | None:
    try:
        return last_trade_id(chains, chain)
    except AitbcError:  # the chain is not hosted (yet)
        return None


def _check_new_trades(
    alerts: AlertStore, bus: EventBus, chain: str, chains: ChainService, load: BarsLoader, seen: int | None
) -> int | None:
    newest = _newest_trade(chains, chain)
    if newest is None or newest == seen:
        return seen
    if alerts.list(symbol=EXCHANGE_SYMBOL, active_only=True):
        check_symbol(alerts, bus, EXCHANGE_SYMBOL, load, in_progress=True)
    return newest
