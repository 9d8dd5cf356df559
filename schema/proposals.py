from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from auth.policies import proposal_role
from models.money import from_cents
from models.proposals import orm, rules
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.loaders import referenced
from schema import refs
from schema.attachments import Attachment, attachments_of
from schema.core import Node, UserError, described_field, encode_global_id
from schema.jobs import Job
from schema.profiles import FreelancerProfile

if TYPE_CHECKING:
    from schema.interviews import Interview
    from schema.payments import Wallet

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
ProposalStatus = orm.ProposalStatus
strawberry.enum(ProposalStatus, name="ProposalStatus")


@strawberry.enum
class ProposalAction(Enum):
    WITHDRAW = "WITHDRAW"
    SHORTLIST = "SHORTLIST"
    DECLINE = "DECLINE"
    START_INTERVIEW = "START_INTERVIEW"
    SEND_OFFER = "SEND_OFFER"


@refs.registered
@strawberry.type
class Proposal(Node):
    id: strawberry.ID
    cover_letter: str
    bid_amount: Decimal
    estimated_duration_days: int | None
    status: ProposalStatus
    connects_spent: int
    created_at: datetime
    updated_at: datetime
    row: strawberry.Private[orm.Proposal]
    job_id: strawberry.Private[UUID]
    freelancer_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Proposal) -> Proposal:
        return cls(
            id=encode_global_id("Proposal", row.id),
            cover_letter=row.cover_letter,
            bid_amount=from_cents(row.bid_amount_cents),
            estimated_duration_days=row.estimated_duration_days,
            status=orm.ProposalStatus(row.status),
            connects_spent=row.connects_spent,
            created_at=row.created_at,
            updated_at=row.updated_at,
            row=row,
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

    @strawberry.field
    async def interview(
        self, info: Info
    ) -> Annotated[Interview, strawberry.lazy("schema.interviews")] | None:
        row = await info.context.loaders.interview_by_proposal.load(self.row.id)
        return refs.interview(row) if row else None

    @described_field("Samples of work sent with the proposal.")
    async def attachments(self, info: Info) -> list[Attachment]:
        return attachments_of(await info.context.loaders.attachments_by_proposal.load(self.row.id))

    @described_field("What the viewer may do with this proposal now.")
    async def allowed_actions(self, info: Info) -> list[ProposalAction]:
        job = await referenced(info.context.loaders.job, self.job_id)
        role = proposal_role(await viewer_actor(info), self.row, job.client_id)
        return [
            ProposalAction(action.value)
            for action in rules.allowed_actions(orm.ProposalStatus(self.status), role)
        ]


@strawberry.input
class SubmitProposalInput:
    job_id: strawberry.ID
    cover_letter: str
    bid_amount: Decimal
    estimated_duration_days: int | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Up to 5 samples of work, sent as a GraphQL multipart request.",
    )


@strawberry.input
class ProposalIdInput:
    proposal_id: strawberry.ID


@strawberry.input
class DeclineProposalInput:
    proposal_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class ProposalPayload:
    proposal: Proposal | None
    user_errors: list[UserError]


@strawberry.input(
    description=(
        "Money-moving inputs take an optional idempotencyKey: a retry with the same key returns "
        "the first result and moves nothing."
    )
)
class PurchaseConnectsInput:
    quantity: int
    idempotency_key: str | None = None


@strawberry.type
class ConnectsPayload:
    connects_balance: int | None
    wallet: Annotated[Wallet, strawberry.lazy("schema.payments")] | None
    user_errors: list[UserError]
