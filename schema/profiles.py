from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

import strawberry

from models.money import from_cents
from models.pagination import PageRequest
from models.profiles import orm
from models.profiles.orm import Availability as AvailabilityValue
from models.reviews.orm import Review as ReviewRow
from models.reviews.orm import ReviewerRole
from resolvers.context import Info
from resolvers.pages import page_request
from resolvers.prefetch import ready, then
from schema import refs
from schema.core import (
    Connection,
    Node,
    UserError,
    described_field,
    encode_global_id,
    nested_connection,
)
from schema.reviews import RatingSummary, Review
from schema.users import User

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
Availability = AvailabilityValue
strawberry.enum(Availability, name="Availability")


@strawberry.type
class Skill(Node):
    id: strawberry.ID
    name: str
    slug: str

    @classmethod
    def from_row(cls, row: orm.Skill) -> Skill:
        return cls(id=encode_global_id("Skill", row.id), name=row.name, slug=row.slug)


@strawberry.type
class PortfolioItem(Node):
    id: strawberry.ID
    title: str
    description: str
    url: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: orm.PortfolioItem) -> PortfolioItem:
        return cls(
            id=encode_global_id("PortfolioItem", row.id),
            title=row.title,
            description=row.description,
            url=row.url,
            created_at=row.created_at,
        )


@refs.registered
@strawberry.type
class FreelancerProfile(Node):
    id: strawberry.ID
    title: str
    overview: str
    hourly_rate: Decimal | None
    location: str | None
    availability: Availability
    created_at: datetime
    pk: strawberry.Private[UUID]
    user_id: strawberry.Private[UUID]
    row: strawberry.Private[orm.FreelancerProfile]

    @classmethod
    def from_row(cls, row: orm.FreelancerProfile) -> FreelancerProfile:
        return cls(
            id=encode_global_id("FreelancerProfile", row.id),
            title=row.title,
            overview=row.overview,
            hourly_rate=from_cents(row.hourly_rate_cents)
            if row.hourly_rate_cents is not None
            else None,
            location=row.location,
            availability=AvailabilityValue(row.availability),
            created_at=row.created_at,
            pk=row.id,
            user_id=row.user_id,
            row=row,
        )

    @strawberry.field
    def user(self, info: Info) -> User:
        return then(ready(info.context.loaders.user, self.user_id), User.from_row)

    @strawberry.field
    async def skills(self, info: Info) -> list[Skill]:
        links = await info.context.loaders.skills_by_freelancer_profile.load(self.pk)
        return [Skill.from_row(link.skill) for link in links]

    @strawberry.field
    async def portfolio(self, info: Info) -> list[PortfolioItem]:
        items = await info.context.loaders.portfolio_by_freelancer_profile.load(self.pk)
        return [PortfolioItem.from_row(item) for item in items]

    @strawberry.field
    def rating(self) -> RatingSummary:
        return RatingSummary.from_sums(self.row)

    @described_field(
        "Share (0-100) of ended contracts that went well; null until 3 have ended. An ended "
        "contract is one completed, or cancelled after money was funded; it went well when it "
        "was completed with nothing refunded, no dispute, and (once revealed) the client's "
        "overall score was 4 or 5."
    )
    async def job_success_score(self, info: Info) -> int | None:
        return await info.context.loaders.job_success_score.load(self.pk)

    @strawberry.field
    async def completed_contracts(self, info: Info) -> int:
        return (await info.context.loaders.freelancer_counters.load(self.pk))[0]

    @described_field("Paid to the freelancer over all contracts, before the service fee.")
    async def total_earned(self, info: Info) -> Decimal:
        return from_cents((await info.context.loaders.freelancer_counters.load(self.pk))[1])

    @described_field("Revealed reviews from clients, newest first.")
    async def reviews(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Review]:
        return await revealed_reviews(
            info, self.user_id, ReviewerRole.CLIENT, page_request(first, after, last, before)
        )


