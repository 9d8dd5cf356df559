"""Loading jobs, proposals and invitations through the viewer's eyes: what they may not see is
absent (None), never forbidden."""

from __future__ import annotations

from uuid import UUID

from auth.policies import can_view_invitation, can_view_job, proposal_role
from models.jobs.orm import Invitation, Job
from models.proposals.orm import Proposal
from resolvers.actors import viewer_actor
from resolvers.context import Info
from resolvers.loaders import referenced


async def visible_job(info: Info, job_id: UUID) -> Job | None:
    job = await info.context.loaders.job.load(job_id)
    if job is None:
        return None
    actor = await viewer_actor(info)
    invited = False
    if actor is not None and actor.freelancer_profile_id is not None:
        invitation = await info.context.loaders.my_invitation_by_job(
            actor.freelancer_profile_id
        ).load(job.id)
        invited = invitation is not None
    return job if can_view_job(actor, job, invited=invited) else None


async def visible_proposal(info: Info, proposal_id: UUID) -> Proposal | None:
    proposal = await info.context.loaders.proposal.load(proposal_id)
    if proposal is None:
        return None
    job = await referenced(info.context.loaders.job, proposal.job_id)
    role = proposal_role(await viewer_actor(info), proposal, job.client_id)
    return proposal if role is not None else None


async def visible_invitation(info: Info, invitation_id: UUID) -> Invitation | None:
    invitation = await info.context.loaders.invitation.load(invitation_id)
    if invitation is None:
        return None
    job = await referenced(info.context.loaders.job, invitation.job_id)
    actor = await viewer_actor(info)
    return invitation if can_view_invitation(actor, invitation, job.client_id) else None
