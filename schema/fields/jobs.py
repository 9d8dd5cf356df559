"""Jobs and invitations: posting and running a job, inviting freelancers, the search and the
viewer's lists."""

from __future__ import annotations

from typing import Any

import strawberry

from models.errors import DomainError
from models.jobs.orm import Invitation as InvitationRow
from models.jobs.orm import Job as JobRow
from models.jobs.search import JobOrderField
from models.pagination import PageRequest
from resolvers.context import Info
from resolvers.jobs import mutations, queries
from resolvers.pages import page_request
from schema.core import Connection, SortDirection, connection_of, provided_fields, user_errors
from schema.jobs import (
    Invitation,
    InvitationPayload,
    InvitationStatus,
    InviteFreelancerInput,
    Job,
    JobFilter,
    JobIdInput,
    JobOrder,
    JobPayload,
    JobStatus,
    PostJobInput,
    RespondToInvitationInput,
    UpdateJobInput,
)


def _job_payload(row: JobRow | None, problems: list[DomainError]) -> JobPayload:
    return JobPayload(job=Job.from_row(row) if row else None, user_errors=user_errors(problems))


def _invitation_payload(
    row: InvitationRow | None, problems: list[DomainError]
) -> InvitationPayload:
    return InvitationPayload(
        invitation=Invitation.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def post_job(info: Info, input: PostJobInput) -> JobPayload:
    return _job_payload(*await mutations.post_job(info, provided_fields(input)))


async def update_job(info: Info, input: UpdateJobInput) -> JobPayload:
    return _job_payload(*await mutations.update_job(info, input.job_id, provided_fields(input)))


async def publish_job(info: Info, input: JobIdInput) -> JobPayload:
    return _job_payload(*await mutations.publish_job(info, input.job_id))


async def close_job(info: Info, input: JobIdInput) -> JobPayload:
    return _job_payload(*await mutations.close_job(info, input.job_id))


async def invite_freelancer(info: Info, input: InviteFreelancerInput) -> InvitationPayload:
    return _invitation_payload(
        *await mutations.invite_freelancer(info, input.job_id, input.freelancer_id, input.message)
    )


async def respond_to_invitation(info: Info, input: RespondToInvitationInput) -> InvitationPayload:
    return _invitation_payload(
        *await mutations.respond_to_invitation(info, input.invitation_id, input.accept)
    )


async def job(info: Info, id: strawberry.ID) -> Job | None:
    row = await queries.job(info, id)
    return Job.from_row(row) if row else None


async def jobs(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: JobFilter | None = None,
    order_by: JobOrder | None = None,
) -> Connection[Job]:
    found = await queries.jobs(
        info, *search_arguments(first, after, last, before, filter, order_by)
    )
    return connection_of(found, Job.from_row)


def search_arguments(
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: JobFilter | None = None,
    order_by: JobOrder | None = None,
) -> tuple[PageRequest, dict[str, Any] | None, JobOrderField | None, bool]:
    """The arguments of `jobs` as the resolvers (`queries.search_listing`, `search_query`)
    take them."""
    return (
        page_request(first, after, last, before),
        vars(filter) if filter else None,
        order_by.field if order_by else None,
        order_by is None or order_by.direction == SortDirection.DESC,
    )


async def viewer_jobs(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: JobStatus | None = None,
) -> Connection[Job]:
    found = await queries.viewer_jobs(info, page_request(first, after, last, before), status)
    return connection_of(found, Job.from_row)


async def viewer_invitations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: InvitationStatus | None = None,
) -> Connection[Invitation]:
    found = await queries.viewer_invitations(info, page_request(first, after, last, before), status)
    return connection_of(found, Invitation.from_row)
