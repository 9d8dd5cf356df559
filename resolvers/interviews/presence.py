"""setTyping, typingChanged and presenceChanged: signals between the two parties of an
interview, published to whoever listens now and never stored."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from uuid import UUID

from models.base import utc_now
from models.events import Published
from models.interviews.orm import Interview as InterviewRow
from models.interviews.presence import PresenceChange
from models.interviews.typing import TypingSignal
from models.interviews.typing import set_typing as set_typing_action
from realtime import channels
from realtime.ephemeral import live_only
from realtime.stream import Envelope
from resolvers.context import Info
from resolvers.errors import Outcome, PublicError, attempt
from resolvers.ids import decode_id, parse_global_id
from resolvers.interviews.resolvers import visible_interview
from resolvers.loaders import Loaders
from resolvers.publish import publish
from resolvers.streams import revokes, signed_in_now, token_still_valid


def other_party(interview: InterviewRow, user_id: UUID) -> UUID:
    client_id: UUID = interview.client_id
    return interview.freelancer_id if user_id == client_id else client_id


async def set_typing(info: Info, interview_id: str, typing: bool) -> Outcome[TypingSignal]:
    user = info.context.user
    assert user is not None, "IsAuthenticated runs first"

    async def run() -> tuple[TypingSignal, list[Published]]:
        interview = decode_id(interview_id, "Interview", field=["input", "interviewId"])
        return await set_typing_action(info.context.typing_gate, user.id, interview, typing)

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    signal, events = result
    await publish(info, events)
    return signal, []


async def _party_interview(info: Info, interview_id: str) -> InterviewRow:
    parsed = parse_global_id(interview_id)
    interview = (
        await visible_interview(info, parsed[1]) if parsed and parsed[0] == "Interview" else None
    )
    if interview is None:
        raise PublicError("No Interview with this ID", "NOT_FOUND")
    return interview


async def typing_changed(info: Info, interview_id: str) -> AsyncGenerator[Envelope, None]:
    """The other party's typing signals, as they are published."""
    user = await signed_in_now(info)
    interview = await _party_interview(info, interview_id)
    other = str(other_party(interview, user.id))
    stream = live_only(
        info.context.broadcast,
        [channels.typing(interview.id), channels.user(user.id)],
        # The viewer's own signals (from another tab, say) are not news to them.
        accept=lambda envelope: (
            envelope.get("type") == "typing" and envelope.get("user_id") == other
        ),
        closes=revokes(info),
        still_allowed=token_still_valid(info),
        # Once subscribed: whoever sees the viewer online can be sure their typing reaches them.
        while_live=info.context.presence.holding(interview.id, user.id),
    )
    async with aclosing(stream):
        async for envelope in stream:
            info.context.loaders = Loaders()
            yield envelope


async def presence_changed(info: Info, interview_id: str) -> AsyncGenerator[PresenceChange, None]:
    user = await signed_in_now(info)
    interview = await _party_interview(info, interview_id)
    other = other_party(interview, user.id)
    presence = info.context.presence
    stream = presence.watch(
        interview.id,
        other,
        also=[channels.user(user.id)],
        closes=revokes(info),
        still_allowed=token_still_valid(info),
    )
    # Held first: the other party learns that the viewer is here as soon as can be.
    async with presence.holding(interview.id, user.id), aclosing(stream):
        async for online in stream:
            info.context.loaders = Loaders()
            yield PresenceChange(
                online=online, at=utc_now(), interview_id=interview.id, user_id=other
            )
