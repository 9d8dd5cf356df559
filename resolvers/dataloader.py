"""A DataLoader whose answers survive the cancellation of any one field waiting for them."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from strawberry.dataloader import DataLoader

K = TypeVar("K")
T = TypeVar("T")


class SharedDataLoader(DataLoader[K, T]):
    """Every field asking for a key awaits the same cached future. When a field fails,
    graphql-core cancels its pending siblings, and cancelling a task cancels the future it
    awaits: Strawberry's loader would then hand that cancellation to every other field waiting
    for the key, and the whole operation would die with CancelledError (a dropped HTTP
    request, a websocket operation that never answers). Each caller gets a shield instead."""

    def load(self, key: K) -> Awaitable[T]:
        return asyncio.shield(super().load(key))
