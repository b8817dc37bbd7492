"""On-miner sweeps without HTTP: split a grid, submit one `backtest` job per chunk, merge the results.

The jobs go through the coordinator's normal `submit` (the executor validates them,
the payment is locked in escrow per job, a miner leases, runs, is paid against its
receipt); a sweep adds nothing to the chain and keeps no state the jobs do not
already hold, apart from which jobs are its chunks (`store.py`). Its result is the
merge of the chunks' `result.json` (see `grid.py`), offered only once every chunk
completed: a failed, cancelled or expired chunk makes the sweep `failed` (its escrow
goes back through the jobs module) and there is no partial ranking.
"""

from __future__ import annotations

import csv
import io
import json
import secrets
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aitbc_daemon.analytics.store import MarketStore
from aitbc_daemon.errors import AitbcError, NotFound
from aitbc_daemon.jobs.lifecycle import COMPLETED, Constraints, Job
from aitbc_daemon.jobs.service import Coordinator, InsufficientBalance, SubmitRequest
from aitbc_daemon.trading import service as trading
from aitbc_daemon.trading.models import FoldOut, OptimizeOut, ScoredOut
from aitbc_daemon.trading.strategy import Strategy, TradingInputError
from aitbc_daemon.trading.sweeps.grid import ChunkResult, grid_size, merge, split_grid
from aitbc_daemon.trading.sweeps.models import SweepJob, SweepOut, SweepRequest
from aitbc_daemon.trading.sweeps.store import SweepRecord, SweepStore

if TYPE_CHECKING:
    import pandas as pd

EXECUTOR = "backtest"
RESULT_FILE = "result.json"


