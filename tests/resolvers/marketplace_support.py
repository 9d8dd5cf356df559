"""Shortcuts for the marketplace resolver tests: set the scene through the model actions (fast,
no HTTP), then exercise the API under test through `gql`."""

from __future__ import annotations

from decimal import Decimal
from typing import Any
from uuid import UUID

from models.actors import actor_for
from models.jobs import actions as jobs
from models.jobs.orm import Invitation, Job
from models.profiles.orm import FreelancerProfile
from models.proposals import actions as proposals
from models.proposals.orm import Proposal
from models.users.actions import Session
from schema.core import encode_global_id

JOB_DEFAULTS: dict[str, Any] = {
    "title": "Build a GraphQL API",
    "description": "A small service with tests.",
    "skills": ["python"],
    "budget_type": "FIXED",
    "budget": Decimal("400.00"),  # 4 connects
    "experience_level": "INTERMEDIATE",
}

VIEWER_BALANCE = "{ viewer { connectsBalance } }"


def gid(type_name: str, pk: UUID) -> str:
    return str(encode_global_id(type_name, pk))


def job_id(job: Job) -> str:
    return gid("Job", job.id)


def proposal_id(proposal: Proposal) -> str:
    return gid("Proposal", proposal.id)


def invitation_id(invitation: Invitation) -> str:
    return gid("Invitation", invitation.id)


def freelancer_id(profile: FreelancerProfile) -> str:
    return gid("FreelancerProfile", profile.id)


async def make_job(session: Session, **fields: Any) -> Job:
    """A job posted by `session`'s client profile; snake_case fields override the defaults."""
    data = {**JOB_DEFAULTS, **fields}
    if data.get("budget_type") == "HOURLY" and "budget" not in fields:
        data.pop("budget")
    return await jobs.post_job(await actor_for(session.user), data)


async def close_job(session: Session, job: Job) -> Job:
    return await jobs.close_job(await actor_for(session.user), job.id)


async def make_proposal(session: Session, job: Job, *, bid: str = "350.00") -> Proposal:
    proposal, _ = await proposals.submit_proposal(
        await actor_for(session.user),
        job.id,
        cover_letter="I can do this.",
        bid_amount=Decimal(bid),
        estimated_duration_days=10,
    )
    return proposal


async def invite(
    session: Session, job: Job, profile: FreelancerProfile, message: str = "Please apply"
) -> Invitation:
    invitation, _ = await jobs.invite_freelancer(
        await actor_for(session.user), job.id, profile.id, message
    )
    return invitation


async def balance_of(gql: Any, session: Session) -> int:
    data = await gql.execute(VIEWER_BALANCE, token=session.token)
    return data["viewer"]["connectsBalance"]


def errors_of(payload: dict[str, Any]) -> list[tuple[Any, str]]:
    """userErrors as (field, code) pairs."""
    return [(error["field"], error["code"]) for error in payload["userErrors"]]
