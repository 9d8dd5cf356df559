from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from models.profiles.orm import ClientProfile, FreelancerProfile
from models.reviews import orm
from models.reviews.reputation import rating_average
from resolvers.context import Info
from resolvers.contracts.visibility import visible_contract
from resolvers.errors import PublicError
from resolvers.loaders import referenced
from schema import refs
from schema.core import Node, UserError, encode_global_id
from schema.users import User

if TYPE_CHECKING:
    from schema.contracts import Contract

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
ReviewerRole = orm.ReviewerRole
strawberry.enum(ReviewerRole, name="ReviewerRole")


@strawberry.type(description="Averages over revealed reviews; 1.0-5.0, null while there are none.")
class RatingSummary:
    count: int
    overall: float | None
    communication: float | None
    quality: float | None
    deadlines: float | None

    @classmethod
    def from_sums(cls, row: FreelancerProfile | ClientProfile) -> RatingSummary:
        count = row.rating_count

        def average(name: str) -> float | None:
            return rating_average(getattr(row, f"rating_{name}_sum"), count)

        return cls(
            count=count,
            overall=average("overall"),
            communication=average("communication"),
            quality=average("quality"),
            deadlines=average("deadlines"),
        )


@strawberry.type
class Review(Node):
    id: strawberry.ID
    author_role: ReviewerRole = strawberry.field(
        description="From the freelancer about the client, or the other way round."
    )
    overall: int
    communication: int
    quality: int
    deadlines: int
    comment: str
    created_at: datetime
    contract_id: strawberry.Private[UUID]
    author_id: strawberry.Private[UUID]
    subject_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Review) -> Review:
        return cls(
            id=encode_global_id("Review", row.id),
            author_role=orm.ReviewerRole(row.author_role),
            overall=row.overall,
            communication=row.communication,
            quality=row.quality,
            deadlines=row.deadlines,
            comment=row.comment,
            created_at=row.created_at,
            contract_id=row.contract_id,
            author_id=row.author_id,
            subject_id=row.subject_id,
        )

    @strawberry.field
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contracts")]:
        # The one path from public data into a contract: without this check anyone reading
        # a profile's reviews could read the contract's terms, milestones and submissions,
        # events, dispute, proposal and interview messages. The field is non-null in the
        # API contract, so denial is a field error rather than null.
        row = await visible_contract(info, self.contract_id)
        if row is None:
            raise PublicError("No Contract with this ID", "NOT_FOUND")
        return refs.contract(row)

    @strawberry.field
    async def author(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.author_id))

    @strawberry.field
    async def subject(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.subject_id))


@strawberry.input
class SubmitReviewInput:
    contract_id: strawberry.ID
    overall: int
    communication: int
    quality: int
    deadlines: int
    comment: str


@strawberry.type
class ReviewPayload:
    review: Review | None
    user_errors: list[UserError]
