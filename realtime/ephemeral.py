"""Live-only streams, for signals that are never stored: what is published from now on, and
nothing from before (no replay, no cursor). Whatever pub/sub drops is gone, by design."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import Any

import orjson
from broadcaster import Event

from realtime.broadcast import RESYNC, Broadcaster
from realtime.inbox import Inbox

Envelope = dict[str, Any]


async def live_only(
    broadcast: Broadcaster,
    channels: Sequence[str],
    *,
    accept: Callable[[Envelope], bool],
    closes: Callable[[Envelope], bool] = lambda envelope: False,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
    while_live: AbstractAsyncContextManager[Any] | None = None,
) -> AsyncGenerator[Envelope, None]:
    """Envelopes published on `channels` that `accept` takes, until one `closes` the stream or,
    after a backend reconnect, `still_allowed()` says no (a control event may have been lost).
    `while_live` is entered once the stream is subscribed, and left when it ends."""
    inbox: Inbox[Event] = Inbox()
    async with broadcast.feed(channels, inbox), while_live or nullcontext():
        while True:
            event = await inbox.get()
            if event.message == RESYNC:
                if still_allowed is not None and not await still_allowed():
                    return
                continue
            try:
                envelope = orjson.loads(event.message)
            except orjson.JSONDecodeError:
                continue
            if not isinstance(envelope, dict):
                continue
            if closes(envelope):
                return
            if accept(envelope):
                yield envelope
