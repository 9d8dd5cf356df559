from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from uuid import UUID

from tortoise.expressions import Q

from models.errors import DomainError
from models.jobs.orm import Invitation as InvitationRow
from models.jobs.orm import InvitationStatus, JobStatus
from models.jobs.orm import Job as JobRow
from models.jobs.search import (
    JobOrderField,
    JobSearch,
    search_jobs,
    search_statement,
)
from models.pagination import FirstPageQuery, PageRequest
from resolvers.actors import actor_of, bad_argument, signed_in_actor
from resolvers.context import Context, Info
from resolvers.ids import parse_global_id
from resolvers.jobs.visibility import visible_job
from resolvers.pages import Listing, listing, page_query
from resolvers.prefetch import load_all, node_selections

NO_SUCH_ID = UUID(int=0)


async def job(info: Info, id: str) -> JobRow | None:
    parsed = parse_global_id(id)
    if parsed is None or parsed[0] != "Job":
        return None
    return await visible_job(info, parsed[1])


async def jobs(
    info: Info,
    request: PageRequest,
    filters: Mapping[str, Any] | None,
    order: JobOrderField | None,
    descending: bool,
) -> Listing[JobRow]:
    found = await search_listing(info.context, request, filters, order, descending)
    await prefetch_jobs(info, found.page.rows)
    return found


async def search_listing(
    context: Context,
    request: PageRequest,
    filters: Mapping[str, Any] | None,
    order: JobOrderField | None,
    descending: bool,
) -> Listing[JobRow]:
    """The page of `jobs` alone; its jobs' relations are loaded by whoever reads them.
    `filters`: JobFilter's fields (those of JobSearch), its clientId a global ID."""
    found = await _searched(context, filters, order, descending, search_jobs)
    return await listing(
        found.queryset,
        request,
        keys=found.keys,
        descending=found.descending,
        sql_filter=found.sql_filter,
    )


async def search_query(
    context: Context,
    request: PageRequest,
    filters: Mapping[str, Any] | None,
    order: JobOrderField | None,
    descending: bool,
) -> FirstPageQuery[JobRow] | None:
    """`search_listing`'s statement, for whoever answers its page in one (see page_query)."""
    found = await _searched(context, filters, order, descending, search_statement)
    if found is None:
        return None
    keys, descending, sql_filter = found
    return page_query(JobRow, request, keys=keys, descending=descending, sql_filter=sql_filter)


_Searched = TypeVar("_Searched")


async def _searched(
    context: Context,
    filters: Mapping[str, Any] | None,
    order: JobOrderField | None,
    descending: bool,
    how: Callable[..., _Searched],
) -> _Searched:
    """`how` (search_jobs, or search_statement) for the viewer, its refusals as bad input."""
    search = _job_search(filters)
    try:
        return how(await actor_of(context), search, order, descending=descending)
    except DomainError as error:
        raise bad_argument(error) from error


def _job_search(filters: Mapping[str, Any] | None) -> JobSearch:
    given = dict(filters or {})
    if given.get("client_id") is not None:
        parsed = parse_global_id(given["client_id"])
        # An id that is not a client profile matches no job, as a missing one would.
        given["client_id"] = parsed[1] if parsed and parsed[0] == "ClientProfile" else NO_SUCH_ID
    return JobSearch(**given)


async def prefetch_jobs(info: Info, jobs: list[JobRow]) -> None:
    """What the page's selection asks of its jobs, loaded for all of them at once."""
    if not jobs:
        return
    selected = node_selections(info)
    loaders = info.context.loaders
    loads: list[Awaitable[Any]] = []
    if "client" in selected:
        loads.append(loaders.client_profile.load_many([job.client_id for job in jobs]))
    if "skills" in selected:
        loads.append(loaders.skills_by_job.load_many([job.id for job in jobs]))
    await load_all(loads)


async def viewer_jobs(
    info: Info, request: PageRequest, status: JobStatus | None
) -> Listing[JobRow]:
    actor = await signed_in_actor(info)
    queryset = (
        JobRow.filter(client_id=actor.client_profile_id)
        if actor.client_profile_id
        else JobRow.filter(id__in=[])
    )
    if status is not None:
        queryset = queryset.filter(status=JobStatus(status))
    found = await listing(queryset, request, descending=True)
    await prefetch_jobs(info, found.page.rows)
    return found


async def viewer_invitations(
    info: Info, request: PageRequest, status: InvitationStatus | None
) -> Listing[InvitationRow]:
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
    return await listing(queryset, request, descending=True)