@refs.registered
@strawberry.type
class ClientProfile(Node):
    id: strawberry.ID
    company_name: str | None
    description: str
    website: str | None
    location: str | None
    created_at: datetime
    pk: strawberry.Private[UUID]
    user_id: strawberry.Private[UUID]
    row: strawberry.Private[orm.ClientProfile]

    @classmethod
    def from_row(cls, row: orm.ClientProfile) -> ClientProfile:
        return cls(
            id=encode_global_id("ClientProfile", row.id),
            company_name=row.company_name,
            description=row.description,
            website=row.website,
            location=row.location,
            created_at=row.created_at,
            pk=row.id,
            user_id=row.user_id,
            row=row,
        )

    @strawberry.field
    def user(self, info: Info) -> User:
        return then(ready(info.context.loaders.user, self.user_id), User.from_row)

    @described_field("The client has funded escrow or paid hours at least once.")
    async def payment_verified(self, info: Info) -> bool:
        return (await info.context.loaders.client_counters.load(self.pk))[3]

    @described_field("Jobs published (drafts not counted).")
    async def jobs_posted(self, info: Info) -> int:
        return (await info.context.loaders.client_counters.load(self.pk))[0]

    @described_field("Offers accepted: contracts that started.")
    async def hires(self, info: Info) -> int:
        return (await info.context.loaders.client_counters.load(self.pk))[1]

    @described_field("Paid to freelancers over all contracts, before fees.")
    async def total_spent(self, info: Info) -> Decimal:
        return from_cents((await info.context.loaders.client_counters.load(self.pk))[2])

    @strawberry.field
    def rating(self) -> RatingSummary:
        return RatingSummary.from_sums(self.row)

    @described_field("Revealed reviews from freelancers, newest first.")
    async def reviews(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[Review]:
        return await revealed_reviews(
            info, self.user_id, ReviewerRole.FREELANCER, page_request(first, after, last, before)
        )


@strawberry.input
class FreelancerFilter:
    query: str | None = None
    skills: list[str] | None = None
    min_hourly_rate: Decimal | None = None
    max_hourly_rate: Decimal | None = None
    min_rating: float | None = None
    availability: Availability | None = None


@strawberry.input
class FreelancerProfileInput:
    title: str
    overview: str
    skills: list[str]
    hourly_rate: Decimal | None = None
    location: str | None = None
    availability: Availability | None = None


@strawberry.input
class UpdateFreelancerProfileInput:
    title: str | None = strawberry.UNSET
    overview: str | None = strawberry.UNSET
    hourly_rate: Decimal | None = strawberry.UNSET
    skills: list[str] | None = strawberry.UNSET
    location: str | None = strawberry.UNSET
    availability: Availability | None = strawberry.UNSET


@strawberry.type
class FreelancerProfilePayload:
    profile: FreelancerProfile | None
    user_errors: list[UserError]


@strawberry.input
class PortfolioItemInput:
    title: str
    description: str
    url: str | None = None


@strawberry.type
class PortfolioItemPayload:
    item: PortfolioItem | None
    user_errors: list[UserError]


@strawberry.input
class ClientProfileInput:
    description: str
    company_name: str | None = None
    website: str | None = None
    location: str | None = None


@strawberry.input
class UpdateClientProfileInput:
    company_name: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    location: str | None = strawberry.UNSET


@strawberry.type
class ClientProfilePayload:
    profile: ClientProfile | None
    user_errors: list[UserError]


async def revealed_reviews(
    info: Info, subject_id: UUID, role: ReviewerRole, request: PageRequest
) -> Connection[Review]:
    return await nested_connection(
        info,
        ReviewRow,
        "subject_id",
        subject_id,
        request,
        Review.from_row,
        descending=True,
        conditions=(f"author_role = '{role.value}'", "revealed_at IS NOT NULL"),
    )
