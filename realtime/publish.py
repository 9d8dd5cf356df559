"""Publishing events after their transaction has committed."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import orjson

logger = logging.getLogger("marketplace.realtime")


async def publish_all(broadcast: Any, events: Iterable[Any]) -> None:
    """Best effort: the change is committed whatever happens here, and subscribers replay what
    they missed from the database, so a failed publish is logged, not raised."""
    for event in events:
        try:
            await broadcast.publish(event.channel, orjson.dumps(event.payload).decode())
        except Exception:
            logger.warning("could not publish to %s", event.channel, exc_info=True)
