"""Loading a contract for an actor, locked, with the actor's part in it."""

from __future__ import annotations

from uuid import UUID

from models.actors import Actor
from models.contracts.orm import Contract, Milestone
from models.contracts.rules import Party
from models.errors import NotFound


def party_of(actor: Actor | None, contract: Contract) -> Party | None:
    if actor is None:
        return None
    if actor.user_id == contract.client_user_id:
        return Party.CLIENT
    if actor.user_id == contract.freelancer_user_id:
        return Party.FREELANCER
    return None


async def locked_contract(
    actor: Actor, contract_id: UUID, *, field: str = "contractId"
) -> tuple[Contract, Party]:
    """The contract, row-locked for the rest of the transaction, and the actor's party.

    Lock order everywhere: contract, then milestone, then accounts (by id).
    """
    contract = await Contract.filter(id=contract_id).select_for_update().first()
    party = party_of(actor, contract) if contract else None
    if contract is None or party is None:
        raise NotFound("Contract", field=["input", field])
    return contract, party


async def locked_milestone(
    actor: Actor | None, milestone_id: UUID
) -> tuple[Contract, Milestone, Party | None]:
    found = await Milestone.get_or_none(id=milestone_id).only("id", "contract_id")
    if found is None:
        raise NotFound("Milestone", field=["input", "milestoneId"])
    contract = await Contract.filter(id=found.contract_id).select_for_update().first()
    milestone = await Milestone.filter(id=milestone_id).select_for_update().first()
    assert contract is not None and milestone is not None
    party = party_of(actor, contract)
    if actor is not None and party is None:
        raise NotFound("Milestone", field=["input", "milestoneId"])
    return contract, milestone, party
