"""What every subscription resolver shares: who may subscribe, cursors, and when a stream ends."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import aclosing
from typing import Any

import orjson
from broadcaster import Event

from auth.backend import authenticate
from auth.tokens import token_digest
from models.errors import DomainError
from models.pagination import decode_cursor
from realtime.broadcast import RESYNC
from realtime.fanout import Source
from realtime.inbox import Inbox
from realtime.stream import Envelope, Fetch, replay_then_live
from resolvers.context import Info
from resolvers.loaders import Loaders
from schema.core import PublicError
from schema.fanout import StreamPlan, starting

# Rows replayed per database round trip while a stream catches up.
REPLAY_PAGE = 200


def signed_in(info: Info) -> Any:
    user = info.context.user
    if user is None:
        raise PublicError("Sign in to subscribe", "UNAUTHENTICATED")
    return user


def token_still_valid(info: Info) -> Callable[[], Awaitable[bool]]:
    """Whether the socket's token still signs its user in. Its user was authenticated once, at
    connection_init; a token revoked since (logOut) must not open new subscriptions, and a
    stream asks again after a reconnect, in case the revocation's event was lost with it."""
    token = info.context.token

    async def still_valid() -> bool:
        return token is not None and await authenticate(token) is not None

    return still_valid


async def signed_in_now(info: Info) -> Any:
    user = signed_in(info)
    if not await token_still_valid(info)():
        raise PublicError("Sign in to subscribe", "UNAUTHENTICATED")
    return user


def after_cursor(after: str | None) -> int | None:
    """The `seq` an `after:` cursor of a gapless stream points at."""
    if after is None:
        return None
    try:
        return int(decode_cursor(after, ("seq",), field="after")[0])
    except (DomainError, TypeError, ValueError) as error:
        raise PublicError("Invalid cursor", "BAD_USER_INPUT") from error


def revokes(info: Info) -> Callable[[dict[str, Any]], bool]:
    """A control event on the user's channel that ends streams opened with a revoked token."""
    digest = token_digest(info.context.token) if info.context.token else None
    return lambda envelope: (
        envelope.get("type") == "token_revoked" and envelope.get("token_hash") == digest
    )


# ---------------------------------------------------------------- serving a stream


def revoked_token(envelope: Envelope) -> str | None:
    """The digest of the token a `token_revoked` control event (on the user's channel) ends."""
    if envelope.get("type") == "token_revoked":
        digest = envelope.get("token_hash")
        return digest if isinstance(digest, str) else None
    return None


async def token_allows(token: Any) -> bool:
    return token is not None and await authenticate(token) is not None


def viewer_source(
    channels: Sequence[str],
    accept: Callable[[Envelope, str | None], bool],
    fetch_after: Fetch | None = None,
) -> Source:
    """A stream of the viewer's: control events on their channel end a member whose token they
    revoke, and after a reconnect each member's token is checked again."""
    return Source(
        channels=tuple(sorted(set(channels))),
        accept=accept,
        fetch_after=fetch_after,
        revokes=revoked_token,
        still_allowed=token_allows,
    )


async def serve(
    info: Info, plan: StreamPlan, after: int | None, on_leave: Callable[[], None] | None = None
) -> AsyncIterator[Any]:
    """The subscription's results: shared with the subscribers that would get the same ones
    (schema/fanout.py) when it was started over our socket handler, else its own stream.
    `on_leave` is called once when the subscription ends, which for a shared one is after this
    generator has returned."""
    start = starting.get()
    if start is not None:
        async for result in start.fanout.serve(info, plan, after, start, on_leave):
            yield result
        return
    try:
        async for result in _own_stream(info, plan, after):
            yield result
    finally:
        if on_leave is not None:
            on_leave()


async def _own_stream(info: Info, plan: StreamPlan, after: int | None) -> AsyncIterator[Any]:
    source = plan.source
    closes = revokes(info)
    still_allowed = token_still_valid(info)
    if plan.latest is not None:
        assert source.fetch_after is not None
        stream = replay_then_live(
            info.context.broadcast,
            source.channels,
            after=after,
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
                yield plan.to_root(envelope)
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
            yield plan.to_root(envelope)
