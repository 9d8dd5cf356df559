from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from auth.policies import can_see_email
from models.users.orm import User as UserRow
from resolvers.context import Info
from schema import refs
from schema.core import Node, UserError, described_field, encode_global_id

if TYPE_CHECKING:
    from schema.profiles import ClientProfile, FreelancerProfile


@strawberry.type
class User(Node):
    id: strawberry.ID
    display_name: str
    is_staff: bool
    created_at: datetime
    pk: strawberry.Private[UUID]
    private_email: strawberry.Private[str]

    @classmethod
    def from_row(cls, row: UserRow) -> User:
        return cls(
            id=encode_global_id("User", row.id),
            display_name=row.display_name,
            is_staff=row.is_staff,
            created_at=row.created_at,
            pk=row.id,
            private_email=row.email,
        )

    @described_field("Visible to the user alone; null for anyone else.")
    def email(self, info: Info) -> str | None:
        return self.private_email if can_see_email(info.context.user, self.pk) else None

    @strawberry.field
    async def freelancer_profile(
        self, info: Info
    ) -> Annotated[FreelancerProfile, strawberry.lazy("schema.profiles")] | None:
        row = await info.context.loaders.freelancer_profile_by_user.load(self.pk)
        return refs.freelancer_profile(row) if row else None

    @strawberry.field
    async def client_profile(
        self, info: Info
    ) -> Annotated[ClientProfile, strawberry.lazy("schema.profiles")] | None:
        row = await info.context.loaders.client_profile_by_user.load(self.pk)
        return refs.client_profile(row) if row else None


@strawberry.input
class SignUpInput:
    email: str
    password: str
    display_name: str


@strawberry.input
class LogInInput:
    email: str
    password: str


@strawberry.type
class AuthPayload:
    token: str | None = strawberry.field(
        description=(
            "Bearer token for the Authorization header and the websocket connection_init payload."
        )
    )
    user: User | None
    user_errors: list[UserError]


@strawberry.type
class LogOutPayload:
    ok: bool
    user_errors: list[UserError]
