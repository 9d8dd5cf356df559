from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from uuid import UUID

import strawberry
from tortoise.expressions import Q

from models.errors import DomainError
from models.jobs.orm import Invitation as InvitationRow
from models.jobs.orm import Job as JobRow
from models.jobs.orm import JobStatus as JobStatusValue
from models.jobs.search import JobOrderField as JobOrderFieldValue
from models.jobs.search import JobSearch, search_jobs
from resolvers.actors import actor_of, bad_argument, signed_in_actor
from resolvers.context import Context, Info
from resolvers.ids import parse_global_id
from resolvers.jobs.visibility import visible_job
from resolvers.pages import page_request
from resolvers.prefetch import load_all, node_selections
from schema.core import Connection, SortDirection, build_connection
from schema.jobs import (
    Invitation,
    InvitationStatus,
    Job,
    JobFilter,
    JobOrder,
    JobStatus,
)

NO_SUCH_ID = UUID(int=0)


async def job(info: Info, id: strawberry.ID) -> Job | None:
    parsed = parse_global_id(id)
    if parsed is None or parsed[0] != "Job":
        return None
    row = await visible_job(info, parsed[1])
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
    connection = await search_connection(info.context, first, after, last, before, filter, order_by)
    await prefetch_jobs(info, [edge.node for edge in connection.edges])
    return connection


async def search_connection(
    context: Context,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: JobFilter | None = None,
    order_by: JobOrder | None = None,
) -> Connection[Job]:
    """The page of `jobs` alone; its jobs' relations are loaded by whoever reads them."""
    given = filter or JobFilter()
    client_id = None
    if given.client_id is not None:
        parsed = parse_global_id(given.client_id)
        # An id that is not a client profile matches no job, as a missing one would.
        client_id = parsed[1] if parsed and parsed[0] == "ClientProfile" else NO_SUCH_ID
    search = JobSearch(
        query=given.query,
        skills=given.skills,
        budget_type=given.budget_type,
        min_budget=given.min_budget,
        max_budget=given.max_budget,
        experience_level=given.experience_level,
        status=given.status,
        client_id=client_id,
    )
    try:
        listing = search_jobs(
            await actor_of(context),
            search,
            JobOrderFieldValue(order_by.field.value) if order_by else None,
            descending=order_by is None or order_by.direction == SortDirection.DESC,
        )
    except DomainError as error:
        raise bad_argument(error) from error
    return await build_connection(
        listing.queryset,
        page_request(first, after, last, before),
        Job.from_row,
        keys=listing.keys,
        descending=listing.descending,
        sql_filter=listing.sql_filter,
    )


async def prefetch_jobs(info: Info, jobs: list[Job]) -> None:
    """What the page's selection asks of its jobs, loaded for all of them at once."""
    if not jobs:
        return
    selected = node_selections(info)
    loaders = info.context.loaders
    loads: list[Awaitable[Any]] = []
    if "client" in selected:
        loads.append(loaders.client_profile.load_many([job.client_id for job in jobs]))
    if "skills" in selected:
        loads.append(loaders.skills_by_job.load_many([job.pk for job in jobs]))
    await load_all(loads)


async def viewer_jobs(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: JobStatus | None = None,
) -> Connection[Job]:
    actor = await signed_in_actor(info)
    queryset = (
        JobRow.filter(client_id=actor.client_profile_id)
        if actor.client_profile_id
        else JobRow.filter(id__in=[])
    )
    if status is not None:
        queryset = queryset.filter(status=JobStatusValue(status))
    connection = await build_connection(
        queryset, page_request(first, after, last, before), Job.from_row, descending=True
    )
    await prefetch_jobs(info, [edge.node for edge in connection.edges])
    return connection


async def viewer_invitations(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: InvitationStatus | None = None,
) -> Connection[Invitation]:
    """Invitations the viewer received as a freelancer and sent as a client."""
    actor = await signed_in_actor(info)
    mine = Q(id__in=[])
    if actor.freelancer_profile_id:
        mine |= Q(freelancer_id=actor.freelancer_profile_id)
    if actor.client_profile_id:
        mine |= Q(job__client_id=actor.client_profile_id)
    queryset = InvitationRow.filter(mine)
    if status is not None:
        queryset = queryset.filter(status=status)
    return await build_connection(
        queryset, page_request(first, after, last, before), Invitation.from_row, descending=True
    )
