"""What a party of an interview learns about the other's presence (realtime/presence.py keeps
the state; nothing of it is stored)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID


@dataclass(frozen=True, slots=True)
class PresenceChange:
    """Whether `user_id`, the other party of the interview, is online, as noticed `at`."""

    online: bool
    at: datetime
    interview_id: UUID
    user_id: UUID
