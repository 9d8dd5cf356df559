"""Typing indicators: who may signal, and how often a signal reaches the other party.

Nothing here is stored: a signal is published to whoever listens now and is gone. A client calls
`setTyping(typing: true)` while its user types (every REFRESH_SECONDS or so) and
`setTyping(typing: false)` when they stop or send. The other party's indicator lasts TTL_SECONDS
from the last `true` that reached them, unless a `false` clears it first.

The gate, per (user, interview):
- a `true` within REFRESH_SECONDS of the last one sent is coalesced: it succeeds and sends
  nothing, as the indicator is still showing;
- a `false` is sent only while an indicator is showing, and is never refused: a stop that is
  lost leaves "typing…" on the other screen until it expires;
- past LIMIT `true` calls within WINDOW_SECONDS, calls are refused (RATE_LIMITED).
So at most one `true` (and the `false` that ends it) goes out per REFRESH_SECONDS, however often
a client calls. The gate lives in each server process: behind a load balancer that spreads one
user's calls over N processes, up to N times as many go through.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID

from models.base import utc_now
from models.errors import InvalidState, NotFound, RateLimited
from models.events import Published
from models.interviews.orm import Interview, InterviewStatus

TTL_SECONDS = 6.0
REFRESH_SECONDS = 2.0
LIMIT = 20
WINDOW_SECONDS = 10.0


def typing_channel(interview_id: UUID) -> str:
    return f"typing:{interview_id}"


@dataclass
class _Entry:
    shown_until: float = 0.0
    # The same moment by the wall clock, as told to the other party.
    shown_expires_at: datetime | None = None
    last_sent: float = float("-inf")
    calls: deque[float] = field(default_factory=deque)


@dataclass(frozen=True)
class Decision:
    send: bool
    # When the other party's indicator clears by itself; None when none is showing.
    expires_at: datetime | None


class TypingGate:
    """Per process; `clock` is monotonic seconds (injectable for tests), `at` the wall time of
    the call, which only labels the expiry that the other party is told."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[tuple[UUID, UUID], _Entry] = {}
        self._swept = clock()

    def __len__(self) -> int:
        return len(self._entries)

    def decide(self, interview_id: UUID, user_id: UUID, typing: bool, at: datetime) -> Decision:
        now = self._clock()
        self._sweep(now)
        key = (interview_id, user_id)
        entry = self._entries.get(key)
        if not typing:
            if entry is None or entry.shown_until <= now:
                return Decision(send=False, expires_at=None)
            entry.shown_until, entry.shown_expires_at = 0.0, None
            return Decision(send=True, expires_at=None)
        if entry is None:
            entry = self._entries[key] = _Entry()
        while entry.calls and entry.calls[0] <= now - WINDOW_SECONDS:
            entry.calls.popleft()
        if len(entry.calls) >= LIMIT:
            raise RateLimited(
                f"At most {LIMIT} typing signals per {WINDOW_SECONDS:g} seconds; "
                f"one every {REFRESH_SECONDS:g} seconds is enough"
            )
        entry.calls.append(now)
        if entry.shown_until > now and now - entry.last_sent < REFRESH_SECONDS:
            return Decision(send=False, expires_at=entry.shown_expires_at)
        entry.last_sent = now
        entry.shown_until = now + TTL_SECONDS
        entry.shown_expires_at = at + timedelta(seconds=TTL_SECONDS)
        return Decision(send=True, expires_at=entry.shown_expires_at)

    def _sweep(self, now: float) -> None:
        """Forget who has gone quiet, so the gate does not grow with every pair ever seen."""
        if now - self._swept < WINDOW_SECONDS:
            return
        self._swept = now
        quiet = [
            key
            for key, entry in self._entries.items()
            if entry.shown_until <= now
            and (not entry.calls or entry.calls[-1] <= now - WINDOW_SECONDS)
        ]
        for key in quiet:
            del self._entries[key]


@dataclass(frozen=True)
class TypingSignal:
    interview: Interview
    typing: bool
    expires_at: datetime | None


async def typing_party(user_id: UUID, interview_id: UUID) -> Interview:
    """The interview, if the user is one of its parties and it is still open."""
    interview = await Interview.filter(id=interview_id).first()
    if interview is None or user_id not in (interview.client_id, interview.freelancer_id):
        raise NotFound("Interview", field=["input", "interviewId"])
    if interview.status != InterviewStatus.OPEN:
        raise InvalidState("This conversation is closed")
    return interview


async def set_typing(
    gate: TypingGate, user_id: UUID, interview_id: UUID, typing: bool
) -> tuple[TypingSignal, list[Published]]:
    interview = await typing_party(user_id, interview_id)
    now = utc_now()
    decision = gate.decide(interview.id, user_id, typing, at=now)
    expires_at = decision.expires_at
    signal = TypingSignal(interview=interview, typing=typing, expires_at=expires_at)
    if not decision.send:
        return signal, []
    event = Published(
        channel=typing_channel(interview.id),
        payload={
            "type": "typing",
            "interview_id": str(interview.id),
            "user_id": str(user_id),
            "typing": typing,
            "at": now.isoformat(),
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
    )
    return signal, [event]
