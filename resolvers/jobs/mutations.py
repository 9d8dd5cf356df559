from __future__ import annotations

from typing import Any

from models.events import Published
from models.jobs import actions, orm
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.errors import Outcome, attempt
from resolvers.ids import decode_id
from resolvers.publish import publish


async def post_job(info: Info, data: dict[str, Any]) -> Outcome[orm.Job]:
    return await attempt(actions.post_job(await signed_in_actor(info), data))


async def update_job(info: Info, job_id: str, data: dict[str, Any]) -> Outcome[orm.Job]:
    """`data`: the input's fields the client sent (its jobId among them)."""

    async def run() -> orm.Job:
        job = decode_id(job_id, "Job", field=["input", "jobId"])
        changes = {k: v for k, v in data.items() if k != "job_id"}
        return await actions.update_job(await signed_in_actor(info), job, changes)

    return await attempt(run())


async def publish_job(info: Info, job_id: str) -> Outcome[orm.Job]:
    async def run() -> orm.Job:
        job = decode_id(job_id, "Job", field=["input", "jobId"])
        return await actions.publish_job(await signed_in_actor(info), job)

    return await attempt(run())


async def close_job(info: Info, job_id: str) -> Outcome[orm.Job]:
    async def run() -> orm.Job:
        job = decode_id(job_id, "Job", field=["input", "jobId"])
        return await actions.close_job(await signed_in_actor(info), job)

    return await attempt(run())


async def invite_freelancer(
    info: Info, job_id: str, freelancer_id: str, message: str
) -> Outcome[orm.Invitation]:
    async def run() -> tuple[orm.Invitation, list[Published]]:
        job = decode_id(job_id, "Job", field=["input", "jobId"])
        freelancer = decode_id(freelancer_id, "FreelancerProfile", field=["input", "freelancerId"])
        return await actions.invite_freelancer(
            await signed_in_actor(info), job, freelancer, message
        )

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    invitation, events = result
    await publish(info, events)
    return invitation, []


async def respond_to_invitation(
    info: Info, invitation_id: str, accept: bool
) -> Outcome[orm.Invitation]:
    async def run() -> orm.Invitation:
        invitation = decode_id(invitation_id, "Invitation", field=["input", "invitationId"])
        return await actions.respond_to_invitation(await signed_in_actor(info), invitation, accept)

    return await attempt(run())
