"""Connects: a freelancer's bidding currency. Every change is a ledger entry, and the cached
balance moves in the same transaction by a conditional UPDATE that cannot go below zero."""

from __future__ import annotations

from typing import cast
from uuid import UUID

from tortoise.expressions import F

from models.errors import DomainError, ErrorCode
from models.profiles.orm import FreelancerProfile
from models.proposals.orm import ConnectsEntry, ConnectsReason


class InsufficientConnects(DomainError):
    code = ErrorCode.INSUFFICIENT_CONNECTS


async def credit(
    freelancer_id: UUID, amount: int, reason: ConnectsReason, *, proposal_id: UUID | None = None
) -> None:
    """Add connects. Call inside a transaction."""
    if amount <= 0:
        return
    await FreelancerProfile.filter(id=freelancer_id).update(
        connects_balance=F("connects_balance") + amount
    )
    await ConnectsEntry.create(
        freelancer_id=freelancer_id, delta=amount, reason=reason, proposal_id=proposal_id
    )


async def spend(freelancer_id: UUID, amount: int, *, proposal_id: UUID | None = None) -> None:
    """Take connects, or raise INSUFFICIENT_CONNECTS. Call inside a transaction.

    The `balance >= amount` condition and the decrement are one statement, so two concurrent
    proposals can never both spend the last connects.
    """
    if amount <= 0:
        return
    updated = await FreelancerProfile.filter(id=freelancer_id, connects_balance__gte=amount).update(
        connects_balance=F("connects_balance") - amount
    )
    if not updated:
        raise InsufficientConnects(
            f"This proposal needs {amount} connects; buy more with purchaseConnects"
        )
    await ConnectsEntry.create(
        freelancer_id=freelancer_id,
        delta=-amount,
        reason=ConnectsReason.PROPOSAL,
        proposal_id=proposal_id,
    )


async def balance(freelancer_id: UUID) -> int:
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    row = cast(
        list[int],
        await FreelancerProfile.filter(id=freelancer_id).values_list("connects_balance", flat=True),
    )
    return row[0] if row else 0


async def ledger_sum(freelancer_id: UUID) -> int:
    deltas = cast(
        list[int],
        await ConnectsEntry.filter(freelancer_id=freelancer_id).values_list("delta", flat=True),
    )
    return sum(deltas)
