"""Contracts: an offer, once accepted, the agreement between a client and a freelancer; what
hangs off it (milestones, hours, events, a dispute) stands in the modules below this one."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import strawberry

from auth.policies import contract_party
from models.base import utc_now
from models.contracts import orm, rules
from models.contracts.orm import ContractEvent as ContractEventRow
from models.contracts.orm import TimeEntry as TimeEntryRow
from models.contracts.rules import Party
from models.money import from_cents
from models.reviews.actions import reviewable
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.contracts.queries import EVENT_KEYS
from resolvers.pages import page_request
from resolvers.prefetch import ready, then
from schema import refs
from schema.contract_enums import ContractAction, ContractStatus, ContractType
from schema.contract_events import ContractEvent
from schema.core import (
    Connection,
    Node,
    UserError,
    described_field,
    encode_global_id,
    nested_connection,
    nested_connection_now,
)
from schema.disputes import Dispute
from schema.hourly import TimeEntry
from schema.interviews import Interview
from schema.jobs import Job
from schema.milestones import Milestone, MilestoneInput
from schema.profiles import ClientProfile, FreelancerProfile
from schema.proposals import Proposal
from schema.reviews import Review


async def contract_or_none(info: Info, contract_id: UUID | None) -> Contract | None:
    """What an optional reference to a contract points at, through the request's loader."""
    if contract_id is None:
        return None
    row = await info.context.loaders.contract.load(contract_id)
    return Contract.from_row(row) if row else None


def _money(cents: int | None) -> Decimal | None:
    return from_cents(cents) if cents is not None else None


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
