"""`node(id:)` and `nodes(ids:)`: how to load each Node type, with its visibility (the rules
are the resolvers'), registered in schema/node_registry.py."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import strawberry

from models.attachments import actions as attachments
from resolvers.context import Info
from resolvers.contracts import visibility as contracts
from resolvers.errors import PublicError
from resolvers.interviews.resolvers import visible_interview, visible_message
from resolvers.jobs.visibility import visible_invitation, visible_job, visible_proposal
from resolvers.reviews.resolvers import visible_review
from schema.attachments import Attachment
from schema.contract_events import ContractEvent
from schema.contracts import Contract
from schema.core import Node
from schema.disputes import Dispute
from schema.hourly import TimeEntry
from schema.interviews import Interview, Message
from schema.jobs import Invitation, Job
from schema.milestones import Milestone
from schema.node_registry import Loader, register_node, resolve_node
from schema.notifications import Notification
from schema.payments import Transaction
from schema.profiles import ClientProfile, FreelancerProfile, PortfolioItem, Skill
from schema.proposals import Proposal
from schema.reviews import Review
from schema.users import User

MAX_NODES = 100


def _via(loader_name: str, convert: Callable[[Any], Node]) -> Loader:
    async def load(info: Info, pk: UUID) -> Node | None:
        row = await getattr(info.context.loaders, loader_name).load(pk)
        return convert(row) if row is not None else None

    return load


def _visible(
    find: Callable[[Info, UUID], Awaitable[Any]], convert: Callable[[Any], Node]
) -> Loader:
    async def load(info: Info, pk: UUID) -> Node | None:
        row = await find(info, pk)
        return convert(row) if row is not None else None

    return load


async def _own_notification(info: Info, pk: UUID) -> Any:
    row = await info.context.loaders.notification.load(pk)
    user = info.context.user
    return row if row is not None and user is not None and row.user_id == user.id else None


async def _readable_attachment(info: Info, pk: UUID) -> Any:
    """The same rule as `GET /attachments/<id>`: the parties' (and staff's, for contracts)."""
    user = info.context.user
    if user is None:
        return None
    return await attachments.readable(pk, user.id, user.is_staff)


NODE_TYPES: dict[str, Loader] = {
    "Job": _visible(visible_job, Job.from_row),
    "Proposal": _visible(visible_proposal, Proposal.from_row),
    "Invitation": _visible(visible_invitation, Invitation.from_row),
    "Notification": _visible(_own_notification, Notification.from_row),
    "Interview": _visible(visible_interview, Interview.from_row),
    "Message": _visible(visible_message, Message.from_row),
    "Contract": _visible(contracts.visible_contract, Contract.from_row),
    "Milestone": _visible(contracts.visible_milestone, Milestone.from_row),
    "Dispute": _visible(contracts.visible_dispute, Dispute.from_row),
    "ContractEvent": _visible(contracts.visible_contract_event, ContractEvent.from_row),
    "TimeEntry": _visible(contracts.visible_time_entry, TimeEntry.from_row),
    "Transaction": _visible(contracts.visible_transaction, Transaction.from_row),
    "Review": _visible(visible_review, Review.from_row),
    "Attachment": _visible(_readable_attachment, Attachment.from_row),
    "User": _via("user", User.from_row),
    "Skill": _via("skill", Skill.from_row),
    "FreelancerProfile": _via("freelancer_profile", FreelancerProfile.from_row),
    "ClientProfile": _via("client_profile", ClientProfile.from_row),
    "PortfolioItem": _via("portfolio_item", PortfolioItem.from_row),
}


for type_name, loader in NODE_TYPES.items():
    register_node(type_name, loader)


async def node(info: Info, id: strawberry.ID) -> Node | None:
    found: Node | None = await resolve_node(info, id)
    return found


async def nodes(info: Info, ids: list[strawberry.ID]) -> list[Node | None]:
    if len(ids) > MAX_NODES:
        raise PublicError(f"At most {MAX_NODES} ids at once", "BAD_USER_INPUT")
    return list(await asyncio.gather(*(resolve_node(info, id) for id in ids)))
