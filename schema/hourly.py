"""Hourly contracts: the hours the freelancer logs and the weekly timesheets the client pays."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated
from uuid import UUID

import strawberry

from models.contracts import orm
from models.money import from_cents
from resolvers.context import Info
from resolvers.loaders import referenced
from schema import refs
from schema.contract_enums import TimeEntryStatus
from schema.core import Node, UserError, encode_global_id

if TYPE_CHECKING:
    from schema.contracts import Contract


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
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contracts")]:
        return refs.contract(await referenced(info.context.loaders.contract, self.contract_id))


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
