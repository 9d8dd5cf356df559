"""Factories for offers and contracts, built through the real actions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from models.actors import Actor, actor_for
from models.contracts import actions
from models.contracts.actions import MilestoneDraft
from models.contracts.orm import Contract, ContractType
from models.jobs.actions import post_job
from models.payments import wallet
from models.proposals.actions import submit_proposal
from tests.factories import make_client, make_freelancer


async def make_contract(
    *,
    milestones: list[str] | None = None,
    hourly_rate: str | None = None,
    weekly_limit_hours: int = 40,
    accept: bool = True,
    client_funds: str | None = "1000.00",
) -> tuple[Contract, Actor, Actor, Any, Any]:
    """(contract, client actor, freelancer actor, client session, freelancer session)."""
    client_session, _ = await make_client()
    freelancer_session, _ = await make_freelancer()
    client = await actor_for(client_session.user)
    freelancer = await actor_for(freelancer_session.user)
    job = await post_job(
        client,
        {
            "title": "Build an API",
            "description": "REST to GraphQL",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": Decimal(500),
            "experience_level": "EXPERT",
        },
    )
    proposal, _ = await submit_proposal(
        freelancer,
        job.id,
        cover_letter="Hire me",
        bid_amount=Decimal(450),
        estimated_duration_days=10,
    )
    if hourly_rate is not None:
        contract, _ = await actions.send_offer(
            client,
            proposal.id,
            title="API work",
            terms="Weekly",
            contract_type=ContractType.HOURLY,
            milestones=None,
            hourly_rate=Decimal(hourly_rate),
            weekly_limit_hours=weekly_limit_hours,
            deadline=None,
        )
    else:
        contract, _ = await actions.send_offer(
            client,
            proposal.id,
            title="API work",
            terms="Milestones",
            contract_type=ContractType.FIXED,
            milestones=[
                MilestoneDraft(title=f"Part {i + 1}", amount=Decimal(amount))
                for i, amount in enumerate(milestones or ["100.00"])
            ],
            hourly_rate=None,
            weekly_limit_hours=None,
            deadline=None,
        )
    if accept:
        contract, _ = await actions.accept_offer(freelancer, contract.id)
    if client_funds:
        await wallet.add_funds(client, Decimal(client_funds))
    return contract, client, freelancer, client_session, freelancer_session
