"""A subscriber's inbox: what the broadcaster has handed it and it has not taken yet."""

from __future__ import annotations

import asyncio
from typing import Generic, TypeVar

T = TypeVar("T")

# Taken items are dropped from the front in batches, so that a get() stays O(1) amortized.
COMPACT_AFTER = 64


class Inbox(Generic[T]):
    """An unbounded single-consumer queue: put_nowait() from anywhere, get() from one task.

    asyncio.Queue makes three deques and an Event up front, four 64-slot blocks (about 3 KiB)
    for a queue that almost always holds zero or one event; with thousands of subscribers per
    process that was a twentieth of each connection's memory. This holds a list and, while its
    consumer waits, one future.
    """

    __slots__ = ("_items", "_next", "_waiter")

    def __init__(self) -> None:
        self._items: list[T] = []
        self._next = 0
        self._waiter: asyncio.Future[None] | None = None

    def __len__(self) -> int:
        return len(self._items) - self._next

    def put_nowait(self, item: T) -> None:
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def get(self) -> T:
        while self._next == len(self._items):
            if self._waiter is not None:
                raise RuntimeError("an Inbox has a single consumer")
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        item = self._items[self._next]
        self._next += 1
        if self._next == len(self._items):
            self._items.clear()
            self._next = 0
        elif self._next >= COMPACT_AFTER and self._next * 2 >= len(self._items):
            del self._items[: self._next]
            self._next = 0
        return item
