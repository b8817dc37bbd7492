"""Trading logic without HTTP: list strategies, run backtests and grid optimisations.

Routes call these from FastAPI's worker threads (plain `def` routes): numpy and
pandas load on the first backtest there, never on the event loop or at start.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aitbc_daemon.analytics.ohlcv_csv import CsvRejected, read_ohlcv
from aitbc_daemon.analytics.service import InvalidCsv
from aitbc_daemon.analytics.store import MarketStore
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.trading.models import (
    BacktestOut,
    BacktestRequest,
    DataSource,
    FoldOut,
    OptimizeOut,
    OptimizeRequest,
    ParamOut,
    ScoredOut,
    StrategyList,
    StrategyOut,
    TradeOut,
)
from aitbc_daemon.trading.strategy import Strategy, TradingInputError, strategy_problem

if TYPE_CHECKING:
    import pandas as pd

    from aitbc_daemon.trading.backtest import Costs, Risk


def refusal(exc: TradingInputError) -> AitbcError:
    """A strategy's or the engine's complaint about its input, as the 4xx the user sees."""
    return AitbcError(str(exc), code=exc.code)


def usable(objects: Mapping[str, object]) -> dict[str, Strategy]:
    """The loaded `aitbc.strategies` entry points that satisfy the strategy API, by name."""
    return {name: obj for name, obj in objects.items() if strategy_problem(obj) is None}  # type: ignore[misc]


def list_strategies(
    strategies: Mapping[str, Strategy], distributions: Mapping[str, str | None]
) -> StrategyList:
    out = []
    for name, strategy in sorted(strategies.items()):
        params = [
            ParamOut(key, p.type.__name__, float(p.default), float(p.low), float(p.high), p.help)
            for key, p in strategy.params.items()
        ]
        defaults = {key: p.default for key, p in strategy.params.items()}
        out.append(
            StrategyOut(
                name, strategy.description, strategy.lookback(**defaults), params, distributions.get(name)
            )
        )
    return StrategyList(out)


def strategy_named(strategies: Mapping[str, Strategy], name: str) -> Strategy:
    """The strategy called `name`, or a 404 that lists the ones there are."""
    if name not in strategies:
        raise NotFound(
            f"unknown strategy {name!r}; available: {', '.join(sorted(strategies))}", code="unknown_strategy"
        )
    return strategies[name]


def load_frame(store: MarketStore, source: DataSource) -> tuple[pd.DataFrame, str]:
    """The bars a request names (a stored series or CSV text, cut to its dates) and a label for them.

    Backtests, optimisations, predictions and sweeps all read their data through here,
    so each refuses a bad source with the same error.
    """
    from aitbc_daemon.trading.bars import between, frame_from_bars

    if (source.csv is None) == (source.symbol is None):
        raise AitbcError("send either symbol (a stored series) or csv (a file's text)", code="bad_source")
    if source.csv is not None:
        try:
            bars, label = read_ohlcv(source.csv), "csv"
        except CsvRejected as rejected:
            raise InvalidCsv(rejected) from None
    else:
        assert source.symbol is not None
        bars, label = store.bars(source.symbol, source.interval), f"{source.symbol} {source.interval}"
        if not bars:
            raise NotFound(
                f"no market data for {label}; import it with 'aitbc analytics import'", code="no_market_data"
            )
    frame = between(frame_from_bars(bars), source.start, source.end)
    if len(frame) == 0:
        raise AitbcError(f"{label}: no bars between the given start and end", code="invalid_data")
    return frame, label


def _costs(body: BacktestRequest | OptimizeRequest) -> Costs:
    from aitbc_daemon.trading.backtest import Costs

    return Costs(body.commission_bps / 10_000, body.commission_fixed, body.slippage_bps / 10_000)


def _risk(body: BacktestRequest) -> Risk | None:
    """The request's risk rules as fractions, or None when none is set (the default, vectorised engine)."""
    from aitbc_daemon.trading.backtest import Risk

    percents = (body.stop_loss_pct, body.take_profit_pct, body.max_drawdown_pct, body.target_vol_pct)
    if body.size is None and all(p is None for p in percents):
        return None
    stop, take, kill, vol = (None if p is None else p / 100 for p in percents)
    try:
        return Risk(stop, take, kill, 1.0 if body.size is None else body.size, vol)
    except TradingInputError as exc:
        raise refusal(exc) from None


def _floats(params: Mapping[str, int | float]) -> dict[str, float]:
    return {key: float(value) for key, value in params.items()}


def backtest(store: MarketStore, strategies: Mapping[str, Strategy], body: BacktestRequest) -> BacktestOut:
    from aitbc_daemon.trading.backtest import run

    strategy = strategy_named(strategies, body.strategy)
    frame, label = load_frame(store, body)
    try:
        result = run(
            strategy,
            frame,
            body.params,
            cash=body.cash,
            costs=_costs(body),
            whole_units=not body.fractional,
            risk=_risk(body),
        )
    except TradingInputError as exc:
        raise refusal(exc) from None
    trades = (
        [
            TradeOut(
                t.side,
                t.entry_time,
                t.exit_time,
                t.entry_price,
                t.exit_price,
                t.size,
                t.pnl,
                t.return_pct,
                t.open,
                t.exit_reason,
            )
            for t in result.trades
        ]
        if body.trades
        else []
    )
    return BacktestOut(
        strategy.name,
        _floats(result.params),
        label,
        len(frame),
        int(result.timestamps[0]),
        int(result.timestamps[-1]),
        result.basis,
        result.periods_per_year,
        {k: None if v is None else float(v) for k, v in result.stats.items()},
        result.timestamps.tolist() if body.equity else [],
        result.equity.tolist() if body.equity else [],
        trades,
    )


def optimize(store: MarketStore, strategies: Mapping[str, Strategy], body: OptimizeRequest) -> OptimizeOut:
    from aitbc_daemon.trading.backtest import annualisation
    from aitbc_daemon.trading.optimize import optimise

    strategy = strategy_named(strategies, body.strategy)
    frame, label = load_frame(store, body)
    begun = time.perf_counter()
    try:
        found = optimise(
            strategy,
            frame,
            dict(body.grid),
            metric=body.metric,
            walk_forward=body.walk_forward,
            cash=body.cash,
            costs=_costs(body),
            whole_units=not body.fractional,
        )
    except TradingInputError as exc:
        raise refusal(exc) from None
    seconds = time.perf_counter() - begun

    def stats(values: Mapping[str, float | int | None]) -> dict[str, float | None]:
        return {k: None if v is None else float(v) for k, v in values.items()}

    return OptimizeOut(
        strategy.name,
        found.metric,
        label,
        len(frame),
        annualisation(frame["timestamp"].to_numpy())[1],
        found.combinations,
        found.skipped,
        [ScoredOut(_floats(s.params), stats(s.stats)) for s in found.ranked[: body.top]],
        [
            FoldOut(*f.in_sample, *f.out_of_sample, _floats(f.best.params), stats(f.best.stats), stats(f.out))
            for f in found.folds
        ],
        seconds,
    )
