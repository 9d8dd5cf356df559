"""realtime.stream.replay_then_live and its Inbox, on in-process pub/sub: stored rows first,
then live events, in cursor order, with no duplicate and nothing lost."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest

from realtime.broadcast import RESYNC, Broadcaster
from realtime.inbox import Inbox
from realtime.stream import RECENT, Envelope, replay_then_live

TIMEOUT = 5.0


class Table:
    """Stored envelopes, as a model's `fetch_after` reads them."""

    def __init__(self) -> None:
        self.rows: list[Envelope] = []

    def add(self, cursor: int) -> Envelope:
        row = {"cursor": cursor, "body": f"message {cursor}"}
        self.rows.append(row)
        self.rows.sort(key=lambda stored: stored["cursor"])
        return row

    async def fetch_after(self, cursor: int | None) -> list[Envelope]:
        return [row for row in self.rows if cursor is None or row["cursor"] > cursor][:50]

    async def latest(self) -> int:
        return self.rows[-1]["cursor"] if self.rows else 0


@pytest.fixture
async def broadcast() -> AsyncIterator[Broadcaster]:
    async with Broadcaster("memory://") as connected:
        yield connected


class Subscriber:
    def __init__(self, broadcast: Broadcaster, table: Table, after: int | None) -> None:
        self.channel = f"stream-{uuid.uuid4().hex}"
        self.broadcast = broadcast
        self.received: asyncio.Queue[int] = asyncio.Queue()
        self.stream = replay_then_live(
            broadcast,
            [self.channel],
            after=after,
            fetch_after=table.fetch_after,
            latest=table.latest,
        )
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        async for envelope in self.stream:
            self.received.put_nowait(envelope["cursor"])

    async def publish(self, row: Envelope | str) -> None:
        await self.broadcast.publish(
            self.channel, row if isinstance(row, str) else orjson.dumps(row).decode()
        )

    async def take(self, count: int) -> list[int]:
        async with asyncio.timeout(TIMEOUT):
            return [await self.received.get() for _ in range(count)]

    async def nothing_more(self) -> None:
        await asyncio.sleep(0.05)
        assert self.received.empty(), self.received.get_nowait()

    async def close(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.stream.aclose()


async def live(broadcast: Broadcaster, table: Table, after: int) -> Subscriber:
    """A subscriber known to be subscribed: it has replayed the row after `after`."""
    subscriber = Subscriber(broadcast, table, after)
    assert await subscriber.take(1) == [
        next(row["cursor"] for row in table.rows if row["cursor"] > after)
    ]
    return subscriber


async def test_stored_rows_then_live_events_without_duplicates(broadcast: Broadcaster) -> None:
    table = Table()
    for cursor in (1, 2, 3):
        table.add(cursor)
    subscriber = await live(broadcast, table, after=1)
    assert await subscriber.take(1) == [3]
    await subscriber.publish(table.rows[1])  # already replayed
    await subscriber.publish(table.add(4))
    assert await subscriber.take(1) == [4]
    await subscriber.nothing_more()
    await subscriber.close()


async def test_a_late_event_below_the_newest_is_delivered_once(broadcast: Broadcaster) -> None:
    table = Table()
    table.add(10)
    subscriber = await live(broadcast, table, after=0)
    await subscriber.publish(table.add(12))
    late = table.add(11)  # committed before 12, published after it
    await subscriber.publish(late)
    await subscriber.publish(late)
    assert await subscriber.take(2) == [12, 11]
    await subscriber.nothing_more()
    await subscriber.close()


async def test_the_window_of_remembered_cursors_slides_and_stays_bounded(
    broadcast: Broadcaster,
) -> None:
    table = Table()
    table.add(1)
    subscriber = await live(broadcast, table, after=0)
    # Every other cursor, so that the odd ones can come late.
    evens = [table.add(cursor) for cursor in range(2, 2 * RECENT + 200, 2)]
    for row in evens:
        await subscriber.publish(row)
    assert await subscriber.take(len(evens)) == [row["cursor"] for row in evens]
    newest = evens[-1]["cursor"]
    # Within the window: a late row is delivered, a repeat is not.
    await subscriber.publish(table.add(newest - 1))
    await subscriber.publish(evens[-1])
    # Far below it: counted as delivered long ago.
    await subscriber.publish(table.add(3))
    assert await subscriber.take(1) == [newest - 1]
    await subscriber.nothing_more()
    await subscriber.close()


async def test_after_a_resync_the_rows_missed_meanwhile_are_replayed_once(
    broadcast: Broadcaster,
) -> None:
    table = Table()
    table.add(1)
    subscriber = await live(broadcast, table, after=0)
    await subscriber.publish(table.add(2))
    assert await subscriber.take(1) == [2]
    table.add(3)
    table.add(4)  # committed while pub/sub was away: never published
    await subscriber.publish(RESYNC)
    assert await subscriber.take(2) == [3, 4]
    await subscriber.publish(table.rows[-1])
    await subscriber.nothing_more()
    await subscriber.close()


async def test_an_inbox_gives_items_in_order_across_its_compactions() -> None:
    inbox: Inbox[int] = Inbox()
    taken: list[int] = []
    for start in range(0, 1000, 250):
        for item in range(start, start + 250):
            inbox.put_nowait(item)
        taken.extend([await inbox.get() for _ in range(200)])
    while len(inbox):
        taken.append(await inbox.get())
    assert taken == list(range(1000))


async def test_an_inbox_wakes_its_consumer_and_survives_a_cancelled_get() -> None:
    inbox: Inbox[Any] = Inbox()
    waiting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    getting = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getting.done()
    inbox.put_nowait("event")
    async with asyncio.timeout(TIMEOUT):
        assert await getting == "event"
