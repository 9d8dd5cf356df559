from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from models.jobs import orm
from models.jobs.search import JobOrderField as JobOrderFieldValue
from models.money import from_cents
from models.proposals.orm import Proposal as ProposalRow
from models.proposals.orm import ProposalStatus as ProposalStatusValue
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.loaders import referenced
from resolvers.pages import page_request
from resolvers.prefetch import ready, then
from schema import refs
from schema.core import (
    Connection,
    Node,
    SortDirection,
    UserError,
    build_connection,
    described_field,
    encode_global_id,
)
from schema.profiles import ClientProfile, FreelancerProfile, Skill

if TYPE_CHECKING:
    from schema.proposals import Proposal, ProposalStatus

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
BudgetType = orm.BudgetType
strawberry.enum(BudgetType, name="BudgetType")
ExperienceLevel = orm.ExperienceLevel
strawberry.enum(ExperienceLevel, name="ExperienceLevel")
JobVisibility = orm.JobVisibility
strawberry.enum(JobVisibility, name="JobVisibility")
JobStatus = orm.JobStatus
strawberry.enum(JobStatus, name="JobStatus")
InvitationStatus = orm.InvitationStatus
strawberry.enum(InvitationStatus, name="InvitationStatus")
JobOrderField = JobOrderFieldValue
strawberry.enum(
    JobOrderField,
    name="JobOrderField",
    description=(
        "BUDGET orders by the fixed budget, or for hourly jobs by a 40-hour week at the top rate. "
        "RELEVANCE needs `filter.query`; without one it orders by CREATED_AT."
    ),
)


def _money(cents: int | None) -> Decimal | None:
    return from_cents(cents) if cents is not None else None


@strawberry.type
class Job(Node):
    id: strawberry.ID
    title: str
    description: str
    budget_type: BudgetType
    budget: Decimal | None = strawberry.field(description="Fixed-price budget.")
    hourly_rate_min: Decimal | None
    hourly_rate_max: Decimal | None
    deadline: date | None
    experience_level: ExperienceLevel
    visibility: JobVisibility
    status: JobStatus
    connects_required: int = strawberry.field(
        description=(
            "Connects a proposal costs, by budget (fixed budget, or 40 h at the top hourly rate): "
            "2 up to 100.00, 4 up to 500, 6 up to 1,000, 8 up to 2,500, 10 up to 5,000, 12 up to "
            "10,000, 14 up to 25,000, 16 above. Free for invited freelancers."
        )
    )
    proposal_count: int
    created_at: datetime
    updated_at: datetime
    pk: strawberry.Private[UUID]
    client_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Job) -> Job:
        return cls(
            id=encode_global_id("Job", row.id),
            title=row.title,
            description=row.description,
            budget_type=orm.BudgetType(row.budget_type),
            budget=_money(row.budget_cents),
            hourly_rate_min=_money(row.hourly_rate_min_cents),
            hourly_rate_max=_money(row.hourly_rate_max_cents),
            deadline=row.deadline,
            experience_level=orm.ExperienceLevel(row.experience_level),
            visibility=orm.JobVisibility(row.visibility),
            status=orm.JobStatus(row.status),
            connects_required=row.connects_required,
            proposal_count=row.proposal_count,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
            client_id=row.client_id,
        )

    @strawberry.field
    def client(self, info: Info) -> ClientProfile:
        loader = info.context.loaders.client_profile
        return then(ready(loader, self.client_id), ClientProfile.from_row)

    @strawberry.field
    def skills(self, info: Info) -> list[Skill]:
        links = ready(info.context.loaders.skills_by_job, self.pk)
        return then(links, lambda loaded: [Skill.from_row(link.skill) for link in loaded])

    @described_field(
        "The job's proposals: its client sees them all; a freelancer sees only their own."
    )
    async def proposals(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        status: Annotated[ProposalStatus, strawberry.lazy("schema.proposals")] | None = None,
    ) -> Connection[Annotated[Proposal, strawberry.lazy("schema.proposals")]]:
        actor = await viewer_actor(info)
        queryset = ProposalRow.filter(job_id=self.pk)
        if actor is None:
            queryset = queryset.filter(id__in=[])
        elif actor.client_profile_id != self.client_id:
            queryset = queryset.filter(freelancer_id=actor.freelancer_profile_id)
        if status is not None:
            queryset = queryset.filter(status=ProposalStatusValue(status))
        return await build_connection(
            queryset, page_request(first, after, last, before), refs.proposal
        )

    @described_field("The viewer's own proposal on this job, if any.")
    async def my_proposal(
        self, info: Info
    ) -> Annotated[Proposal, strawberry.lazy("schema.proposals")] | None:
        actor = await viewer_actor(info)
        if actor is None or actor.freelancer_profile_id is None:
            return None
        row = await info.context.loaders.my_proposal_by_job(actor.freelancer_profile_id).load(
            self.pk
        )
        return refs.proposal(row) if row else None


