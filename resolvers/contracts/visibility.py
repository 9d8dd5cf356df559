"""Who may see a contract and what hangs off it: its parties (and staff, where the policy says so)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from auth.policies import contract_party
from models.contracts.orm import Contract as ContractRow
from resolvers.actors import viewer_actor
from resolvers.context import Info


async def visible_contract(info: Info, pk: UUID) -> ContractRow | None:
    row = await info.context.loaders.contract.load(pk)
    if row is None or contract_party(await viewer_actor(info), row) is None:
        return None
    return row


async def _through_contract(info: Info, row: Any) -> Any:
    if row is None or await visible_contract(info, row.contract_id) is None:
        return None
    return row


async def visible_milestone(info: Info, pk: UUID) -> Any:
    return await _through_contract(info, await info.context.loaders.milestone.load(pk))


async def visible_dispute(info: Info, pk: UUID) -> Any:
    return await _through_contract(info, await info.context.loaders.dispute.load(pk))


async def visible_contract_event(info: Info, pk: UUID) -> Any:
    return await _through_contract(info, await info.context.loaders.contract_event.load(pk))


async def visible_time_entry(info: Info, pk: UUID) -> Any:
    return await _through_contract(info, await info.context.loaders.time_entry.load(pk))


async def visible_transaction(info: Info, pk: UUID) -> Any:
    """A ledger line is its wallet owner's alone."""
    row = await info.context.loaders.posting.load(pk)
    user = info.context.user
    if row is None or user is None or row.account.user_id != user.id:
        return None
    return row
