"""The coordinator's background task: leases, expiries and owed payments, twice a second,
and the staking report once its interval is up."""

from __future__ import annotations

import asyncio
import logging

from aitbc_daemon.jobs.service import Coordinator

log = logging.getLogger("aitbc.jobs")
SWEEP_INTERVAL = 0.5


async def sweep_jobs(coordinator: Coordinator) -> None:
    """Run `Coordinator.sweep` off the event loop for the daemon's life; a failed sweep is logged,
    never fatal, because the next one retries whatever it left."""
    await asyncio.to_thread(coordinator.recover)
    while True:
        try:
            await asyncio.to_thread(coordinator.sweep)
        except Exception:
            log.exception("job sweep failed")
        if coordinator.staking_reporter is not None:
            try:
                await asyncio.to_thread(coordinator.staking_reporter.run_if_due)
            except Exception:
                log.exception("staking report failed")
        await asyncio.sleep(SWEEP_INTERVAL)
