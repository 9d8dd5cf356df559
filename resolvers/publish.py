"""Publishing an action's events, after its transaction has committed."""

from __future__ import annotations

from collections.abc import Iterable

from models.events import Published
from realtime.publish import publish_all
from resolvers.context import Info


async def publish(info: Info, events: Iterable[Published]) -> None:
    await publish_all(info.context.broadcast, events)
