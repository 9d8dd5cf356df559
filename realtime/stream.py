"""Replay-then-live streams: no gap, no duplicate, whatever pub/sub drops.

Redis pub/sub delivers at most once, and nothing at all while a process is disconnected.
The rows are in the database with increasing sequence numbers, so a stream:
1. subscribes first (so nothing published from now on can slip past),
2. replays the rows after its cursor from the database,
3. goes live, dropping anything at or below what it already delivered,
4. after a backend reconnect (a RESYNC event), checks that it may still run (a control event
   that ends it, such as a token's revocation, may have been lost with the connection), then
   replays again from its last cursor.
An event published out of order (two processes racing) arrives late rather than never: the
stream remembers which of its last RECENT cursors it delivered instead of only the highest.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Any

import orjson
from broadcaster import Event

from realtime.broadcast import RESYNC, Broadcaster
from realtime.inbox import Inbox

Envelope = dict[str, Any]
Fetch = Callable[[int | None], Awaitable[list[Envelope]]]
# Out-of-order arrivals come from commits racing to publish: a few at a time on one channel.
RECENT = 256


class StreamClosed(Exception):
    """A control event ended the stream (for example, the token was revoked)."""


async def replay_then_live(
    broadcast: Broadcaster,
    channels: Sequence[str],
    *,
    after: int | None,
    fetch_after: Fetch,
    latest: Callable[[], Awaitable[int]],
    accept: Callable[[Envelope], bool] = lambda envelope: True,
    closes: Callable[[Envelope], bool] = lambda envelope: False,
    still_allowed: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncGenerator[Envelope, None]:
    """Envelopes (dicts with an integer "cursor") in cursor order, from `after` (or from now).

    `fetch_after(cursor)` reads stored envelopes after a cursor, oldest first; `latest()` is the
    newest stored cursor; `accept` filters live events (visibility); `closes` marks a control
    event that ends the stream; `still_allowed()`, asked after every reconnect, ends the stream
    when it says no.
    """
    inbox: Inbox[Event] = Inbox()
    async with broadcast.feed(channels, inbox):
        # Every cursor at or below `floor` counts as delivered; above it, `seen` holds the ones
        # that were. The window slides up once it holds RECENT cursors.
        floor = after if after is not None else await latest()
        seen: set[int] = set()

        def fresh(envelope: Envelope) -> bool:
            cursor = int(envelope["cursor"])
            return cursor > floor and cursor not in seen

        def record(cursor: int) -> None:
            nonlocal floor, seen
            seen.add(cursor)
            if len(seen) > RECENT:
                ordered = sorted(seen)
                forget = len(ordered) - RECENT // 2
                floor = ordered[forget - 1]
                seen = set(ordered[forget:])

        async def replay(start: int) -> AsyncGenerator[Envelope, None]:
            # Page through the stored rows until a page comes back empty.
            cursor = start
            while rows := await fetch_after(cursor):
                for envelope in rows:
                    if fresh(envelope):
                        record(int(envelope["cursor"]))
                        yield envelope
                cursor = int(rows[-1]["cursor"])

        async for envelope in replay(floor):
            yield envelope
        while True:
            event = await inbox.get()
            if event.message == RESYNC:
                if still_allowed is not None and not await still_allowed():
                    return
                # Whatever was published while the backend was away, including late rows
                # below the highest delivered cursor.
                async for envelope in replay(floor):
                    yield envelope
                continue
            envelope = orjson.loads(event.message)
            if closes(envelope):
                return
            if "cursor" not in envelope or not accept(envelope) or not fresh(envelope):
                continue
            record(int(envelope["cursor"]))
            yield envelope
