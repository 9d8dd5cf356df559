"""A fixed-price contract's milestones: funded into escrow, submitted, approved or refunded."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from auth.policies import contract_party
from models.contracts import orm, rules
from models.money import from_cents
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.loaders import referenced
from schema import refs
from schema.attachments import Attachment, attachments_of
from schema.contract_enums import MilestoneAction, MilestoneStatus
from schema.core import Node, UserError, described_field, encode_global_id

if TYPE_CHECKING:
    from schema.contracts import Contract


async def milestone_or_none(info: Info, milestone_id: UUID | None) -> Milestone | None:
    """What an optional reference to a milestone points at, through the request's loader."""
    if milestone_id is None:
        return None
    row = await info.context.loaders.milestone.load(milestone_id)
    return Milestone.from_row(row) if row else None


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@strawberry.type
class MilestoneSubmission:
    message: str
    attachment_urls: list[str]
    created_at: datetime
    pk: strawberry.Private[int]

    @described_field("The deliverables uploaded with this submission.")
    async def attachments(self, info: Info) -> list[Attachment]:
        return attachments_of(await info.context.loaders.attachments_by_submission.load(self.pk))


@strawberry.type
class Milestone(Node):
    id: strawberry.ID
    position: int
    title: str
    description: str
    amount: Decimal
    due_date: date | None
    status: MilestoneStatus
    auto_release_at: datetime | None = strawberry.field(
        description=(
            "While SUBMITTED: when the escrow is released to the freelancer if the client neither "
            "approves nor requests changes."
        )
    )
    funded_at: datetime | None
    submitted_at: datetime | None
    paid_at: datetime | None
    updated_at: datetime
    pk: strawberry.Private[UUID]
    contract_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Milestone) -> Milestone:
        return cls(
            id=encode_global_id("Milestone", row.id),
            position=row.position,
            title=row.title,
            description=row.description,
            amount=from_cents(row.amount_cents),
            due_date=row.due_date,
            status=orm.MilestoneStatus(row.status),
            auto_release_at=row.auto_release_at,
            funded_at=row.funded_at,
            submitted_at=row.submitted_at,
            paid_at=row.paid_at,
            updated_at=row.updated_at,
            pk=row.id,
            contract_id=row.contract_id,
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> Milestone:
        """Built from the published event alone: no database read per subscriber."""
        return cls(
            id=encode_global_id("Milestone", UUID(envelope["id"])),
            position=envelope["position"],
            title=envelope["title"],
            description=envelope["description"],
            amount=from_cents(envelope["amount_cents"]),
            due_date=date.fromisoformat(envelope["due_date"]) if envelope["due_date"] else None,
            status=orm.MilestoneStatus(envelope["status"]),
            auto_release_at=_when(envelope["auto_release_at"]),
            funded_at=_when(envelope["funded_at"]),
            submitted_at=_when(envelope["submitted_at"]),
            paid_at=_when(envelope["paid_at"]),
            updated_at=datetime.fromisoformat(envelope["updated_at"]),
            pk=UUID(envelope["id"]),
            contract_id=UUID(envelope["contract_id"]),
        )

    @strawberry.field
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contracts")]:
        return refs.contract(await referenced(info.context.loaders.contract, self.contract_id))

    @strawberry.field
    async def submissions(self, info: Info) -> list[MilestoneSubmission]:
        rows = await info.context.loaders.submissions_by_milestone.load(self.pk)
        return [
            MilestoneSubmission(
                message=row.message,
                attachment_urls=row.attachment_urls,
                created_at=row.created_at,
                pk=row.id,
            )
            for row in rows
        ]

    @described_field("What the viewer may do with this milestone now.")
    async def allowed_actions(self, info: Info) -> list[MilestoneAction]:
        contract = await referenced(info.context.loaders.contract, self.contract_id)
        party = contract_party(await viewer_actor(info), contract)
        return [
            MilestoneAction(action.value)
            for action in rules.allowed_milestone_actions(
                orm.MilestoneStatus(self.status), orm.ContractStatus(contract.status), party
            )
        ]


@strawberry.input
class MilestoneInput:
    title: str
    amount: Decimal
    description: str | None = None
    due_date: date | None = None


@strawberry.input
class AddMilestoneInput:
    contract_id: strawberry.ID
    milestone: MilestoneInput


@strawberry.input
class MilestoneIdInput:
    milestone_id: strawberry.ID
    idempotency_key: str | None = None


@strawberry.input
class SubmitMilestoneInput:
    milestone_id: strawberry.ID
    message: str
    attachment_urls: list[str] | None = None
    attachments: list[Upload] | None = strawberry.field(
        default=None,
        description="Up to 10 deliverables, sent as a GraphQL multipart request.",
    )


@strawberry.input
class RequestMilestoneChangesInput:
    milestone_id: strawberry.ID
    message: str


@strawberry.type
class MilestonePayload:
    milestone: Milestone | None
    user_errors: list[UserError]
