"""Every contract transition writes a ContractEvent row; the rows are the contract's history and
the feed behind `contractUpdated`. Envelopes are what subscribers receive."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from models.contracts.orm import Contract, ContractEvent, ContractEventKind, Milestone
from models.events import Published, user_channel


def contract_channel(contract_id: UUID) -> str:
    return f"contract:{contract_id}"


def event_envelope(event: ContractEvent) -> dict[str, Any]:
    return {
        "type": "contract_event",
        "cursor": event.seq,
        "id": str(event.public_id),
        "contract_id": str(event.contract_id),
        "kind": str(event.kind.value if hasattr(event.kind, "value") else event.kind),
        "milestone_id": str(event.milestone_id) if event.milestone_id else None,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "status": str(event.status.value if hasattr(event.status, "value") else event.status),
        "created_at": event.created_at.isoformat(),
    }


def milestone_envelope(milestone: Milestone) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {
        "type": "milestone",
        "id": str(milestone.id),
        "contract_id": str(milestone.contract_id),
        "position": milestone.position,
        "title": milestone.title,
        "description": milestone.description,
        "amount_cents": milestone.amount_cents,
        "due_date": iso(milestone.due_date),
        "status": str(getattr(milestone.status, "value", milestone.status)),
        "funded_at": iso(milestone.funded_at),
        "submitted_at": iso(milestone.submitted_at),
        "paid_at": iso(milestone.paid_at),
        "auto_release_at": iso(milestone.auto_release_at),
        "updated_at": iso(milestone.updated_at),
        "created_at": iso(milestone.created_at),
    }


def _fan_out(contract: Contract, payload: dict[str, Any]) -> list[Published]:
    """To the contract's channel and to both parties' own channels (for subscriptions to all
    of a viewer's contracts, including ones made after the subscription started)."""
    return [
        Published(contract_channel(contract.id), payload),
        Published(user_channel(contract.client_user_id), payload),
        Published(user_channel(contract.freelancer_user_id), payload),
    ]


async def record_event(
    contract: Contract,
    kind: ContractEventKind,
    *,
    actor_id: UUID | None,
    milestone: Milestone | None = None,
) -> list[Published]:
    """Call inside the transition's transaction, after the contract's new status is set."""
    event = await ContractEvent.create(
        contract_id=contract.id,
        kind=kind,
        milestone_id=milestone.id if milestone else None,
        actor_id=actor_id,
        status=contract.status,
    )
    published = _fan_out(contract, event_envelope(event))
    if milestone is not None:
        published += _fan_out(contract, milestone_envelope(milestone))
    return published
