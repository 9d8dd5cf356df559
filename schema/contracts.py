from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from strawberry.file_uploads import Upload

from auth.policies import contract_party
from models.base import utc_now
from models.contracts import orm, rules
from models.contracts.orm import ContractEvent as ContractEventRow
from models.contracts.orm import TimeEntry as TimeEntryRow
from models.contracts.rules import Party
from models.money import from_cents
from models.pagination import cursor_of
from models.reviews.actions import reviewable
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.loaders import referenced
from resolvers.pages import page_request
from resolvers.prefetch import ready, then
from schema import refs
from schema.attachments import Attachment, attachments_of
from schema.core import (
    Connection,
    Node,
    UserError,
    described_field,
    encode_global_id,
    nested_connection,
    nested_connection_now,
)
from schema.interviews import Interview
from schema.jobs import Job
from schema.profiles import ClientProfile, FreelancerProfile
from schema.proposals import Proposal
from schema.reviews import Review
from schema.users import User

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
ContractType = orm.ContractType
strawberry.enum(ContractType, name="ContractType")
ContractStatus = orm.ContractStatus
strawberry.enum(ContractStatus, name="ContractStatus")
MilestoneStatus = orm.MilestoneStatus
strawberry.enum(
    MilestoneStatus,
    name="MilestoneStatus",
    description=(
        "PENDING: agreed, not yet funded. FUNDED: its amount is held in escrow. SUBMITTED: work "
        "submitted for review. PAID: approved; escrow released to the freelancer."
    ),
)
# A contract's events are ordered by their stream sequence; the prefetch must use the same keys.
EVENT_KEYS = ("seq",)
ContractEventKind = orm.ContractEventKind
strawberry.enum(ContractEventKind, name="ContractEventKind")
TimeEntryStatus = orm.TimeEntryStatus
strawberry.enum(TimeEntryStatus, name="TimeEntryStatus")
DisputeStatus = orm.DisputeStatus
strawberry.enum(DisputeStatus, name="DisputeStatus")


@strawberry.enum
class ContractAction(Enum):
    ACCEPT_OFFER = "ACCEPT_OFFER"
    DECLINE_OFFER = "DECLINE_OFFER"
    WITHDRAW_OFFER = "WITHDRAW_OFFER"
    ADD_MILESTONE = "ADD_MILESTONE"
    LOG_TIME = "LOG_TIME"
    APPROVE_TIMESHEET = "APPROVE_TIMESHEET"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    END = "END"
    OPEN_DISPUTE = "OPEN_DISPUTE"
    REVIEW = "REVIEW"


@strawberry.enum
class MilestoneAction(Enum):
    FUND = "FUND"
    SUBMIT = "SUBMIT"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    APPROVE = "APPROVE"
    REFUND = "REFUND"


async def contract_or_none(info: Info, contract_id: UUID | None) -> Contract | None:
    """What an optional reference to a contract points at, through the request's loader."""
    if contract_id is None:
        return None
    row = await info.context.loaders.contract.load(contract_id)
    return Contract.from_row(row) if row else None


async def milestone_or_none(info: Info, milestone_id: UUID | None) -> Milestone | None:
    """What an optional reference to a milestone points at, through the request's loader."""
    if milestone_id is None:
        return None
    row = await info.context.loaders.milestone.load(milestone_id)
    return Milestone.from_row(row) if row else None


def _money(cents: int | None) -> Decimal | None:
    return from_cents(cents) if cents is not None else None


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
    async def contract(self, info: Info) -> Contract:
        return Contract.from_row(await referenced(info.context.loaders.contract, self.contract_id))

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


