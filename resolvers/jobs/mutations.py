from __future__ import annotations

from models.events import Published
from models.jobs import actions, orm
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.ids import decode_id
from resolvers.publish import publish
from schema.compat import attempt
from schema.core import UserError, provided_fields
from schema.jobs import (
    Invitation,
    InvitationPayload,
    InviteFreelancerInput,
    Job,
    JobIdInput,
    JobPayload,
    PostJobInput,
    RespondToInvitationInput,
    UpdateJobInput,
)


def _job_payload(row: orm.Job | None, errors: list[UserError]) -> JobPayload:
    return JobPayload(job=Job.from_row(row) if row else None, user_errors=errors)


async def post_job(info: Info, input: PostJobInput) -> JobPayload:
    return _job_payload(
        *await attempt(actions.post_job(await signed_in_actor(info), provided_fields(input)))
    )


async def update_job(info: Info, input: UpdateJobInput) -> JobPayload:
    async def run() -> orm.Job:
        job_id = decode_id(input.job_id, "Job", field=["input", "jobId"])
        data = {k: v for k, v in provided_fields(input).items() if k != "job_id"}
        return await actions.update_job(await signed_in_actor(info), job_id, data)

    return _job_payload(*await attempt(run()))


async def publish_job(info: Info, input: JobIdInput) -> JobPayload:
    async def run() -> orm.Job:
        job_id = decode_id(input.job_id, "Job", field=["input", "jobId"])
        return await actions.publish_job(await signed_in_actor(info), job_id)

    return _job_payload(*await attempt(run()))


async def close_job(info: Info, input: JobIdInput) -> JobPayload:
    async def run() -> orm.Job:
        job_id = decode_id(input.job_id, "Job", field=["input", "jobId"])
        return await actions.close_job(await signed_in_actor(info), job_id)

    return _job_payload(*await attempt(run()))


async def invite_freelancer(info: Info, input: InviteFreelancerInput) -> InvitationPayload:
    async def run() -> tuple[orm.Invitation, list[Published]]:
        job_id = decode_id(input.job_id, "Job", field=["input", "jobId"])
        freelancer_id = decode_id(
            input.freelancer_id, "FreelancerProfile", field=["input", "freelancerId"]
        )
        return await actions.invite_freelancer(
            await signed_in_actor(info), job_id, freelancer_id, input.message
        )

    result, errors = await attempt(run())
    if result is None:
        return InvitationPayload(invitation=None, user_errors=errors)
    invitation, events = result
    await publish(info, events)
    return InvitationPayload(invitation=Invitation.from_row(invitation), user_errors=[])


async def respond_to_invitation(info: Info, input: RespondToInvitationInput) -> InvitationPayload:
    async def run() -> orm.Invitation:
        invitation_id = decode_id(
            input.invitation_id, "Invitation", field=["input", "invitationId"]
        )
        return await actions.respond_to_invitation(
            await signed_in_actor(info), invitation_id, input.accept
        )

    row, errors = await attempt(run())
    return InvitationPayload(
        invitation=Invitation.from_row(row) if row else None, user_errors=errors
    )
