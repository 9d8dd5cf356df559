"""A contract's history: its events, in order, the feed behind `contractUpdated`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID

import strawberry

from models.contracts import orm
from models.contracts.orm import ContractEvent as ContractEventRow
from models.pagination import cursor_of
from resolvers.context import Info
from resolvers.loaders import referenced
from schema import refs
from schema.contract_enums import ContractEventKind, ContractStatus
from schema.core import Node, encode_global_id
from schema.milestones import Milestone, milestone_or_none
from schema.users import User

if TYPE_CHECKING:
    from schema.contracts import Contract


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
    async def contract(
        self, info: Info
    ) -> Annotated[Contract, strawberry.lazy("schema.contracts")]:
        return refs.contract(await referenced(info.context.loaders.contract, self.contract_id))

    @strawberry.field
    async def milestone(self, info: Info) -> Milestone | None:
        return await milestone_or_none(info, self.milestone_id)

    @strawberry.field
    async def actor(self, info: Info) -> User | None:
        if self.actor_id is None:
            return None
        row = await info.context.loaders.event_actor.load(self.actor_id)
        return User.from_row(row) if row else None
