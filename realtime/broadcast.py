"""Broadcast with a per-channel lock, so concurrent first subscribers to a channel all receive.

A channel's lock lives while somebody holds it or waits for it, and no longer: a process that
sees many short-lived channels (one per interview, contract, user) does not keep a lock for each
of them forever.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlparse

from broadcaster import Broadcast, Event
from broadcaster._base import Subscriber

from realtime.inbox import Inbox
from realtime.redis_backend import RESYNC, RedisPubSubBackend

# Where feed() puts a channel's events: anything with put_nowait(), such as an Inbox or an
# asyncio.Queue.
Mailbox = Inbox[Event] | asyncio.Queue[Any]

__all__ = ["RESYNC", "Broadcaster", "create_broadcast"]


class Broadcaster(Broadcast):
    def __init__(self, url: str, *, on_reconnect: Callable[[], None] | None = None) -> None:
        scheme = urlparse(url).scheme
        if scheme in ("redis", "rediss"):
            super().__init__(backend=RedisPubSubBackend(url, on_reconnect=on_reconnect))
        elif scheme == "memory":
            super().__init__(url)
        else:
            raise ValueError(f"BROADCAST_URL must be memory:// or redis://, not {scheme}://")
        # channel -> (its lock, how many hold it or wait for it)
        self._channel_locks: dict[str, tuple[asyncio.Lock, int]] = {}
        # channel -> where its events go. Not Broadcast._subscribers: that one holds only
        # asyncio.Queues, and every method of Broadcast that reads it is overridden here.
        self._mailboxes: dict[str, set[Mailbox]] = {}

    @asynccontextmanager
    async def _channel_lock(self, channel: str) -> AsyncIterator[None]:
        lock, users = self._channel_locks.get(channel, (None, 0))
        if lock is None:
            lock = asyncio.Lock()
        self._channel_locks[channel] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            # No await between here and the count reaching zero: nobody can be left waiting on
            # a lock that has been dropped, and the next comer makes a new one.
            lock, users = self._channel_locks[channel]
            if users == 1:
                del self._channel_locks[channel]
            else:
                self._channel_locks[channel] = (lock, users - 1)

    async def _listener(self) -> None:
        while True:
            event = await self._backend.next_published()
            for queue in list(self._mailboxes.get(event.channel, ())):
                queue.put_nowait(event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscriber]:
        queue: asyncio.Queue[Event | None] = asyncio.Queue()
        async with self.feed([channel], queue):
            yield Subscriber(queue)

    @asynccontextmanager
    async def feed(self, channels: Sequence[str], queue: Mailbox) -> AsyncIterator[None]:
        """Puts every event of any of `channels` on the caller's `queue` until the block ends.

        One queue for all of a stream's channels and no task per subscriber: with thousands of
        subscribers in a process, a forwarding task and a queue per channel of each cost a task
        wake-up per delivery and memory per connection.
        """
        joined: list[str] = []
        try:
            for channel in channels:
                join = asyncio.ensure_future(self._join(channel, queue))
                try:
                    await asyncio.shield(join)
                except asyncio.CancelledError:
                    # The socket went away mid-subscribe: finish joining, then leave, so nothing
                    # leaks.
                    await asyncio.shield(self._leave_after(join, channel, queue))
                    raise
                joined.append(channel)
            yield
        finally:
            # Shielded: a subscriber cancelled mid-leave must still leave, or the channel leaks.
            await asyncio.shield(self._leave_all(joined, queue))

    async def _leave_all(self, channels: Sequence[str], queue: Mailbox) -> None:
        for channel in channels:
            await self._leave(channel, queue)

    async def _join(self, channel: str, queue: Mailbox) -> None:
        async with self._channel_lock(channel):
            if channel not in self._mailboxes:
                await self._backend.subscribe(channel)
                self._mailboxes[channel] = set()
            self._mailboxes[channel].add(queue)

    async def _leave_after(self, join: asyncio.Future[None], channel: str, queue: Mailbox) -> None:
        with contextlib.suppress(Exception):
            await join
        await self._leave(channel, queue)

    async def _leave(self, channel: str, queue: Mailbox) -> None:
        async with self._channel_lock(channel):
            members = self._mailboxes.get(channel)
            if members is None:
                return
            members.discard(queue)
            if not members:
                del self._mailboxes[channel]
                await self._backend.unsubscribe(channel)

    async def ping(self) -> bool:
        ping = getattr(self._backend, "ping", None)
        return bool(await ping()) if ping else True

    async def publish(self, channel: str, message: Any) -> None:
        await self._backend.publish(channel, message)


def create_broadcast(url: str, *, on_reconnect: Callable[[], None] | None = None) -> Broadcaster:
    """`on_reconnect`: called each time the Redis backend is back after losing its connection."""
    return Broadcaster(url, on_reconnect=on_reconnect)
