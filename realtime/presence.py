"""Who is live on an interview, across server processes, with nothing stored.

A user is present on an interview while they hold a live subscription on it in some server
process. Each process counts its own holders and speaks for them; nobody keeps the whole
picture, and no process has to say goodbye:
- a process announces on `presence:<interview>` which users it holds there whenever that set
  changes (the first holder of a user comes, the last one goes), whenever it is asked, and for
  every interview it holds after a backend reconnect;
- a watcher asks ("who is here?", on PRESENCE_PROBES) when it starts, after a backend reconnect
  and every PROBE_EVERY_SECONDS, and counts a user present while the latest announcement of some
  process lists them and is younger than TTL_SECONDS.
A user let go of everywhere shows offline GRACE_SECONDS later, so that a reloading page does not
flicker. A process that dies without a word (killed: its sockets vanish) stops answering, so
its users go offline for everyone within TTL_SECONDS of its last answer; an announcement that
pub/sub lost (at most once, and nothing while Redis is away) is made good by the next answer.
One task per process sends its announcements, one at a time and each as things are when it
goes, so a burst of sockets coming and going costs one per interview; each carries its
process's origin and an increasing number, and one that arrives after a later one is ignored.
The cost is a probe per watcher every PROBE_EVERY_SECONDS and an answer per holding process;
holders that nobody watches cost one publish per change.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import Counter
from collections.abc import AsyncGenerator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self
from uuid import UUID, uuid4

import orjson
from broadcaster import Event

from realtime import channels
from realtime.broadcast import RESYNC, Broadcaster
from realtime.inbox import Inbox

logger = logging.getLogger("marketplace.realtime")

PROBE_EVERY_SECONDS = 2.5
# More than two probe periods: one lost answer does not turn anybody offline.
TTL_SECONDS = 6.0
# A user whose last subscription ended shows offline this much later (see PartyState).
GRACE_SECONDS = 1.0
# How long a new watcher waits for an answer before saying "offline": whoever holds the user
# answers within a round trip through the backend.
FIRST_ANSWER_SECONDS = 0.5
# After a failure to listen for probes (the backend closing, say), before trying again.
RETRY_SECONDS = 1.0
# At shutdown, how long announcements still being sent may take.
CLOSE_SECONDS = 1.0
PUBLISH_TIMEOUT_SECONDS = 2.0

Envelope = dict[str, Any]


def _decode(message: str) -> Envelope | None:
    try:
        decoded = orjson.loads(message)
    except orjson.JSONDecodeError:
        return None
    return decoded if isinstance(decoded, dict) else None


@dataclass
class _Origin:
    seq: int
    heard_at: float
    # The user counts as present, as far as this process is concerned, until then.
    present_until: float


class PartyState:
    """One watcher's view of one user on one interview, from every process's announcements.

    `now` is the watcher's monotonic clock, passed in: the rules need no waiting to be tested.
    A process letting go of the user counts for `grace` seconds more, so that a page reloading
    (its socket closing, a new one opening, perhaps on another process) does not flicker.
    """

    def __init__(
        self, user_id: UUID, ttl: float = TTL_SECONDS, grace: float = GRACE_SECONDS
    ) -> None:
        self._user_id = str(user_id)
        self._ttl = ttl
        self._grace = grace
        self._origins: dict[str, _Origin] = {}

    def heard(self, announcement: Mapping[str, Any], now: float) -> None:
        try:
            origin = str(announcement["origin"])
            seq = int(announcement["seq"])
            holds = self._user_id in announcement["users"]
        except (KeyError, TypeError, ValueError):
            return
        known = self._origins.get(origin)
        if known is not None and seq <= known.seq:
            return
        if holds:
            until = now + self._ttl
        elif known is not None and known.present_until > now:
            until = min(known.present_until, now + self._grace)
        else:
            until = now
        self._origins[origin] = _Origin(seq=seq, heard_at=now, present_until=until)

    def online(self, now: float) -> bool:
        self._forget(now)
        return any(origin.present_until > now for origin in self._origins.values())

    def next_change(self, now: float) -> float | None:
        """The soonest that online() may turn false without news; None while offline."""
        self._forget(now)
        return min(
            (o.present_until for o in self._origins.values() if o.present_until > now),
            default=None,
        )

    def _forget(self, now: float) -> None:
        for name in [
            name
            for name, origin in self._origins.items()
            if origin.present_until <= now and origin.heard_at + self._ttl <= now
        ]:
            del self._origins[name]


class _Holding:
    def __init__(self, presence: Presence, interview_id: UUID, user_id: UUID) -> None:
        self._presence = presence
        self._key = (interview_id, user_id)

    async def __aenter__(self) -> None:
        self._presence._hold(*self._key)

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._presence._release(*self._key)


class Presence:
    """A server process's side of presence: its holders, its answers, and watchers.

    Use as an async context manager around the process's life (inside the broadcaster's).
    """

    def __init__(
        self,
        broadcast: Broadcaster,
        *,
        probe_every: float = PROBE_EVERY_SECONDS,
        ttl: float = TTL_SECONDS,
        grace: float = GRACE_SECONDS,
        first_answer_within: float = FIRST_ANSWER_SECONDS,
    ) -> None:
        self._broadcast = broadcast
        self._probe_every = probe_every
        self._ttl = ttl
        self._grace = grace
        self._first_answer_within = first_answer_within
        self.origin = uuid4().hex
        self._seq = itertools.count(1)
        self._held: dict[UUID, Counter[UUID]] = {}
        self._listener: asyncio.Task[None] | None = None
        # Interviews whose announcement is due, in order; the sender sends each as it is when
        # its turn comes, so a burst (sockets coming and going at once) costs one per interview.
        self._due: dict[UUID, None] = {}
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._sender: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        self._sender = asyncio.create_task(self._send_due(), name="presence-announcements")
        listening = asyncio.get_running_loop().create_future()
        self._listener = asyncio.create_task(self._answer_probes(listening), name="presence-probes")
        # Before any subscription can start: a probe is then never missed for want of a listener.
        await asyncio.wait({listening, self._listener}, return_when=asyncio.FIRST_COMPLETED)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Announcements of holders that left during shutdown: watchers elsewhere hear of it now
        # instead of after TTL_SECONDS.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self._idle.wait()
        for task in (self._listener, self._sender):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def held(self, interview_id: UUID) -> set[UUID]:
        """Who this process holds live on the interview."""
        return set(self._held.get(interview_id, ()))

    def holding(self, interview_id: UUID, user_id: UUID) -> _Holding:
        """`async with presence.holding(interview, user):` around a live subscription."""
        return _Holding(self, interview_id, user_id)

    def hold(self, interview_id: UUID, user_id: UUID) -> Callable[[], None]:
        """Holds the user present on the interview until the returned function is called (once
        is enough; later calls do nothing), for a subscription that outlives its generator."""
        self._hold(interview_id, user_id)
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self._release(interview_id, user_id)

        return release

    def _hold(self, interview_id: UUID, user_id: UUID) -> None:
        users = self._held.setdefault(interview_id, Counter())
        users[user_id] += 1
        if users[user_id] == 1:
            self._announce(interview_id)

    def _release(self, interview_id: UUID, user_id: UUID) -> None:
        users = self._held[interview_id]
        users[user_id] -= 1
        if users[user_id] == 0:
            del users[user_id]
            if not users:
                del self._held[interview_id]
            self._announce(interview_id)

    def _announce(self, interview_id: UUID) -> None:
        """Due: who this process holds on the interview. Sent without making the caller wait (a
        subscription starting or ending, possibly being cancelled)."""
        self._due[interview_id] = None
        self._idle.clear()
        self._wake.set()

    async def _send_due(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._due:
                interview_id = next(iter(self._due))
                del self._due[interview_id]
                message = orjson.dumps(
                    {
                        "origin": self.origin,
                        "seq": next(self._seq),
                        "users": sorted(str(user) for user in self._held.get(interview_id, ())),
                    }
                ).decode()
                await self._publish(channels.presence(interview_id), message)
            self._idle.set()

    async def _publish(self, channel: str, message: str) -> None:
        try:
            # A frozen Redis must not hold up every announcement after this one.
            async with asyncio.timeout(PUBLISH_TIMEOUT_SECONDS):
                await self._broadcast.publish(channel, message)
        except Exception:
            # Ephemeral: the next probe asks again.
            logger.debug("could not publish presence to %s", channel, exc_info=True)

    async def _probe(self, interview_id: UUID) -> None:
        await self._publish(
            channels.PRESENCE_PROBES, orjson.dumps({"interview": str(interview_id)}).decode()
        )

    async def _answer_probes(self, listening: asyncio.Future[None]) -> None:
        while True:
            try:
                inbox: Inbox[Event] = Inbox()
                async with self._broadcast.feed([channels.PRESENCE_PROBES], inbox):
                    if not listening.done():
                        listening.set_result(None)
                    while True:
                        event = await inbox.get()
                        if event.message == RESYNC:
                            # Back from a backend outage: whatever was announced meanwhile was
                            # lost, and watchers may have given up on this process's users.
                            for interview_id in self._held:
                                self._announce(interview_id)
                            continue
                        probe = _decode(event.message)
                        if probe is None:
                            continue
                        with contextlib.suppress(KeyError, TypeError, ValueError):
                            interview_id = UUID(str(probe["interview"]))
                            if interview_id in self._held:
                                self._announce(interview_id)
            except Exception:
                logger.warning("presence: listening for probes failed; retrying", exc_info=True)
                if not listening.done():
                    # The server starts anyway; its holders answer once a retry gets through.
                    listening.set_result(None)
                await asyncio.sleep(RETRY_SECONDS)

    async def watch(
        self,
        interview_id: UUID,
        user_id: UUID,
        *,
        also: Sequence[str] = (),
        closes: Callable[[Envelope], bool] = lambda envelope: False,
        still_allowed: Callable[[], Awaitable[bool]] | None = None,
    ) -> AsyncGenerator[bool, None]:
        """Whether the user is present on the interview: first as it is now (at once if they
        are, within `first_answer_within` seconds if not), then each change.

        `also` are more channels to listen to, for control events: one that `closes` ends the
        watch, as does `still_allowed()` saying no after a backend reconnect.
        """
        own = channels.presence(interview_id)
        state = PartyState(user_id, self._ttl, self._grace)
        inbox: Inbox[Event] = Inbox()
        clock = time.monotonic
        async with self._broadcast.feed([own, *also], inbox):
            await self._probe(interview_id)
            next_probe = clock() + self._probe_every
            first_by = clock() + self._first_answer_within
            shown: bool | None = None
            while True:
                now = clock()
                online = state.online(now)
                if (shown is None and (online or now >= first_by)) or (
                    shown is not None and online != shown
                ):
                    shown = online
                    yield online
                    continue
                if now >= next_probe:
                    await self._probe(interview_id)
                    next_probe = now + self._probe_every
                wake = first_by if shown is None else next_probe
                change = state.next_change(now)
                if change is not None:
                    wake = min(wake, change)
                event = await _next_event(inbox, wake - now)
                if event is None:
                    continue
                if event.message == RESYNC:
                    if still_allowed is not None and not await still_allowed():
                        return
                    if event.channel == own:
                        # What was announced while the backend was away is lost: ask again.
                        await self._probe(interview_id)
                        next_probe = clock() + self._probe_every
                    continue
                envelope = _decode(event.message)
                if envelope is None:
                    continue
                if event.channel == own:
                    state.heard(envelope, clock())
                elif closes(envelope):
                    return


async def _next_event(inbox: Inbox[Event], timeout: float) -> Event | None:
    """The next event, or None if none comes within `timeout` seconds."""
    if len(inbox) == 0 and timeout <= 0:
        return None
    try:
        async with asyncio.timeout(max(timeout, 0)):
            return await inbox.get()
    except TimeoutError:
        return None