def bars_csv(frame: pd.DataFrame) -> str:
    """The bars as the job's `bars.csv`; `repr` keeps every price the same float on the miner."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["timestamp", "open", "high", "low", "close", "volume"])
    columns = [frame[c].tolist() for c in ("timestamp", "open", "high", "low", "close", "volume")]
    for stamp, *prices in zip(*columns, strict=True):
        writer.writerow([int(stamp), *(repr(float(v)) for v in prices)])
    return out.getvalue()


def _chunks(strategy: Strategy, grids: list[dict[str, str]]) -> tuple[list[dict[str, str]], int, int]:
    """The chunks that hold at least one valid combination; how many did not, and their size."""
    from aitbc_daemon.trading.optimize import combinations

    kept, empty, skipped = [], 0, 0
    for grid in grids:
        try:
            combinations(strategy, grid)
        except TradingInputError as exc:
            if exc.code != "bad_grid":
                raise
            empty, skipped = empty + 1, skipped + grid_size(grid)
            continue
        kept.append(grid)
    return kept, empty, skipped


def create(
    sweeps: SweepStore,
    market: MarketStore,
    strategies: Mapping[str, Strategy],
    coordinator: Coordinator,
    chain: str,
    body: SweepRequest,
) -> SweepOut:
    """Check what a local optimisation checks, then submit the chunks; a refusal locks nothing."""
    from aitbc_daemon.trading.backtest import annualisation
    from aitbc_daemon.trading.optimize import METRICS, combinations

    if EXECUTOR not in coordinator.executors:
        raise AitbcError(f"this daemon has no {EXECUTOR!r} executor installed", code="unknown_executor")
    if not body.wallet:
        raise AitbcError("name the paying wallet (wallet)", code="bad_request")
    strategy = trading.strategy_named(strategies, body.strategy)
    frame, label = trading.load_frame(market, body)
    if body.metric not in METRICS:
        raise AitbcError(
            f"unknown metric {body.metric!r}; use one of {', '.join(METRICS)}", code="bad_metric"
        )
    grid = dict(body.grid)
    try:
        combinations(strategy, grid)
        grids, empty, empty_skipped = _chunks(strategy, split_grid(grid, body.jobs))
    except TradingInputError as exc:
        raise AitbcError(str(exc), code=exc.code) from None
    if body.walk_forward and len(frame) // (body.walk_forward + 1) < 2:
        raise AitbcError(
            f"{len(frame)} bars cannot make {body.walk_forward} walk-forward folds", code="too_short"
        )
    client = coordinator.keystore.address(body.wallet)
    hosted = coordinator.chains.get(chain)
    with hosted.lock:
        balance = hosted.node.balance(client)
    if body.payment * len(grids) > balance:
        raise InsufficientBalance(
            f"{len(grids)} jobs at {body.payment} units each is more than the balance of "
            f"{body.wallet} ({balance} units)"
        )
    digest, _ = coordinator.blobs.put_bytes(bars_csv(frame).encode())
    sweep_id = "sweep-" + secrets.token_hex(6)
    common = {
        "strategy": strategy.name,
        "metric": body.metric,
        "walk_forward": body.walk_forward,
        "cash": body.cash,
        "commission_bps": body.commission_bps,
        "commission_fixed": body.commission_fixed,
        "slippage_bps": body.slippage_bps,
        "fractional": body.fractional,
    }
    submitted: list[Job] = []
    try:
        for index, sub in enumerate(grids):
            request = SubmitRequest(
                executor=EXECUTOR,
                payment=body.payment,
                wallet=body.wallet,
                chain_id=chain,
                inputs=[{"name": "bars.csv", "sha256": digest}],
                params={**common, "grid": json.dumps(sub)},
                ttl=body.ttl,
                constraints=Constraints(),
                password=body.password,
                request_id=f"{sweep_id}-{index}",
            )
            submitted.append(coordinator.submit(request))
    except Exception:
        for job in submitted:  # all or nothing: what was locked goes back
            coordinator.cancel(job.id)
        raise
    record = SweepRecord(
        sweep_id,
        time.time(),
        strategy.name,
        body.metric,
        body.top,
        label,
        len(frame),
        annualisation(frame["timestamp"].to_numpy())[1],
        body.wallet,
        body.payment,
        grids,
        [job.id for job in submitted],
        empty,
        empty_skipped,
    )
    sweeps.insert(record)
    return _out(record, submitted, None)


def get(sweeps: SweepStore, coordinator: Coordinator, sweep_id: str) -> SweepOut:
    """Progress; once every chunk completed, the merged optimisation."""
    record = sweeps.get(sweep_id)
    if record is None:
        raise NotFound(f"no sweep {sweep_id!r}", code="unknown_sweep")
    jobs = [coordinator.get(job_id) for job_id in record.job_ids]
    if not all(j.state == COMPLETED for j in jobs):
        return _out(record, jobs, None)
    chunks = [ChunkResult.from_json(json.loads(_result_text(coordinator, job))) for job in jobs]
    merged = merge(record.metric, chunks, record.empty_skipped)
    finished = max(j.finished_at or record.created_at for j in jobs)
    result = OptimizeOut(
        record.strategy,
        record.metric,
        record.source,
        record.bars,
        record.basis,
        merged.combinations,
        merged.skipped,
        [ScoredOut(params, dict(stats)) for params, stats in merged.ranked[: record.top]],
        [
            FoldOut(
                *f.in_sample, *f.out_of_sample, f.params, dict(f.in_sample_stats), dict(f.out_of_sample_stats)
            )
            for f in merged.folds
        ],
        finished - record.created_at,
    )
    return _out(record, jobs, result)


def _result_text(coordinator: Coordinator, job: Job) -> str:
    output = next((o for o in job.outputs or [] if o["name"] == RESULT_FILE), None)
    if output is None:
        raise AitbcError(f"job {job.id} completed without {RESULT_FILE}", code="bad_result", status=502)
    return coordinator.blobs.open_path(output["sha256"]).read_text()


def _out(record: SweepRecord, jobs: list[Job], result: OptimizeOut | None) -> SweepOut:
    failed = [i for i, j in enumerate(jobs) if j.is_final and j.state != COMPLETED]
    done = sum(j.state == COMPLETED for j in jobs)
    if failed:
        state = "failed"
        message = (
            f"chunk(s) {', '.join(str(i + 1) for i in failed)} of {len(jobs)} did not complete "
            f"({', '.join(jobs[i].state for i in failed)}); their escrow is refunded. No result: "
            f"the grid was not fully evaluated"
        )
    elif result is not None:
        state, message = "completed", None
    else:
        state, message = "running", f"{done} of {len(jobs)} jobs completed"
    return SweepOut(
        record.id,
        record.strategy,
        record.metric,
        record.source,
        record.bars,
        record.wallet,
        record.payment,
        record.created_at,
        state,
        [SweepJob(i, j.id, record.grids[i], j.state, j.error) for i, j in enumerate(jobs)],
        failed,
        record.empty_chunks,
        message,
        result,
    )
