"""Background work per chain: interval block production, and following another daemon.

Instant-mining chains need no task: their blocks are made inside the
submission that fills them. The work of a block runs in a worker thread so
the event loop keeps answering while it is built and committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.follower import follow_forever
from aitbc_daemon.chain.service import ChainService

log = logging.getLogger("aitbc.chain")


def background_jobs(chains: ChainService) -> list[tuple[str, Coroutine[Any, Any, None]]]:
    """(name, coroutine) for each chain that needs one: interval producers and followers."""
    return [job for chain_id in chains.chains if (job := background_job(chains, chain_id)) is not None]


def background_job(chains: ChainService, chain_id: str) -> tuple[str, Coroutine[Any, Any, None]] | None:
    hosted = chains.get(chain_id)
    if hosted.upstream is not None:
        return f"follow:{chain_id}", follow_forever(chains, chain_id)
    if not hosted.instant and hosted.can_propose():
        return f"produce:{chain_id}", _produce_every(chains, chain_id, chains.interval(hosted))
    return None


async def _produce_every(chains: ChainService, chain_id: str, interval: float) -> None:
    loop = asyncio.get_running_loop()
    next_at = loop.time() + interval
    while True:
        await asyncio.sleep(max(0.0, next_at - loop.time()))
        next_at += interval
        try:
            await asyncio.to_thread(chains.produce_next, chain_id)
        except ChainError as exc:  # a bad block is never fatal to the daemon; say so and go on
            log.error("could not produce a block on %s: %s", chain_id, exc)
