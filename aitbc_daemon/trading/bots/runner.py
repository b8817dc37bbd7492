"""The bots' runner: on each new closed candle, every running bot decides and trades towards its target.

One pass (`run_once`), for each running bot:

1. candles of the market at the bot's interval from the chain's trades; a candle
   [start, start + interval) is closed once the chain's head block is at or past its end
   (block time: on a devnet `aitbc chain advance` moves it). Nothing new closed: nothing to do,
   so each candle is decided once, also across daemon restarts (`last_candle` is stored).
   A decision the book had no liquidity for ("no asks on the book") is retried on each
   block until it trades or a newer candle decides again, since an empty side can fill
   again without any trade (and so without a new candle).
2. equity = BTC + AIT at the last close (satoshi); the kill switch
   (`risk_rules.kill_switch_hit` against the peak) flattens and stops the bot (`killed`).
3. an open position checks stop-loss / take-profit on each new candle (`risk_rules.stop_exit`);
   after such an exit the bot re-enters only once its strategy has gone flat.
4. the strategy's target from the closed candles (its lookback respected: "waiting for data:
   5 of 21 bars"); spot only: target > 0 holds AIT (a buy with `size` of the bot's BTC, sized by
   `risk_rules.position_size` and what the book offers), target <= 0 holds BTC (no shorting).
5. before each order the bot checks it can pay it and the chain fee; if not, it stops
   ("wallet ran dry: ...") instead of sending transactions that would fail.

Every decision is logged (bots.db) and published as a `trading.bot` event. The daemon runs a
pass after new blocks (`chain.block` events) and at least every `POLL_SECONDS`;
`POST /v1/trading/bots/tick` runs one now. Passes are serialised with the service's lock.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from aitbc_daemon.analytics.candles import interval_seconds
from aitbc_daemon.analytics.exchange_feed import all_trades, trade_candles
from aitbc_daemon.analytics.ohlcv_csv import Bar
from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.events import EventBus, after_blocks
from aitbc_daemon.exchange.market import BUY, SELL
from aitbc_daemon.trading import risk_rules
from aitbc_daemon.trading.bots.brokers import (
    Executed,
    LiveBroker,
    Market,
    OrderRefused,
    PaperBroker,
    snapshot,
)
from aitbc_daemon.trading.bots.paper import fee_of, quote_of, walk_buy
from aitbc_daemon.trading.bots.service import BotService
from aitbc_daemon.trading.bots.store import (
    FLAT,
    KILLED,
    LONG,
    PAPER,
    RUNNING,
    STOPPED,
    Bot,
    BotConfig,
    BotState,
    DecisionRow,
    FillRow,
)

log = logging.getLogger("aitbc.bots")

POLL_SECONDS = 5.0


def equity_of(ait: int, btc: int, price: float | None) -> int:
    """The bot's worth in satoshi: its BTC plus its AIT at `price` (satoshi per AIT)."""
    return btc + (int(ait * price // UNIT) if price else 0)


class BotRunner:
    """Runs the bots' passes (thread-safe: passes and stops share the service's lock)."""

    def __init__(self, service: BotService) -> None:
        self.service = service
        # per bot, the interval bucket of the head's time at its last pass: a candle can only close
        # when the head's time enters a new bucket, so other passes skip reading the trades
        self._looked: dict[str, int] = {}

    def run_once(self) -> list[DecisionRow]:
        with self.service.lock:
            decided: list[DecisionRow] = []
            for bot in self.service.store.list():
                hosted = self.service.chains.chains.get(bot.config.chain)
                if hosted is None or (bot.state.state != RUNNING and bot.state.pending is None):
                    continue
                with hosted.lock:
                    now = hosted.node.head_timestamp
                bucket = now // interval_seconds(bot.config.interval)
                waiting = bot.state.pending is not None or bot.state.unmet_target is not None
                if self._looked.get(bot.config.name) == bucket and not waiting:
                    continue  # no candle can have closed since the last look
                self._looked[bot.config.name] = bucket
                try:
                    decided.extend(BotPass(self.service, bot).run())
                except Exception as exc:  # one bot's failure must not stop the others
                    log.exception("bot %s: pass failed", bot.config.name)
                    row = DecisionRow(
                        bot.config.name, now, bot.state.last_candle or 0, None, "error", str(exc)
                    )
                    decided.append(self.service.store.add_decision(row))
            return decided


class BotPass:
    """One bot's decision on its newest closed candle(s)."""

    def __init__(self, service: BotService, bot: Bot) -> None:
        self.service = service
        self.config: BotConfig = bot.config
        self.state: BotState = bot.state
        self.decided: list[DecisionRow] = []
        self.now = 0
        self.candle = self.state.last_candle or 0
        self.broker: PaperBroker | LiveBroker = (
            PaperBroker(self.state)
            if self.config.mode == PAPER
            else LiveBroker(
                service.chains,
                self.config.chain,
                service.store.key(self.config.name),
                self.config.address or "",
            )
        )

    # --- the pass --------------------------------------------------------------------------------

    def run(self) -> list[DecisionRow]:
        hosted = self.service.chains.get(self.config.chain)
        with hosted.lock:
            self.now = hosted.node.head_timestamp
        if self.state.pending is not None and not self._settle():
            return self.decided  # its order is not in a block yet: decide nothing until it is
        if self.state.state != RUNNING:  # a kill's or a dry stop's last order just settled
            return self.decided
        step = interval_seconds(self.config.interval)
        candles = trade_candles(all_trades(self.service.chains, self.config.chain), self.config.interval)
        closed = [c for c in candles if c.timestamp + step <= self.now]
        last = self.state.last_candle
        fresh = [c for c in closed if last is None or c.timestamp > last]
        if not fresh:
            if self.state.unmet_target is not None and self._retry(self.state.unmet_target):
                self.service.store.save_state(self.config.name, self.state)
            return self.decided
        self.candle = fresh[-1].timestamp
        self.state.bars = len(closed)
        self.state.last_price = fresh[-1].close
        self._decide(closed, fresh)
        self.state.last_candle = self.candle
        ait, btc = self.broker.balances()
        self.service.store.add_equity(
            self.config.name, self.candle, equity_of(ait, btc, self.state.last_price)
        )
        self.service.store.save_state(self.config.name, self.state)
        return self.decided

    def _decide(self, closed: list[Bar], fresh: list[Bar]) -> None:
        ait, btc = self.broker.balances()
        equity = equity_of(ait, btc, self.state.last_price)
        if self.state.start_equity is None:
            self.state.start_equity = equity
        self.state.peak_equity = max(self.state.peak_equity or 0, equity)
        if self._kill_switch(equity):
            return
        if self.state.position == LONG and self._stop_exit(fresh):
            return
        need = self.service.lookback(self.config) + 1
        if len(closed) < need:
            self._log(None, "wait", f"waiting for data: {len(closed)} of {need} bars")
            return
        target = self.service.target(self.config, closed)
        self.state.unmet_target = None
        if target <= 0:
            self.state.reentry_blocked = False
        if target > 0 and self.state.position == FLAT:
            if self.state.reentry_blocked:
                self._log(target, "hold", "target long, but waiting for the strategy to go flat after a stop")
            else:
                self._buy(target, f"strategy target {target:g}: hold AIT")
        elif target <= 0 and self.state.position == LONG:
            self._sell(target, f"strategy target {target:g}: hold BTC")
        else:
            held = "AIT" if self.state.position == LONG else "BTC"
            self._log(target, "hold", f"strategy target {target:g}: keep holding {held}")

    def _retry(self, target: float) -> bool:
        """Trade towards a target that found an empty book side, once that side has orders.

        Silent while the side is still empty (one 'wait' decision was logged already)."""
        market = self._market()
        if target > 0 and self.state.position == FLAT and market.asks:
            self._buy(target, f"strategy target {target:g}: hold AIT (asks are back on the book)")
            return True
        if target <= 0 and self.state.position == LONG and market.bids:
            self._sell(target, f"strategy target {target:g}: hold BTC (bids are back on the book)")
            return True
        return False

    # --- risk ------------------------------------------------------------------------------------

    def _kill_switch(self, equity: int) -> bool:
        peak = self.state.peak_equity or 0
        if not risk_rules.kill_switch_hit(peak, equity, self.config.max_drawdown):
            return False
        fall = risk_rules.drawdown(peak, equity)
        reason = (
            f"max drawdown hit: equity {equity} sat is {fall:.1%} below its peak {peak} sat "
            f"(limit {self.config.max_drawdown:.1%})"
        )
        if self.state.position == LONG:
            self._sell(None, f"kill switch: flatten ({reason})")
        self._finish(KILLED, reason, "kill")
        return True

    def _stop_exit(self, fresh: list[Bar]) -> bool:
        if self.config.stop_loss is None and self.config.take_profit is None:
            return False
        entry = self.state.entry_price or 0.0
        for bar in fresh:
            hit = risk_rules.stop_exit(
                1, entry, bar.low, bar.high, bar.open, self.config.stop_loss, self.config.take_profit
            )
            if hit is not None:
                kind, level = hit
                what = "stop-loss" if kind == risk_rules.STOP_LOSS else "take-profit"
                reason = (
                    f"{what} at {level:g} sat/AIT (entry {entry:g}, candle low {bar.low:g} high {bar.high:g})"
                )
                if self._sell(None, reason, action=kind):
                    self.state.reentry_blocked = True
                return True
        return False

    # --- orders ----------------------------------------------------------------------------------

    def _market(self) -> Market:
        return snapshot(self.service.chains, self.config.chain, paper=self.config.mode == PAPER)

    def _buy(self, target: float, reason: str) -> bool:
        market = self._market()
        if not market.asks:
            self._log(target, "wait", f"{reason}, but there are no asks on the book: waiting")
            self.state.unmet_target = target
            return False
        ait, btc = self.broker.balances()
        if ait < market.chain_fee:
            return self._dry(target, f"needs {market.chain_fee} AIT units for the chain fee, has {ait}")
        price = market.asks[0][0]
        budget = int(btc * self.config.size)
        wanted = math.floor(
            risk_rules.position_size(btc, price, fraction=self.config.size, whole_units=False) * UNIT
        )
        fill = walk_buy(market.asks, budget, market.fee_bps, wanted)
        if fill.size == 0:
            one = quote_of(price)
            return self._dry(
                target,
                f"needs at least {one + fee_of(one, market.fee_bps)} satoshi to buy 1 AIT unit "
                f"at {price} sat/AIT, has {btc}",
            )
        return self._order(target, BUY, fill.size, market, reason)

    def _sell(self, target: float | None, reason: str, action: str = SELL) -> bool:
        market = self._market()
        if not market.bids:
            self._log(target, "wait", f"{reason}, but there are no bids on the book: waiting")
            self.state.unmet_target = target
            return False
        ait, _ = self.broker.balances()
        units = min(self.state.units, ait - market.chain_fee)
        if units <= 0 or ait < market.chain_fee:
            return self._dry(
                target, f"needs {self.state.units + market.chain_fee} AIT units (position and fee), has {ait}"
            )
        return self._order(target, SELL, units, market, reason, action=action)

    def _settle(self) -> bool:
        """Account an order sent on an earlier pass once its block is in; False while still pending."""
        pending = self.state.pending or {}
        assert isinstance(self.broker, LiveBroker)  # paper orders fill at once
        try:
            executed = self.broker.settle(pending["tx"], pending["side"])
        except OrderRefused as exc:
            self.state.pending = None
            self.state.reason = f"order refused: {exc.message}"
            self._log(None, "refused", pending["reason"], tx=pending["tx"], error=exc.message)
            self.service.store.save_state(self.config.name, self.state)
            return True
        if executed.pending:
            return False
        self.state.pending = None
        self._filled(pending["side"], executed, pending["reason"], None, pending.get("action"))
        self.service.store.save_state(self.config.name, self.state)
        return True

    def _order(
        self,
        target: float | None,
        side: str,
        units: int,
        market: Market,
        reason: str,
        action: str | None = None,
    ) -> bool:
        self.state.unmet_target = None
        try:
            executed = self.broker.market_order(market, side, units)
        except OrderRefused as exc:
            self.state.reason = f"order refused: {exc.message}"
            self._log(target, "refused", reason, error=exc.message)
            self.service.publish(self.config, "order", {"side": side, "size": units, "refused": exc.message})
            return False
        if executed.pending:
            self.state.pending = {"tx": executed.tx, "side": side, "reason": reason, "action": action}
            self._log(
                target, "order", f"{reason}: market {side} of {units / UNIT:g} AIT sent", tx=executed.tx
            )
            return True
        self._filled(side, executed, reason, target, action)
        return True

    def _filled(
        self, side: str, executed: Executed, reason: str, target: float | None, action: str | None
    ) -> None:
        fill = executed.fill
        if fill.size:
            self._account(side, fill.size, fill.quote, fill.fee)
            row = self.service.store.add_fill(
                FillRow(
                    self.config.name,
                    self.now,
                    side,
                    fill.size,
                    fill.price,
                    fill.quote,
                    fill.fee,
                    reason,
                    executed.tx,
                )
            )
            self.service.publish(
                self.config,
                "fill",
                {"fill": row.id, "side": side, "size": fill.size, "price": fill.price, "fee": fill.fee},
            )
        self.state.reason = None if self.state.state == RUNNING else self.state.reason
        done = f"{reason}: {side} {fill.size / UNIT:g} AIT at {fill.price:g} sat/AIT"
        self._log(target, action or side, done, tx=executed.tx)

    def _account(self, side: str, size: int, quote: int, fee: int) -> None:
        """Position, entry price, cost basis and realised PnL (satoshi) after a fill."""
        if side == BUY:
            self.state.units += size
            self.state.cost_basis += quote + fee
            self.state.position = LONG
            self.state.entry_price = quote * UNIT / size
            return
        share = size / self.state.units if self.state.units else 1.0
        cost = round(self.state.cost_basis * share)
        self.state.realised_pnl += quote - fee - cost
        self.state.cost_basis -= cost
        self.state.units -= size
        if self.state.units <= 0:
            self.state.units, self.state.cost_basis = 0, 0
            self.state.position, self.state.entry_price = FLAT, None

    def _dry(self, target: float | None, needs: str) -> bool:
        self._finish(STOPPED, f"wallet ran dry: {needs}", "stop", target)
        return False

    def _finish(self, state: str, reason: str, action: str, target: float | None = None) -> None:
        self.state.state, self.state.reason = state, reason
        self._log(target, action, reason)

    # --- the log ---------------------------------------------------------------------------------

    def _log(
        self,
        target: float | None,
        action: str,
        reason: str,
        *,
        tx: str | None = None,
        error: str | None = None,
    ) -> DecisionRow:
        row = self.service.store.add_decision(
            DecisionRow(self.config.name, self.now, self.candle, target, action, reason, tx, error)
        )
        self.state.last_decision = f"{action}: {reason}" + (f" ({error})" if error else "")
        self.state.last_decision_at = self.now
        self.decided.append(row)
        event: dict[str, Any] = {"decision": row.id, "action": action, "reason": reason, "target": target}
        if error:
            event["error"] = error
        topic = action if action in ("stop", "kill") else "decision"
        self.service.publish(self.config, topic, event | {"state": self.state.state})
        log.info("bot %s: %s (%s)", self.config.name, action, reason)
        return row


async def run_bots(runner: BotRunner, bus: EventBus, poll_seconds: float = POLL_SECONDS) -> None:
    """The daemon's background loop: a pass after each new block, and at least every `poll_seconds`."""
    await after_blocks(bus, runner.run_once, name="bots pass", poll_seconds=poll_seconds)