@strawberry.type(
    description="Hours worked on an hourly contract, paid when the client approves "
    "that week's timesheet."
)
class TimeEntry(Node):
    id: strawberry.ID
    date: date
    hours: Decimal
    memo: str
    amount: Decimal = strawberry.field(description="hours x the contract's hourly rate.")
    status: TimeEntryStatus
    created_at: datetime
    contract_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.TimeEntry) -> TimeEntry:
        return cls(
            id=encode_global_id("TimeEntry", row.id),
            date=row.date,
            hours=from_cents(row.centihours),
            memo=row.memo,
            amount=from_cents(row.amount_cents),
            status=orm.TimeEntryStatus(row.status),
            created_at=row.created_at,
            contract_id=row.contract_id,
        )

    @strawberry.field
    async def contract(self, info: Info) -> Contract:
        return Contract.from_row(await referenced(info.context.loaders.contract, self.contract_id))


@strawberry.type(
    description="Something that happened to a contract, in order; the feed behind "
    "`contractUpdated`."
)
class ContractEvent(Node):
    id: strawberry.ID
    kind: ContractEventKind
    status: ContractStatus = strawberry.field(description="Contract status after the event.")
    created_at: datetime
    cursor: str = strawberry.field(
        description=("The cursor of this event within its contract, for `contractUpdated(after:)`.")
    )
    contract_id: strawberry.Private[UUID]
    milestone_id: strawberry.Private[UUID | None]
    actor_id: strawberry.Private[UUID | None]

    @classmethod
    def from_row(cls, row: ContractEventRow) -> ContractEvent:
        return cls(
            id=encode_global_id("ContractEvent", row.public_id),
            kind=orm.ContractEventKind(row.kind),
            status=orm.ContractStatus(row.status),
            created_at=row.created_at,
            cursor=cursor_of(row.seq),
            contract_id=row.contract_id,
            milestone_id=row.milestone_id,
            actor_id=row.actor_id,
        )

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any]) -> ContractEvent:
        return cls(
            id=encode_global_id("ContractEvent", UUID(envelope["id"])),
            kind=orm.ContractEventKind(envelope["kind"]),
            status=orm.ContractStatus(envelope["status"]),
            created_at=datetime.fromisoformat(envelope["created_at"]),
            cursor=cursor_of(int(envelope["cursor"])),
            contract_id=UUID(envelope["contract_id"]),
            milestone_id=UUID(envelope["milestone_id"]) if envelope["milestone_id"] else None,
            actor_id=UUID(envelope["actor_id"]) if envelope["actor_id"] else None,
        )

    @strawberry.field
    async def contract(self, info: Info) -> Contract:
        return Contract.from_row(await referenced(info.context.loaders.contract, self.contract_id))

    @strawberry.field
    async def milestone(self, info: Info) -> Milestone | None:
        return await milestone_or_none(info, self.milestone_id)

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        if self.actor_id is None:
            return None
        row = await info.context.loaders.event_actor.load(self.actor_id)
        return User.from_row(row) if row else None


@strawberry.type
class Dispute(Node):
    id: strawberry.ID
    reason: str
    status: DisputeStatus
    released_to_freelancer: Decimal | None = strawberry.field(description="Set when resolved.")
    refunded_to_client: Decimal | None
    resolution_note: str | None
    created_at: datetime
    resolved_at: datetime | None
    contract_id: strawberry.Private[UUID]
    milestone_id: strawberry.Private[UUID | None]
    opened_by_id: strawberry.Private[UUID]

    @classmethod
    def from_row(cls, row: orm.Dispute) -> Dispute:
        return cls(
            id=encode_global_id("Dispute", row.id),
            reason=row.reason,
            status=orm.DisputeStatus(row.status),
            released_to_freelancer=_money(row.released_cents),
            refunded_to_client=_money(row.refunded_cents),
            resolution_note=row.resolution_note,
            created_at=row.created_at,
            resolved_at=row.resolved_at,
            contract_id=row.contract_id,
            milestone_id=row.milestone_id,
            opened_by_id=row.opened_by_id,
        )

    @strawberry.field
    async def contract(self, info: Info) -> Contract:
        return Contract.from_row(await referenced(info.context.loaders.contract, self.contract_id))

    @strawberry.field
    async def milestone(self, info: Info) -> Milestone | None:
        return await milestone_or_none(info, self.milestone_id)

    @strawberry.field
    async def opened_by(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.opened_by_id))


