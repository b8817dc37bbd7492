"""Interval block production: one asyncio task per chain this daemon proposes for.

Instant-mining chains need no task: their blocks are made inside the
submission that fills them. The work of a block runs in a worker thread so
the event loop keeps answering while it is built and committed.
"""

from __future__ import annotations

import asyncio
import logging

from aitbc_daemon.chain.errors import ChainError
from aitbc_daemon.chain.service import ChainService

log = logging.getLogger("aitbc.chain")


def start_producers(chains: ChainService) -> list[asyncio.Task[None]]:
    return [
        asyncio.create_task(
            _produce_every(chains, chain_id, chains.interval(hosted)), name=f"producer:{chain_id}"
        )
        for chain_id, hosted in chains.chains.items()
        if not hosted.instant and hosted.can_propose()
    ]


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


async def stop_producers(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
