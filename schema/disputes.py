"""Disputes: a party contests a contract's escrow; staff split it between the parties."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from models.contracts import orm
from models.money import from_cents
from resolvers.context import Info
from resolvers.loaders import referenced
from schema import refs
from schema.contract_enums import DisputeStatus
from schema.core import Node, UserError, encode_global_id
from schema.milestones import Milestone, milestone_or_none
from schema.users import User

if TYPE_CHECKING:
    from schema.contracts import Contract


def _money(cents: int | None) -> Decimal | None:
    return from_cents(cents) if cents is not None else None


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
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contracts")]:
        return refs.contract(await referenced(info.context.loaders.contract, self.contract_id))

    @strawberry.field
    async def milestone(self, info: Info) -> Milestone | None:
        return await milestone_or_none(info, self.milestone_id)

    @strawberry.field
    async def opened_by(self, info: Info) -> User:
        return User.from_row(await referenced(info.context.loaders.user, self.opened_by_id))


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
