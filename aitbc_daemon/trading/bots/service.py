"""Live bots without HTTP: start (key, registration, funding), status, stop (and withdraw), analytics.

A live bot is an agent (role `trader`) whose hot key the daemon holds: `start` makes
the key, the owner wallet funds it (AIT with a `transfer`, bridged BTC with a
`btc_transfer`, both signed with the owner's password) and the bot's key registers
it on chain with the owner as its controller. Every order the bot sends then counts
against the DAO's agent-trading limits (`agents.txtypes.count_agent_volume`).

Everything is checked before anything is sent or written (strategy, parameters,
interval, market, chain, the owner wallet and its password, the owner's funds), so
bad input creates nothing. A paper bot sends nothing and has no key.

Strategy signals need pandas: `target` and `lookback` run in worker threads (the
runner's, or plain `def` routes), never on the event loop or at daemon start.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from aitbc_daemon.agents.records import TRADER
from aitbc_daemon.analytics.candles import interval_seconds
from aitbc_daemon.analytics.exchange_feed import EXCHANGE_SYMBOL, is_exchange_symbol
from aitbc_daemon.chain.amounts import UNIT
from aitbc_daemon.chain.params import min_fee
from aitbc_daemon.chain.service import ChainService
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.events import EventBus
from aitbc_daemon.exchange import service as exchange
from aitbc_daemon.exchange.market import btc_balance
from aitbc_daemon.service_key import key_address
from aitbc_daemon.trading.bots.models import (
    BotAnalytics,
    BotList,
    BotOut,
    DecisionOut,
    EquityPoint,
    FillOut,
    StartBotRequest,
    StopBotRequest,
)
from aitbc_daemon.trading.bots.store import (
    LIVE,
    PAPER,
    RUNNING,
    STOPPED,
    Bot,
    BotConfig,
    BotExists,
    BotState,
    BotStore,
    check_name,
)
from aitbc_daemon.trading.strategy import Strategy, TradingInputError, resolve_params
from aitbc_daemon.wallet.keystore import Keystore
from aitbc_daemon.wallet.service import sign_and_submit

if TYPE_CHECKING:
    from aitbc_daemon.analytics.ohlcv_csv import Bar

TOPIC = "trading.bot"
SHOWN_DECISIONS = 50


class InsufficientFunding(AitbcError):
    code = "insufficient_funds"


def _pct(value: float | None) -> float | None:
    return None if value is None else value / 100.0


class BotService:
    """The daemon's bots: their store, the chains they trade on, the strategies they can run."""

    def __init__(
        self,
        store: BotStore,
        chains: ChainService,
        keystore: Keystore,
        bus: EventBus,
        strategies: Mapping[str, Strategy],
    ) -> None:
        self.store = store
        self.chains = chains
        self.keystore = keystore
        self.bus = bus
        self.strategies = strategies
        self.lock = threading.RLock()  # runner passes and stops never interleave

    def close(self) -> None:
        self.store.close()

    def publish(self, config: BotConfig, kind: str, data: dict[str, Any]) -> None:
        self.bus.publish(TOPIC, {"bot": config.name, "kind": kind, "mode": config.mode, **data})

    # --- strategies (worker threads) -------------------------------------------------------------

    def strategy(self, name: str) -> Strategy:
        if name not in self.strategies:
            raise NotFound(
                f"unknown strategy {name!r}; available: {', '.join(sorted(self.strategies))}",
                code="unknown_strategy",
            )
        return self.strategies[name]

    def lookback(self, config: BotConfig) -> int:
        return int(self.strategy(config.strategy).lookback(**config.params))

    def target(self, config: BotConfig, closed: list[Bar]) -> float:
        """The strategy's target after the last closed candle, clipped to [-1, 1] (NaN counts as 0)."""
        from aitbc_daemon.trading.bars import frame_from_bars

        series = self.strategy(config.strategy).signals(frame_from_bars(closed), **config.params)
        value = float(series.iloc[-1]) if len(series) else 0.0
        return 0.0 if math.isnan(value) else max(-1.0, min(1.0, value))

    # --- start -----------------------------------------------------------------------------------

    def start(self, request: StartBotRequest) -> BotOut:
        name = check_name(request.name)
        if self.store.exists(name):
            raise BotExists(f"bot {name!r} exists already (stop is final: start a new bot under a new name)")
        strategy = self.strategy(request.strategy)
        try:
            params = resolve_params(strategy, request.params)
        except TradingInputError as exc:
            raise AitbcError(str(exc), code=exc.code) from None
        try:
            interval_seconds(request.interval)
        except ValueError as exc:
            raise AitbcError(str(exc), code="bad_interval") from None
        if not is_exchange_symbol(request.market):
            raise NotFound(
                f"unknown market {request.market!r}: bots trade {EXCHANGE_SYMBOL}", code="unknown_market"
            )
        self.chains.get(request.chain)
        config = BotConfig(
            name,
            request.chain,
            EXCHANGE_SYMBOL,
            PAPER if request.paper else LIVE,
            strategy.name,
            dict(params),
            request.interval,
            request.size,
            _pct(request.stop_loss),
            _pct(request.take_profit),
            _pct(request.max_drawdown),
        )
        if request.paper:
            state = BotState(paper_ait=request.paper_ait, paper_btc=request.paper_btc)
            bot = Bot(config, state, time.time())
            self.store.add(bot)
            self.publish(config, "start", {"state": RUNNING})
            return self._out(bot)
        return self._start_live(request, config)

    def _start_live(self, request: StartBotRequest, config: BotConfig) -> BotOut:
        if not request.wallet:
            raise AitbcError(
                "a live bot needs an owner wallet (--wallet W) to fund it", code="wallet_required"
            )
        owner_key = self.keystore.signing_key(
            request.wallet, request.password
        )  # wrong password: nothing made
        owner = self.keystore.address(request.wallet)
        fee = self._fee(config.chain)
        hosted = self.chains.get(config.chain)
        with hosted.lock:
            view = hosted.node.state
            has_ait, has_btc = view.balance(owner), btc_balance(view, owner)
        needs_ait = request.fund_ait + 2 * fee
        if has_ait < needs_ait or has_btc < request.fund_btc:
            raise InsufficientFunding(
                f"wallet {request.wallet} cannot fund the bot: needs {needs_ait} AIT units and "
                f"{request.fund_btc} satoshi, has {has_ait} units and {has_btc} satoshi"
            )
        if fee and request.fund_ait < fee:
            raise InsufficientFunding(
                f"--fund-ait must cover at least one chain fee ({fee} units) for the bot"
            )
        with self.lock:
            key_path = self.store.key_path(config.name)
            fresh = not key_path.exists()
            key = self.store.new_key(config.name)
            address = key_address(key)
            config = BotConfig(
                **{**asdict(config), "address": address, "owner": owner, "owner_wallet": request.wallet}
            )
            txs: list[str] = []
            try:
                if request.fund_ait:
                    payload = {"to": address, "amount": request.fund_ait}
                    txs.append(self._sign(config.chain, owner_key, "transfer", payload, fee))
                if request.fund_btc:
                    payload = {"to": address, "amount": request.fund_btc}
                    txs.append(self._sign(config.chain, owner_key, "btc_transfer", payload, fee))
            except Exception:
                if fresh and not txs:
                    key_path.unlink(missing_ok=True)
                raise
            register = {"name": config.name, "role": TRADER, "strategy": config.strategy, "owner": owner}
            txs.append(self._sign(config.chain, key, "agent_register", register, fee))
            bot = Bot(config, BotState(), time.time())
            self.store.add(bot)
        self.publish(config, "start", {"state": RUNNING, "address": address})
        out = self._out(bot)
        out.txs = txs
        return out

    def _sign(self, chain_id: str, key: Any, tx_type: str, payload: dict[str, Any], fee: int) -> str:
        return sign_and_submit(self.chains, chain_id, key, tx_type, payload, fee=fee, dry_run=True).hash or ""

    def _fee(self, chain_id: str) -> int:
        hosted = self.chains.get(chain_id)
        with hosted.lock:
            return min_fee(hosted.node.state)

    # --- stop ------------------------------------------------------------------------------------

    def stop(self, name: str, request: StopBotRequest) -> BotOut:
        """Final: the bot trades no more. A live bot's owner password is checked first (a wrong one
        changes nothing); its open orders are cancelled, and with `withdraw` its AIT and BTC go
        back to the owner, signed by the bot's key."""
        bot = self.store.get(check_name(name))
        config = bot.config
        if config.mode == PAPER:
            if request.withdraw:
                raise AitbcError("a paper bot holds nothing to withdraw", code="paper_bot")
            return self._stop_state(bot, [])
        self.keystore.signing_key(config.owner_wallet or "", request.password)
        with self.lock:
            bot = self.store.get(name)
            key = self.store.key(name)
            fee = self._fee(config.chain)
            address = config.address or ""
            txs = []
            for order in exchange.orders(self.chains, config.chain, address).orders:
                txs.append(self._sign(config.chain, key, "exchange_cancel", {"order": order.id}, fee))
            if request.withdraw:
                hosted = self.chains.get(config.chain)
                with hosted.lock:
                    view = hosted.node.state
                    ait, btc = view.balance(address), btc_balance(view, address)
                if btc:
                    payload = {"to": config.owner or "", "amount": btc}
                    txs.append(self._sign(config.chain, key, "btc_transfer", payload, fee))
                    ait -= fee
                if ait - fee > 0:
                    payload = {"to": config.owner or "", "amount": ait - fee}
                    txs.append(self._sign(config.chain, key, "transfer", payload, fee))
            return self._stop_state(bot, txs)

    def _stop_state(self, bot: Bot, txs: list[str]) -> BotOut:
        state = bot.state
        if state.state == RUNNING:
            state.state, state.reason = STOPPED, "stopped by its owner"
            self.store.save_state(bot.config.name, state)
            self.publish(bot.config, "stop", {"state": STOPPED, "reason": state.reason})
        out = self._out(Bot(bot.config, state, bot.created_at))
        out.txs = txs
        return out

    # --- reads -----------------------------------------------------------------------------------

    def list(self) -> BotList:
        return BotList([self._out(bot) for bot in self.store.list()])

    def show(self, name: str) -> BotOut:
        return self._out(self.store.get(check_name(name)))

    def balances(self, bot: Bot) -> tuple[int, int]:
        if bot.config.mode == PAPER:
            return bot.state.paper_ait, bot.state.paper_btc
        hosted = self.chains.chains.get(bot.config.chain)
        if hosted is None or not bot.config.address:
            return 0, 0
        with hosted.lock:
            view = hosted.node.state
            return view.balance(bot.config.address), btc_balance(view, bot.config.address)

    def _out(self, bot: Bot) -> BotOut:
        config, state = bot.config, bot.state
        ait, btc = self.balances(bot)
        price = state.last_price
        equity = btc + int(ait * price // UNIT) if price else None
        start = state.start_equity
        pnl = None if equity is None or start is None else equity - start
        try:
            needed = self.lookback(config) + 1
        except AitbcError:
            needed = 0
        waiting = f"waiting for data: {state.bars} of {needed} bars" if state.bars < needed else None
        return BotOut(
            config.name,
            config.chain,
            config.market,
            config.mode,
            state.state,
            state.reason,
            config.strategy,
            config.params,
            config.interval,
            config.size,
            config.stop_loss,
            config.take_profit,
            config.max_drawdown,
            config.address,
            config.owner,
            state.position,
            state.entry_price,
            ait,
            btc,
            price,
            equity,
            start,
            pnl,
            None if pnl is None or not start else round(pnl / start * 100, 4),
            state.bars,
            needed,
            waiting if state.state == RUNNING else None,
            state.last_decision,
            state.last_decision_at,
            bot.created_at,
            config.owner_wallet,
        )

    def analytics(self, name: str) -> BotAnalytics:
        bot = self.store.get(check_name(name))
        state = bot.state
        ait, btc = self.balances(bot)
        price = state.last_price or 0.0
        held = int(state.units * price // UNIT)
        equity = btc + int(ait * price // UNIT)
        unrealised = held - state.cost_basis if state.units else 0
        start = state.start_equity
        pnl = state.realised_pnl + unrealised
        return BotAnalytics(
            bot.config.name,
            bot.config.mode,
            state.state,
            state.realised_pnl,
            unrealised,
            pnl,
            None if not start else round(pnl / start * 100, 4),
            round(held / equity * 100, 4) if equity > 0 else 0.0,
            state.position,
            [FillOut(**asdict(row)) for row in self.store.fills(name)],
            [EquityPoint(t, e) for t, e in self.store.equity(name)],
            self.decisions(name, SHOWN_DECISIONS),
        )

    def decisions(self, name: str, limit: int) -> list[DecisionOut]:
        return [DecisionOut(**asdict(row)) for row in self.store.decisions(check_name(name), limit)]
