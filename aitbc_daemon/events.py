"""The daemon's one event bus: domains publish, `/v1/events` streams to subscribers.

Each subscriber has a bounded queue so a slow reader (a TUI on a busy node)
can never make publishers wait or grow memory without limit: when its queue is
full the oldest event is dropped and the next delivered event says how many
were missed. Closing the bus ends every stream, which is what lets a stopping
daemon finish its open SSE responses instead of waiting on them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

SUBSCRIBER_QUEUE_SIZE = 1024
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Event:
    """One published fact: `topic` like `daemon.stopping`, a JSON-able `data` dict."""

    id: int
    topic: str
    data: dict[str, Any]
    time: float
    missed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "topic": self.topic, "data": self.data, "time": self.time, "missed": self.missed}


@dataclass(eq=False)
class Subscription:
    """A subscriber's queue and filter. Iterate it to receive events until the bus closes."""

    topics: frozenset[str] | None
    queue: asyncio.Queue[Event | None] = field(
        default_factory=lambda: asyncio.Queue(SUBSCRIBER_QUEUE_SIZE)
    )
    missed: int = 0

    def wants(self, topic: str) -> bool:
        if self.topics is None:
            return True
        return any(topic == t or topic.startswith(t + ".") for t in self.topics)

    def offer(self, event: Event | None) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.missed += 1
        self.queue.put_nowait(event)

    async def __aiter__(self) -> AsyncIterator[Event]:
        while (event := await self.queue.get()) is not None:
            if self.missed:
                event = Event(event.id, event.topic, event.data, event.time, missed=self.missed)
                self.missed = 0
            yield event


class EventBus:
    """In-process publish/subscribe.

    `publish` may be called from any thread: sync route handlers run in a
    thread pool, but subscriber queues belong to the event loop, so a publish
    from elsewhere is handed to the loop (`bind` tells the bus which loop).
    """

    def __init__(self) -> None:
        self._subscriptions: set[Subscription] = set()
        self._ids = itertools.count(1)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop

    def publish(self, topic: str, data: dict[str, Any] | None = None) -> Event:
        event = Event(next(self._ids), topic, data or {}, time.time())
        if self._loop is not None and not self._in_loop_thread():
            self._loop.call_soon_threadsafe(self._deliver, event)
        else:
            self._deliver(event)
        return event

    def _in_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    def _deliver(self, event: Event) -> None:
        for subscription in self._subscriptions:
            if subscription.wants(event.topic):
                subscription.offer(event)

    def subscribe(self, topics: Iterable[str] | None = None) -> Subscription:
        """Register a subscriber. `topics` filters by name or dotted prefix (`chain` matches `chain.block`)."""
        wanted = frozenset(t for t in topics or () if t) or None
        subscription = Subscription(wanted)
        if self.closed:
            subscription.offer(None)
        else:
            self._subscriptions.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.discard(subscription)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscriptions)

    def close(self) -> None:
        """End every subscriber's stream after the events already queued."""
        self.closed = True
        for subscription in self._subscriptions:
            subscription.offer(None)
        self._subscriptions.clear()


async def after_blocks(
    bus: EventBus,
    work: Callable[[], object],
    *,
    name: str,
    poll_seconds: float | None = None,
    run_first: bool = True,
) -> None:
    """A daemon background loop: run `work` in a worker thread after new blocks, until shutdown.

    One run covers every block seen since the last (a burst of blocks is not a burst of
    runs); with `poll_seconds` it also runs that often without blocks, for work that
    depends on time as well. A failing run is logged and the loop goes on: one bad pass
    of the agents, bots or alerts must not end them for the daemon's life. The loop ends
    when the bus closes (the daemon is stopping).
    """
    subscription = bus.subscribe(["chain.block"])
    try:
        due = run_first
        while True:
            if due:
                try:
                    await asyncio.to_thread(work)
                except Exception:
                    log.exception("%s failed", name)
            due = True
            try:
                event = await asyncio.wait_for(subscription.queue.get(), poll_seconds)
            except TimeoutError:
                continue
            if event is None:
                return
            while not subscription.queue.empty():
                if subscription.queue.get_nowait() is None:
                    return
    finally:
        bus.unsubscribe(subscription)
