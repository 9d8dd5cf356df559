"""Who is acting: a user and the profiles they hold, loaded once per request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from uuid import UUID

from models.errors import DomainError, ErrorCode
from models.profiles.orm import ClientProfile, FreelancerProfile
from models.users.orm import User


@dataclass(frozen=True)
class Actor:
    user_id: UUID
    is_staff: bool = False
    freelancer_profile_id: UUID | None = None
    client_profile_id: UUID | None = None

    def require_freelancer(self) -> UUID:
        if self.freelancer_profile_id is None:
            raise DomainError("Create a freelancer profile first", code=ErrorCode.FORBIDDEN)
        return self.freelancer_profile_id

    def require_client(self) -> UUID:
        if self.client_profile_id is None:
            raise DomainError("Create a client profile first", code=ErrorCode.FORBIDDEN)
        return self.client_profile_id


async def actor_for(user: User) -> Actor:
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    freelancer = cast(
        list[UUID], await FreelancerProfile.filter(user_id=user.id).values_list("id", flat=True)
    )
    client = cast(
        list[UUID], await ClientProfile.filter(user_id=user.id).values_list("id", flat=True)
    )
    return Actor(
        user_id=user.id,
        is_staff=user.is_staff,
        freelancer_profile_id=freelancer[0] if freelancer else None,
        client_profile_id=client[0] if client else None,
    )
