"""What every subscription resolver shares: who may subscribe, cursors, and when a stream ends."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from auth.backend import authenticate
from auth.crypto.tokens import token_digest
from models.errors import DomainError
from models.pagination import decode_cursor
from realtime.fanout import Source
from realtime.stream import Envelope, Fetch
from resolvers.context import Info
from resolvers.errors import PublicError

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


# ---------------------------------------------------------------- describing a stream


@dataclass(frozen=True)
class StreamPlan:
    """A subscription's stream, as its resolver describes it once the viewer may subscribe;
    the schema renders each of its events (schema/streams.py)."""

    source: Source
    # What the stream is about besides the viewer (an interview's id, a contract's, or None).
    scope: Hashable
    # The newest stored cursor; None for a live-only stream.
    latest: Callable[[], Awaitable[int]] | None = None
    # Called once when the subscription ends (for a shared one, long after its resolver).
    on_leave: Callable[[], None] | None = None
    # This subscriber's `after:`, the stored event its replay starts after.
    after: int | None = None


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
