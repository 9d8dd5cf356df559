"""Helpers for the marketplace domain tests: actors, job input, and the connects ledger check."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from models.actors import Actor, actor_for
from models.jobs import actions as jobs
from models.jobs.orm import Job
from models.profiles import actions as profiles
from models.profiles.orm import FreelancerProfile
from models.proposals.orm import ConnectsEntry, ConnectsReason
from tests.factories import make_client, make_freelancer


async def freelancer_actor(*, connects: int | None = None, **fields: Any) -> Actor:
    session, profile = await make_freelancer(**fields)
    if connects is not None:
        await set_connects(profile.id, connects)
    return await actor_for(session.user)


async def client_actor(**fields: Any) -> Actor:
    session, _ = await make_client(**fields)
    return await actor_for(session.user)


async def both_actor() -> Actor:
    """A user with a freelancer and a client profile."""
    session, _ = await make_freelancer()
    await profiles.create_client_profile(session.user, {"description": "I hire too."})
    return await actor_for(session.user)


def job_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "title": "Build a GraphQL API",
        "description": "Schema, resolvers and tests.",
        "skills": ["python", "graphql"],
        "budget_type": "FIXED",
        "budget": Decimal("400.00"),
        "experience_level": "INTERMEDIATE",
    }
    data.update(overrides)
    return data


async def post(client: Actor, **overrides: Any) -> Job:
    return await jobs.post_job(client, job_data(**overrides))


async def set_connects(freelancer_id: UUID, balance: int) -> None:
    """Test setup: give a freelancer exactly `balance` connects, ledger included."""
    await ConnectsEntry.filter(freelancer_id=freelancer_id).delete()
    await ConnectsEntry.create(
        freelancer_id=freelancer_id, delta=balance, reason=ConnectsReason.MONTHLY_ALLOTMENT
    )
    await FreelancerProfile.filter(id=freelancer_id).update(connects_balance=balance)


async def balance_of(freelancer_id: UUID) -> int:
    return (await FreelancerProfile.get(id=freelancer_id)).connects_balance


async def assert_connects_invariant() -> None:
    """For every freelancer: the cached balance is the ledger's sum, and neither the balance
    nor any running total of the ledger (in insertion order) is ever negative."""
    for profile in await FreelancerProfile.all():
        deltas = (
            await ConnectsEntry.filter(freelancer_id=profile.id)
            .order_by("id")
            .values_list("delta", flat=True)
        )
        running = 0
        for delta in deltas:
            running += delta
            assert running >= 0, (profile.id, list(deltas))
        assert profile.connects_balance == running, (
            profile.id,
            profile.connects_balance,
            list(deltas),
        )
        assert profile.connects_balance >= 0
