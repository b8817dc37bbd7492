"""The coordinator posts each staked miner's reward multiplier to the chain, once per report interval.

Each round, on every hosted chain that has staking pools, for every
address with open staking positions there (a staker it never saw mine counts
as a miner with no record), it
computes the multiplier (`staking_reports`) and sends a `staking_report`
transaction when the chain holds another value. Nothing is sent for an
unchanged multiplier, so a quiet network costs no blocks.

Who signs: only a genesis `staking.reporters` address may post. On a devnet
this daemon produces, that is dev account 0 (`DEVNET_REPORTER`, a public UNSAFE
key, as the faucet's is). On any other chain (a followed devnet included) it is
the coordinator's own service key, which the chain's genesis must list; if it
does not, the round is skipped and logged once (docs/staking.md says how to
list it).

The last round per chain is kept in memory and in `<data>/staking_reports.json`
(so `aitbc staking report` still answers after a restart). A round runs from
the jobs sweeper (`run_if_due`) or on request (`POST .../staking/report`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from nacl.signing import SigningKey

from aitbc_daemon.atomic_files import write_atomically
from aitbc_daemon.chain.genesis import DEVNET_REPORTER, devnet_signing_key
from aitbc_daemon.chain.service import ChainService, HostedChain
from aitbc_daemon.errors import AitbcError
from aitbc_daemon.jobs.staking_reports import Standing, standings
from aitbc_daemon.jobs.store import JobStore
from aitbc_daemon.service_key import key_address
from aitbc_daemon.staking.models import MinerMultiplier, StakingReport
from aitbc_daemon.staking.pools import (
    MODULE,
    NEXT_POSITION_KEY,
    REPORTERS_KEY,
    multiplier_key,
    pool_ids,
    staker_addresses,
)
from aitbc_daemon.staking.txtypes import multiplier
from aitbc_daemon.wallet.service import sign_and_submit

log = logging.getLogger("aitbc.jobs")


class StakingReporter:
    def __init__(
        self,
        store: JobStore,
        chains: ChainService,
        key: SigningKey,
        *,
        interval: float,
        state_path: Path,
        clock: Callable[[], float],
    ):
        self.store = store
        self.chains = chains
        self.key = key  # the coordinator's service key: the reporter off the devnet
        self.interval = interval
        self.state_path = state_path
        self.clock = clock
        self.next_at = clock() + interval  # the first round one interval after start, like every other
        self._lock = threading.Lock()
        self._warned: set[str] = set()
        self._positions_seen: dict[str, Any] = {}  # chain -> its next position id when last looked at
        self.last: dict[str, StakingReport] = self._load()

    # --- rounds -------------------------------------------------------------------------------

    def run_if_due(self) -> None:
        """Called by the jobs sweeper twice a second: one round on every chain once the interval is up,
        and in between a round for newcomers only on a chain where positions were opened."""
        due = self.clock() >= self.next_at
        if due:
            self.next_at = self.clock() + self.interval
        for chain_id in self.staking_chains():
            try:
                if due:
                    self.report(chain_id)
                elif self._new_positions(chain_id):
                    self.report(chain_id, newcomers_only=True)
            except Exception:  # one chain's trouble must not stop the others or the sweeper
                log.exception("staking report on %s failed", chain_id)

    def _new_positions(self, chain_id: str) -> bool:
        """Whether positions were opened on `chain_id` since the last look (the first look: yes)."""
        hosted = self.chains.get(chain_id)
        with hosted.lock:
            opened = hosted.node.state.kv_get(MODULE, NEXT_POSITION_KEY)
        changed = self._positions_seen.get(chain_id, -1) != opened
        self._positions_seen[chain_id] = opened
        return changed

    def staking_chains(self) -> list[str]:
        found = []
        for chain_id, hosted in list(self.chains.chains.items()):
            with hosted.lock:
                if pool_ids(hosted.node.state):
                    found.append(chain_id)
        return found

    def report(self, chain_id: str, *, newcomers_only: bool = False) -> StakingReport:
        """One round on `chain_id` now: post every changed multiplier; the round as it went.

        `newcomers_only`: only stakers never reported yet. Without it a fresh stake would
        earn at the default 1.0 until the next full round, up to an interval later. Its
        entries are merged into the chain's last report (which keeps the others)."""
        hosted = self.chains.get(chain_id)
        with self._lock:
            key = self.signing_key(hosted)
            reporter = key_address(key)
            now = self.clock()
            with hosted.lock:
                listed = reporter in (hosted.node.state.kv_get(MODULE, REPORTERS_KEY) or [])
            if not listed:
                report = self._skipped(chain_id, reporter, now)
            else:
                found = standings(
                    self.store.miners(),
                    self.store.completed_since(now - self.interval),
                    chain_id=chain_id,
                    now=now,
                    window=self.interval,
                )
                staked = self._staked(hosted, found, newcomers_only=newcomers_only)
                entries = [self._post(hosted, key, s) for s in staked]
                report = StakingReport(
                    chain_id, reporter, True, self.interval, self.next_at, at=now, miners=entries
                )
            previous = self.last.get(chain_id)
            if newcomers_only and previous is not None and previous.at is not None:
                kept = [m for m in previous.miners if m.address not in {e.address for e in report.miners}]
                report = replace(report, miners=kept + report.miners)
            self.last[chain_id] = report
            self._save()
        return report

    def _skipped(self, chain_id: str, reporter: str, now: float) -> StakingReport:
        reason = (
            f"{reporter} (this coordinator's key) is not in the staking.reporters of {chain_id}'s genesis"
        )
        if chain_id not in self._warned:  # once per chain: the genesis cannot change under a running chain
            self._warned.add(chain_id)
            log.warning("staking reports on %s skipped: %s", chain_id, reason)
        return StakingReport(chain_id, reporter, False, self.interval, self.next_at, at=now, skipped=reason)

    def _staked(
        self, hosted: HostedChain, found: dict[str, Standing], *, newcomers_only: bool = False
    ) -> list[tuple[Standing, int]]:
        """Every address with open positions, with its standing and the multiplier the chain holds now.

        A staker this coordinator has never seen mine is reported too, as a miner with no
        record (reputation 1/2, utilization 0): GPU pools pay for serving jobs, so stake
        alone must not earn more than an idle miner's."""
        with hosted.lock:
            view = hosted.node.state
            no_record = Standing  # (payout, completed, failed, lost, busy_seconds, window)
            return [
                (found.get(a) or no_record(a, 0, 0, 0, 0.0, self.interval), multiplier(view, a))
                for a in staker_addresses(view)
                if not newcomers_only or view.kv_get(MODULE, multiplier_key(a)) is None
            ]

    def _post(self, hosted: HostedChain, key: SigningKey, item: tuple[Standing, int]) -> MinerMultiplier:
        standing, previous = item
        bps = standing.multiplier_bps
        entry = MinerMultiplier(
            standing.payout,
            bps,
            previous,
            round(standing.reputation, 6),
            round(standing.utilization, 6),
            standing.completed,
            standing.failed,
            standing.lost,
            round(standing.busy_seconds, 3),
            "unchanged",
        )
        if bps == previous:
            return entry
        payload = {"miner": standing.payout, "multiplier_bps": bps}
        try:
            submission = sign_and_submit(
                self.chains, hosted.chain_id, key, "staking_report", payload, fee=0, dry_run=True
            )
        except AitbcError as exc:  # refused before sending (a pause, a short balance) or by the mempool
            log.warning("staking report for %s on %s refused: %s", standing.payout, hosted.chain_id, exc)
            entry.status, entry.reason = "refused", str(exc)
            return entry
        entry.tx, entry.status = submission.hash, "posted"
        with hosted.lock:
            status = hosted.node.transaction(submission.hash or "")
        if status is not None and status.status != "pending":
            entry.status, entry.reason = status.status, status.reason
        return entry

    def signing_key(self, hosted: HostedChain) -> SigningKey:
        """Dev account 0 on a devnet this daemon produces (its genesis lists it); the coordinator's own
        key elsewhere, a devnet followed from another daemon included: that daemon's coordinator
        reports there with dev account 0, and two job stores must not take turns at one multiplier."""
        if hosted.is_devnet and hosted.upstream is None:
            return devnet_signing_key(DEVNET_REPORTER)
        return self.key

    # --- the last round -----------------------------------------------------------------------

    def last_report(self, chain_id: str) -> StakingReport:
        """The last round on `chain_id`, or an empty one (`at` None) saying who would sign and when."""
        hosted = self.chains.get(chain_id)
        with self._lock:
            known = self.last.get(chain_id)
        if known is not None:
            return replace(known, next_at=self.next_at)
        reporter = key_address(self.signing_key(hosted))
        with hosted.lock:
            listed = reporter in (hosted.node.state.kv_get(MODULE, REPORTERS_KEY) or [])
        return StakingReport(chain_id, reporter, listed, self.interval, self.next_at)

    def _save(self) -> None:
        document = {chain_id: asdict(report) for chain_id, report in self.last.items()}
        write_atomically(self.state_path, json.dumps(document, indent=1).encode(), mode=0o600)

    def _load(self) -> dict[str, StakingReport]:
        try:
            document: dict[str, Any] = json.loads(self.state_path.read_text())
            return {
                chain_id: StakingReport(
                    **{**data, "miners": [MinerMultiplier(**m) for m in data.get("miners", [])]}
                )
                for chain_id, data in document.items()
            }
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, TypeError) as exc:  # a damaged file only loses the display
            log.warning("ignoring %s: %s", self.state_path, exc)
            return {}
