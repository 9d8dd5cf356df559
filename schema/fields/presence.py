"""Typing and presence in an interview: signals between its two parties, never stored."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing

import strawberry

from resolvers.context import Info
from resolvers.interviews import presence
from schema.core import user_errors
from schema.interviews import Interview
from schema.presence import PresenceEvent, SetTypingInput, SetTypingPayload, TypingEvent


async def set_typing(info: Info, input: SetTypingInput) -> SetTypingPayload:
    signal, problems = await presence.set_typing(info, input.interview_id, input.typing)
    if signal is None:
        return SetTypingPayload(interview=None, expires_at=None, user_errors=user_errors(problems))
    return SetTypingPayload(
        interview=Interview.from_row(signal.interview),
        expires_at=signal.expires_at,
        user_errors=[],
    )


async def typing_changed(
    info: Info, interview_id: strawberry.ID
) -> AsyncGenerator[TypingEvent, None]:
    async with aclosing(presence.typing_changed(info, interview_id)) as signals:
        async for envelope in signals:
            yield TypingEvent.from_envelope(envelope)


async def presence_changed(
    info: Info, interview_id: strawberry.ID
) -> AsyncGenerator[PresenceEvent, None]:
    async with aclosing(presence.presence_changed(info, interview_id)) as changes:
        async for change in changes:
            yield PresenceEvent.from_change(change)
