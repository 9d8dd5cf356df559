"""Shared streams: one feed, one dedupe and one rendering of each event for all the subscribers
that would receive the same thing.

replay_then_live (stream.py) runs per subscriber: each event costs every subscriber a wake-up,
a JSON parse, a dedupe and a rendering. Subscribers whose renderings cannot differ (the caller
decides which; the GraphQL layer groups by document, variables and viewer) join one
SharedStream instead. It reads the channels once, parses and dedupes each event once, renders
it once, and hands the rendering to every member.

Each member keeps replay_then_live's guarantees:
1. it joins (the stream subscribes first, or already has) and is *pending*: the stream keeps
   what it renders for the member instead of handing it over;
2. it replays its own rows from the database after its own cursor (`after`, or the newest row
   once subscribed), remembering the cursors it delivered (`own`);
3. it goes live: what was kept for it is handed over, less what it already replayed, and from
   then on it receives what the stream renders, less cursors at or below its floor and those
   it replayed itself;
4. after a backend reconnect (RESYNC) the stream asks, once per credential, whether its members
   may still receive, ends those that may not, and replays from the lowest cursor any of them
   may miss;
5. a control event that revokes a credential ends exactly the members holding it.
The stream's own dedupe (`floor`, `seen`, with replay_then_live's sliding window) makes each
cursor reach the members at most once; a member's `own` makes its hand-over exact.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from broadcaster import Event

from realtime.broadcast import RESYNC, Broadcaster
from realtime.inbox import Inbox
from realtime.stream import RECENT, Envelope, Fetch

logger = logging.getLogger("marketplace.realtime")

R = TypeVar("R")


def _never(envelope: Envelope) -> Hashable | None:
    return None


def _retrieve(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()


@dataclass(frozen=True, slots=True)
class Source:
    """What a stream reads, and the rules that are the same for all of its members."""

    channels: tuple[str, ...]
    # Whether an event (with the channel it came on, where known) belongs to the stream.
    accept: Callable[[Envelope, str | None], bool]
    # Stored rows after a cursor, oldest first; None for a live-only stream (no cursors).
    fetch_after: Fetch | None = None
    # The credential a control event revokes (members holding it end), or None.
    revokes: Callable[[Envelope], Hashable | None] = _never
    # Asked once per credential after a backend reconnect; False ends its members.
    still_allowed: Callable[[Any], Awaitable[bool]] | None = None


class Member(Generic[R]):
    """One subscriber of a SharedStream. Subclasses say how a rendering reaches it."""

    __slots__ = (
        "credential",
        "ended",
        "floor",
        "on_leave",
        "own",
        "pending",
        "revocation",
        "stream",
    )

    def __init__(self, credential: Any = None, revocation: Hashable | None = None) -> None:
        self.credential = credential
        self.revocation = revocation
        self.stream: SharedStream[R] | None = None
        # Cursors at or below `floor` count as delivered; `own` holds those above it that the
        # member replayed itself (None once empty).
        self.floor = 0
        self.own: set[int] | None = None
        # While the member replays: what the stream rendered for it meanwhile, in order.
        self.pending: list[tuple[int | None, R]] | None = []
        self.ended = False
        # Called once when the member leaves its stream, however that happens.
        self.on_leave: Callable[[], None] | None = None

    def deliver(self, rendered: R) -> Awaitable[None] | None:
        """Send a rendering; an awaitable when sending has to wait (the stream awaits it)."""
        raise NotImplementedError

    def end(self) -> None:
        """The stream ended this member (revoked, no longer allowed, or the stream failed)."""
        self.ended = True

    # -- the member's own replay (step 2), as replay_then_live's `fresh` and `record`

    def fresh(self, cursor: int) -> bool:
        return cursor > self.floor and (self.own is None or cursor not in self.own)

    def record(self, cursor: int) -> None:
        own = self.own
        if own is None:
            own = self.own = set()
        own.add(cursor)
        if len(own) > RECENT:
            ordered = sorted(own)
            forget = len(ordered) - RECENT // 2
            self.floor = ordered[forget - 1]
            self.own = set(ordered[forget:])


class SharedStream(Generic[R]):
    """The members of one group, one feed of the source's channels, one rendering per event.

    `render(envelope)` makes the rendering every member receives (None: nothing to send);
    `on_idle()` is called once the last member has left, when the stream has stopped reading.
    """

    def __init__(
        self,
        broadcast: Broadcaster,
        source: Source,
        render: Callable[[Envelope], Awaitable[R | None]],
        *,
        on_idle: Callable[[], None] = lambda: None,
    ) -> None:
        self.source = source
        self._broadcast = broadcast
        self._render = render
        self._on_idle = on_idle
        # Insertion-ordered: members receive in the order they joined.
        self._members: dict[Member[R], None] = {}
        self._subscribed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        # Retrieved here too: when every member has left before it failed, nobody else does.
        self._subscribed.add_done_callback(_retrieve)
        self._task: asyncio.Task[None] | None = None
        # The stream's dedupe, as replay_then_live's: at or below `floor`, or in `seen`.
        self._floor: int | None = None
        self._seen: set[int] = set()
        # Where a replay after a reconnect starts: the lowest floor of the members gone live.
        self._replay_from: int | None = None

    def __len__(self) -> int:
        return len(self._members)

    @property
    def live(self) -> bool:
        """Reading and not stopped: a member may still join."""
        return self._task is None or not self._task.done()

    def join(self, member: Member[R]) -> None:
        """Registers a pending member; the stream subscribes when the first one joins."""
        member.stream = self
        member.pending = []
        self._members[member] = None
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="shared-stream")

    async def subscribed(self) -> None:
        """Returns once the stream's channels are subscribed (raises if that failed)."""
        await asyncio.shield(self._subscribed)

    def leave(self, member: Member[R]) -> None:
        on_leave, member.on_leave = member.on_leave, None
        if on_leave is not None:
            on_leave()
        if member not in self._members:
            return
        del self._members[member]
        if not self._members:
            # The last one: stop reading (the feed leaves its channels, shielded).
            if self._task is not None:
                self._task.cancel()
            self._on_idle()

    async def replay(
        self, member: Member[R], *, after: int | None, latest: Callable[[], Awaitable[int]]
    ) -> AsyncIterator[Envelope]:
        """Step 2: the rows a joined member replays itself, once the stream is subscribed."""
        fetch_after = self.source.fetch_after
        assert fetch_after is not None, "a live-only stream has nothing to replay"
        await self.subscribed()
        member.floor = after if after is not None else await latest()
        cursor = member.floor
        while rows := await fetch_after(cursor):
            for envelope in rows:
                row_cursor = int(envelope["cursor"])
                if member.fresh(row_cursor):
                    member.record(row_cursor)
                    yield envelope
            cursor = int(rows[-1]["cursor"])

    async def go_live(self, member: Member[R]) -> None:
        """Step 3: hands over what was kept for the member, then delivers to it directly."""
        pending = member.pending
        while pending:
            cursor, rendered = pending.pop(0)
            if member.ended or member not in self._members:
                return
            if cursor is not None and not member.fresh(cursor):
                continue
            sending = member.deliver(rendered)
            if sending is not None:
                await sending
        # No await since the last check: nothing can be kept for it and never handed over.
        member.pending = None
        if member.own is not None:
            # What the stream has seen, or has forgotten, it never delivers again.
            floor, seen = self._floor, self._seen
            left = {c for c in member.own if (floor is None or c > floor) and c not in seen}
            member.own = left or None
        if self.source.fetch_after is not None and (
            self._replay_from is None or member.floor < self._replay_from
        ):
            self._replay_from = member.floor

    # -- the stream's own reading

    async def _run(self) -> None:
        inbox: Inbox[Event] = Inbox()
        try:
            async with self._broadcast.feed(self.source.channels, inbox):
                self._subscribed.set_result(None)
                while True:
                    await self._handle(await inbox.get())
        except asyncio.CancelledError:
            if not self._subscribed.done():
                self._subscribed.cancel()
            raise
        except Exception as error:
            if not self._subscribed.done():
                self._subscribed.set_exception(error)
                return
            # A replay that failed (the database away after a reconnect): like a stream of its
            # own, each member ends rather than carrying on with a gap.
            logger.exception("a shared stream failed; ending its %d members", len(self._members))
            self._end(list(self._members))

    async def _handle(self, event: Event) -> None:
        if event.message == RESYNC:
            await self._resync()
            return
        envelope = orjson.loads(event.message)
        revoked = self.source.revokes(envelope)
        if revoked is not None:
            self._end([m for m in self._members if m.revocation == revoked])
            return
        if not self.source.accept(envelope, event.channel):
            return
        cursor: int | None = None
        if self.source.fetch_after is not None:
            if "cursor" not in envelope:
                return
            cursor = int(envelope["cursor"])
            if not self._fresh(cursor):
                return
            self._record(cursor)
        await self._publish(cursor, envelope)

    async def _publish(self, cursor: int | None, envelope: Envelope) -> None:
        try:
            rendered = await self._render(envelope)
        except Exception:
            logger.exception("rendering a shared event failed; its members skip it")
            return
        if rendered is None:
            return
        sending: list[Awaitable[None]] | None = None
        for member in tuple(self._members):
            pending = member.pending
            if pending is not None:
                pending.append((cursor, rendered))
                continue
            if cursor is not None:
                if cursor <= member.floor:
                    continue
                own = member.own
                if own is not None and cursor in own:
                    own.discard(cursor)
                    if not own:
                        member.own = None
                    continue
            try:
                result = member.deliver(rendered)
            except Exception:
                logger.exception("a shared event could not be delivered to one member")
                continue
            if result is not None:
                sending = sending or []
                sending.append(result)
        if sending:
            # Members whose sends must wait do not hold up the others.
            await asyncio.gather(*sending, return_exceptions=True)

    def _fresh(self, cursor: int) -> bool:
        return (self._floor is None or cursor > self._floor) and cursor not in self._seen

    def _record(self, cursor: int) -> None:
        self._seen.add(cursor)
        if len(self._seen) > RECENT:
            ordered = sorted(self._seen)
            forget = len(ordered) - RECENT // 2
            self._floor = ordered[forget - 1]
            self._seen = set(ordered[forget:])

    async def _resync(self) -> None:
        still_allowed = self.source.still_allowed
        if still_allowed is not None:
            # A revocation published while the backend was away is lost: ask, once per
            # credential, whoever holds it.
            holders: dict[Any, list[Member[R]]] = {}
            for member in self._members:
                holders.setdefault(member.credential, []).append(member)
            for credential, members in holders.items():
                if not await still_allowed(credential):
                    self._end(members)
        fetch_after = self.source.fetch_after
        if fetch_after is None or self._replay_from is None:
            # Nobody is live yet: the pending members' own replays cover everything.
            return
        cursor = self._replay_from
        while rows := await fetch_after(cursor):
            for envelope in rows:
                row_cursor = int(envelope["cursor"])
                if self._fresh(row_cursor):
                    self._record(row_cursor)
                    await self._publish(row_cursor, envelope)
            cursor = int(rows[-1]["cursor"])

    def _end(self, members: Sequence[Member[R]]) -> None:
        for member in members:
            if member.ended:
                continue
            with contextlib.suppress(Exception):
                member.end()
            member.ended = True
            self.leave(member)
