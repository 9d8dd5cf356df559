"""Serving a subscription's stream: the resolver describes it (resolvers/streams.py), the
schema renders each event as the field's type and shares the rendering where it can."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import aclosing
from typing import TypeVar

import orjson
from broadcaster import Event

from realtime.broadcast import RESYNC
from realtime.inbox import Inbox
from realtime.stream import Envelope, replay_then_live
from resolvers.context import Info
from resolvers.loaders import Loaders
from resolvers.streams import StreamPlan, revokes, token_still_valid
from schema.fanout import starting

T = TypeVar("T")


async def serve(info: Info, plan: StreamPlan, to_root: Callable[[Envelope], T]) -> AsyncIterator[T]:
    """The subscription's results, each event rendered by `to_root` as the field's type:
    shared with the subscribers that would get the same ones (schema/fanout.py) when it was
    started over our socket handler, else its own stream. The plan's `on_leave` is called once
    when the subscription ends, which for a shared one is after this generator has returned."""
    start = starting.get()
    if start is not None:
        async for result in start.fanout.serve(info, plan, to_root, start):
            yield result
        return
    try:
        async for result in _own_stream(info, plan, to_root):
            yield result
    finally:
        if plan.on_leave is not None:
            plan.on_leave()


async def _own_stream(
    info: Info, plan: StreamPlan, to_root: Callable[[Envelope], T]
) -> AsyncIterator[T]:
    source = plan.source
    closes = revokes(info)
    still_allowed = token_still_valid(info)
    if plan.latest is not None:
        assert source.fetch_after is not None
        stream = replay_then_live(
            info.context.broadcast,
            source.channels,
            after=plan.after,
            fetch_after=source.fetch_after,
            latest=plan.latest,
            accept=lambda envelope: source.accept(envelope, None),
            closes=closes,
            still_allowed=still_allowed,
        )
        # aclosing: when the subscription ends, the stream leaves its channels now, not
        # whenever the garbage collector finalizes it.
        async with aclosing(stream):
            async for envelope in stream:
                # Loaders per event: a connection-lifetime cache would serve stale rows.
                info.context.loaders = Loaders()
                yield to_root(envelope)
        return
    # Live only: nothing to replay, so nothing to dedupe.
    inbox: Inbox[Event] = Inbox()
    async with info.context.broadcast.feed(source.channels, inbox):
        while True:
            event = await inbox.get()
            if event.message == RESYNC:
                # Nothing to replay for a live-only stream, but a revocation published while
                # the backend was away is lost: ask the database instead.
                if not await still_allowed():
                    return
                continue
            envelope = orjson.loads(event.message)
            if closes(envelope):
                return
            if not source.accept(envelope, event.channel):
                continue
            info.context.loaders = Loaders()
            yield to_root(envelope)
