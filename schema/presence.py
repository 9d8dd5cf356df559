"""Typing indicators and presence in interviews: ephemeral, never stored, never replayed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import strawberry

from models.interviews.orm import Interview as InterviewRow
from models.interviews.presence import PresenceChange
from models.interviews.typing import REFRESH_SECONDS, TTL_SECONDS
from models.users.orm import User as UserRow
from resolvers.context import Info
from schema.core import UserError, described_field
from schema.interviews import Interview
from schema.users import User


async def _interview(info: Info, pk: UUID) -> InterviewRow:
    row = await info.context.loaders.interview.load(pk)
    assert row is not None, "a party subscribed to it, or signalled in it"
    return row


async def _user(info: Info, pk: UUID) -> UserRow:
    row = await info.context.loaders.user.load(pk)
    assert row is not None, "a party of the interview"
    return row


@strawberry.input(description="Tells the other party of an interview that the viewer types.")
class SetTypingInput:
    interview_id: strawberry.ID = strawberry.field(description="An interview the viewer is in.")
    typing: bool = strawberry.field(
        default=True,
        description=f"true while the viewer types: send it again every {REFRESH_SECONDS:g} "
        f"to 3 seconds while they go on (more often is coalesced). false when they stop, "
        "clear or send their draft: the other party's indicator clears at once.",
    )


@strawberry.type
class SetTypingPayload:
    interview: Interview | None = strawberry.field(
        description="The interview; null when the signal was refused."
    )
    expires_at: datetime | None = strawberry.field(
        description="When the other party's indicator clears by itself unless the viewer "
        "signals again; null when none is showing (after `typing: false`) or on an error."
    )
    user_errors: list[UserError] = strawberry.field(
        description="NOT_FOUND for an interview the viewer is not in, INVALID_STATE for a closed "
        "one, RATE_LIMITED for too many signals."
    )


@strawberry.type(
    description="The other party of an interview started or stopped typing. Not stored: "
    "only who listens at that moment hears of it."
)
class TypingEvent:
    typing: bool = strawberry.field(
        description="true while they type; false when they stopped (or sent their message)."
    )
    at: datetime = strawberry.field(description="When they signalled it, by the server's clock.")
    expires_at: datetime | None = strawberry.field(
        description=f"When to clear the indicator if no further event comes (about "
        f"{TTL_SECONDS:g} seconds after `at`: a typing client refreshes it before then); null "
        "when `typing` is false."
    )
    interview_id: strawberry.Private[UUID]
    user_id: strawberry.Private[UUID]

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> TypingEvent:
        """Built from the published signal alone: no database read per subscriber."""
        expires_at = envelope.get("expires_at")
        return cls(
            typing=bool(envelope["typing"]),
            at=datetime.fromisoformat(envelope["at"]),
            expires_at=datetime.fromisoformat(expires_at) if expires_at else None,
            interview_id=UUID(envelope["interview_id"]),
            user_id=UUID(envelope["user_id"]),
        )

    @described_field("The interview they type in.")
    async def interview(self, info: Info) -> Interview:
        return Interview.from_row(await _interview(info, self.interview_id))

    @described_field("Who types: the other party of the interview.")
    async def user(self, info: Info) -> User:
        return User.from_row(await _user(info, self.user_id))


@strawberry.type(
    description="Whether the other party of an interview is online: has a live subscription "
    "on it (messageAdded, typingChanged or presenceChanged), through any server."
)
class PresenceEvent:
    online: bool = strawberry.field(description="Whether they are online now.")
    at: datetime = strawberry.field(
        description="When the server noticed; the first event tells the state as the "
        "subscription starts."
    )
    interview_id: strawberry.Private[UUID]
    user_id: strawberry.Private[UUID]

    @classmethod
    def from_change(cls, change: PresenceChange) -> PresenceEvent:
        return cls(
            online=change.online,
            at=change.at,
            interview_id=change.interview_id,
            user_id=change.user_id,
        )

    @described_field("The interview.")
    async def interview(self, info: Info) -> Interview:
        return Interview.from_row(await _interview(info, self.interview_id))

    @described_field("Whose presence: the other party of the interview.")
    async def user(self, info: Info) -> User:
        return User.from_row(await _user(info, self.user_id))