@strawberry.type
class Invitation(Node):
    id: strawberry.ID
    message: str
    status: InvitationStatus
    created_at: datetime
    job_id: strawberry.Private[UUID]
    freelancer_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Invitation) -> Invitation:
        return cls(
            id=encode_global_id("Invitation", row.id),
            message=row.message,
            status=orm.InvitationStatus(row.status),
            created_at=row.created_at,
            job_id=row.job_id,
            freelancer_id=row.freelancer_id,
        )

    @strawberry.field
    async def job(self, info: Info) -> Job:
        return Job.from_row(await referenced(info.context.loaders.job, self.job_id))

    @strawberry.field
    async def freelancer(self, info: Info) -> FreelancerProfile:
        return FreelancerProfile.from_row(
            await referenced(info.context.loaders.freelancer_profile, self.freelancer_id)
        )


@strawberry.input
class JobFilter:
    query: str | None = strawberry.field(
        default=None, description="Full-text search over title, description and skills."
    )
    skills: list[str] | None = strawberry.field(
        default=None, description="Skill slugs; a job matches if it requires any of them."
    )
    budget_type: BudgetType | None = None
    min_budget: Decimal | None = None
    max_budget: Decimal | None = None
    experience_level: ExperienceLevel | None = None
    status: JobStatus | None = strawberry.field(default=None, description="Defaults to OPEN.")
    client_id: strawberry.ID | None = None


@strawberry.input
class JobOrder:
    field: JobOrderField
    direction: SortDirection


@strawberry.input
class PostJobInput:
    title: str
    description: str
    skills: list[str]
    budget_type: BudgetType
    experience_level: ExperienceLevel
    budget: Decimal | None = None
    hourly_rate_min: Decimal | None = None
    hourly_rate_max: Decimal | None = None
    deadline: date | None = None
    visibility: JobVisibility | None = None
    draft: bool | None = strawberry.field(
        default=None, description="Post as a draft instead of opening it."
    )


@strawberry.input
class UpdateJobInput:
    job_id: strawberry.ID
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    skills: list[str] | None = strawberry.UNSET
    budget: Decimal | None = strawberry.UNSET
    hourly_rate_min: Decimal | None = strawberry.UNSET
    hourly_rate_max: Decimal | None = strawberry.UNSET
    deadline: date | None = strawberry.UNSET
    experience_level: ExperienceLevel | None = strawberry.UNSET
    visibility: JobVisibility | None = strawberry.UNSET


@strawberry.input
class JobIdInput:
    job_id: strawberry.ID


@strawberry.type
class JobPayload:
    job: Job | None
    user_errors: list[UserError]


@strawberry.input
class InviteFreelancerInput:
    job_id: strawberry.ID
    freelancer_id: strawberry.ID
    message: str


@strawberry.input
class RespondToInvitationInput:
    invitation_id: strawberry.ID
    accept: bool


@strawberry.type
class InvitationPayload:
    invitation: Invitation | None
    user_errors: list[UserError]