@refs.registered
@strawberry.type
class Contract(Node):
    id: strawberry.ID
    title: str
    terms: str
    contract_type: ContractType
    currency: str
    hourly_rate: Decimal | None
    weekly_limit_hours: int | None
    deadline: date | None
    status: ContractStatus
    escrow_amount: Decimal = strawberry.field(
        description="Funded and not yet released or refunded."
    )
    paid_amount: Decimal = strawberry.field(
        description="Released to the freelancer, before the service fee."
    )
    offer_expires_at: datetime | None = strawberry.field(
        description="An offer not accepted by then expires."
    )
    review_deadline: datetime | None = strawberry.field(
        description=("Reviews may be submitted until then; hidden reviews are revealed then.")
    )
    offered_at: datetime
    started_at: datetime | None
    ended_at: datetime | None
    row: strawberry.Private[orm.Contract]

    @classmethod
    def from_row(cls, row: orm.Contract) -> Contract:
        return cls(
            id=encode_global_id("Contract", row.id),
            title=row.title,
            terms=row.terms,
            contract_type=orm.ContractType(row.contract_type),
            currency=row.currency,
            hourly_rate=_money(row.hourly_rate_cents),
            weekly_limit_hours=row.weekly_limit_hours,
            deadline=row.deadline,
            status=orm.ContractStatus(row.status),
            escrow_amount=from_cents(row.funded_cents - row.paid_cents - row.refunded_cents),
            paid_amount=from_cents(row.paid_cents),
            offer_expires_at=row.offer_expires_at,
            review_deadline=row.review_deadline,
            offered_at=row.created_at,
            started_at=row.started_at,
            ended_at=row.ended_at,
            row=row,
        )

    @strawberry.field
    def job(self, info: Info) -> Job:
        return then(ready(info.context.loaders.job, self.row.job_id), Job.from_row)

    @strawberry.field
    async def proposal(self, info: Info) -> Proposal | None:
        if self.row.proposal_id is None:
            return None
        row = await info.context.loaders.proposal.load(self.row.proposal_id)
        return Proposal.from_row(row) if row else None

    @strawberry.field
    async def interview(self, info: Info) -> Interview | None:
        if self.row.interview_id is None:
            return None
        row = await info.context.loaders.interview.load(self.row.interview_id)
        return Interview.from_row(row) if row else None

    @strawberry.field
    def client(self, info: Info) -> ClientProfile:
        loader = info.context.loaders.client_profile
        return then(ready(loader, self.row.client_id), ClientProfile.from_row)

    @strawberry.field
    def freelancer(self, info: Info) -> FreelancerProfile:
        loader = info.context.loaders.freelancer_profile
        return then(ready(loader, self.row.freelancer_id), FreelancerProfile.from_row)

    @strawberry.field
    def milestones(self, info: Info) -> list[Milestone]:
        rows = ready(info.context.loaders.milestones_by_contract, self.row.id)
        return then(rows, lambda loaded: [Milestone.from_row(row) for row in loaded])

    @described_field(
        "Sum of the milestones' amounts (fixed price); for hourly contracts, what has been paid."
    )
    async def total_amount(self, info: Info) -> Decimal:
        if self.row.contract_type == orm.ContractType.HOURLY:
            return from_cents(self.row.paid_cents)
        rows = await info.context.loaders.milestones_by_contract.load(self.row.id)
        return from_cents(
            sum(row.amount_cents for row in rows if row.status != orm.MilestoneStatus.CANCELLED)
        )

    @described_field("Oldest first.")
    def events(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[ContractEvent]:
        return nested_connection_now(
            info,
            ContractEventRow,
            "contract_id",
            self.row.id,
            page_request(first, after, last, before),
            ContractEvent.from_row,
            keys=EVENT_KEYS,
        )

    @described_field("Hourly contracts: the hours logged, newest first.")
    async def time_entries(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[TimeEntry]:
        return await nested_connection(
            info,
            TimeEntryRow,
            "contract_id",
            self.row.id,
            page_request(first, after, last, before),
            TimeEntry.from_row,
            descending=True,
        )

    @described_field(
        "Revealed reviews only: both parties have reviewed, or the review window has passed."
    )
    async def reviews(self, info: Info) -> list[Review]:
        rows = await info.context.loaders.reviews_by_contract.load(self.row.id)
        return [Review.from_row(row) for row in rows if row.revealed_at is not None]

    async def _own_review(self, info: Info) -> Any:
        user = info.context.user
        rows = await info.context.loaders.reviews_by_contract.load(self.row.id)
        return next((row for row in rows if user is not None and row.author_id == user.id), None)

    @described_field("The viewer's own review, visible to them at once.")
    async def my_review(self, info: Info) -> Review | None:
        row = await self._own_review(info)
        return Review.from_row(row) if row else None

    @described_field("True while the viewer may still review this contract.")
    async def can_review(self, info: Info) -> bool:
        return await self._can_review(info)

    async def _can_review(self, info: Info) -> bool:
        party = contract_party(await viewer_actor(info), self.row)
        if party not in (Party.CLIENT, Party.FREELANCER) or not reviewable(self.row, utc_now()):
            return False
        return await self._own_review(info) is None

    @strawberry.field
    async def dispute(self, info: Info) -> Dispute | None:
        row = await info.context.loaders.dispute_by_contract.load(self.row.id)
        return Dispute.from_row(row) if row else None

    @described_field("What the viewer may do with this contract now.")
    async def allowed_actions(self, info: Info) -> list[ContractAction]:
        party = contract_party(await viewer_actor(info), self.row)
        actions = [
            ContractAction(action.value)
            for action in rules.allowed_contract_actions(
                orm.ContractStatus(self.row.status), orm.ContractType(self.row.contract_type), party
            )
            if action.value in ContractAction.__members__
        ]
        # The rules table allows REVIEW on any ended contract; submitReview also wants money
        # to have moved, the window open and no review yet from the viewer.
        if ContractAction.REVIEW in actions and not await self._can_review(info):
            actions.remove(ContractAction.REVIEW)
        return actions


@strawberry.input
class MilestoneInput:
    title: str
    amount: Decimal
    description: str | None = None
    due_date: date | None = None


@strawberry.input
class SendOfferInput:
    proposal_id: strawberry.ID
    title: str
    terms: str
    contract_type: ContractType
    milestones: list[MilestoneInput] | None = strawberry.field(
        default=None,
        description=(
            "Fixed price: the milestones, in order; their amounts sum to the contract's total."
        ),
    )
    hourly_rate: Decimal | None = None
    weekly_limit_hours: int | None = None
    deadline: date | None = None


@strawberry.input
class ContractIdInput:
    contract_id: strawberry.ID


@strawberry.input
class EndContractInput:
    contract_id: strawberry.ID
    reason: str | None = None


@strawberry.type
class ContractPayload:
    contract: Contract | None
    user_errors: list[UserError]


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


@strawberry.input
class LogTimeInput:
    contract_id: strawberry.ID
    date: date
    hours: Decimal
    memo: str


@strawberry.type
class TimeEntryPayload:
    time_entry: TimeEntry | None
    user_errors: list[UserError]


@strawberry.input(description="The week runs Monday to Sunday; weekStart is its Monday.")
class ApproveTimesheetInput:
    contract_id: strawberry.ID
    week_start: date
    idempotency_key: str | None = None


@strawberry.input
class OpenDisputeInput:
    contract_id: strawberry.ID
    reason: str
    milestone_id: strawberry.ID | None = None


@strawberry.input
class ResolveDisputeInput:
    dispute_id: strawberry.ID
    release_to_freelancer: Decimal
    refund_to_client: Decimal
    note: str


@strawberry.type
class DisputePayload:
    dispute: Dispute | None
    user_errors: list[UserError]
