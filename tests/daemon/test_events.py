"""The event bus end to end: publish in the daemon, receive over SSE through both clients."""

from __future__ import annotations

import asyncio
import threading

from aitbc_daemon.client import AsyncClient
from aitbc_daemon.events import SUBSCRIBER_QUEUE_SIZE, EventBus


def test_subscriber_receives_published_events_in_order(daemon):
    with daemon.client() as listener, daemon.client() as actor, listener.events() as stream:
        actor.set_log_level("debug")
        actor.set_log_level("info")
        first, second = next(stream), next(stream)
    assert (first.topic, first.data) == ("daemon.log_level", {"level": "debug"})
    assert (second.topic, second.data) == ("daemon.log_level", {"level": "info"})
    assert second.id > first.id


def test_topic_filter_by_prefix(daemon):
    with daemon.client() as client, client.events(["chain"]) as filtered, client.events(["daemon"]) as wanted:
        with daemon.client() as actor:
            actor.set_log_level("warning")
        assert next(wanted).topic == "daemon.log_level"
        daemon.stop()
        assert [event.topic for event in filtered] == []  # nothing matched, and the stream ended


def test_stream_ends_with_daemon_stopping_and_the_daemon_exits_promptly(daemon):
    received = []
    with daemon.client() as client, client.events() as stream:
        reader = threading.Thread(target=lambda: received.extend(stream))
        reader.start()
        assert daemon.stop(timeout=10) == 0  # an open stream does not hold the shutdown up
        reader.join(10)
    assert [event.topic for event in received] == ["daemon.stopping"]


def test_status_counts_event_subscribers(daemon):
    with daemon.client() as client:
        internal = client.status().event_subscribers  # the daemon's own (the agent runner's)
        with client.events():
            assert client.status().event_subscribers == internal + 1
        assert client.status().event_subscribers == internal


def test_async_client_streams_events(daemon):
    async def scenario() -> list[str]:
        async with AsyncClient(daemon.socket_path) as client:
            assert (await client.health()).status == "ok"
            async with client.events() as stream:
                await client.set_log_level("error")
                event = await anext(stream)
                return [event.topic, event.data["level"]]

    assert asyncio.run(scenario()) == ["daemon.log_level", "error"]


def test_slow_subscriber_drops_oldest_and_is_told_how_many():
    async def scenario():
        bus = EventBus()
        subscription = bus.subscribe()
        for n in range(SUBSCRIBER_QUEUE_SIZE + 5):
            bus.publish("test.tick", {"n": n})
        bus.close()
        return [event async for event in subscription]

    events = asyncio.run(scenario())
    assert events[0].missed == 6  # five ticks and the close marker's room
    assert events[0].data["n"] == 6
    assert events[-1].data["n"] == SUBSCRIBER_QUEUE_SIZE + 4
