"""The batch forms of the field resolvers that read `info` (see batch.py; resolvers that take
no `info` are batched as they are, one call per parent).

Each must answer what its field resolver answers, through the same per-request loaders (so the
same SQL): the field resolvers with `ready()`/`then()` read what a connection resolver
prefetched for its page, these load it for all the parents of the level themselves.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from decimal import Decimal
from typing import Any

from auth.policies import can_see_email
from models.contracts import orm as contracts_orm
from models.contracts.orm import ContractEvent as ContractEventRow
from models.money import from_cents
from resolvers.context import Context
from resolvers.contracts.queries import EVENT_KEYS, contracts_of_viewer, contracts_of_viewer_query
from resolvers.jobs.queries import search_listing, search_query
from resolvers.pages import page_request_of
from resolvers.prefetch import ready_many, then
from schema.contract_events import ContractEvent
from schema.contracts import Contract
from schema.core import Connection, connection_of, nested_connections
from schema.execution.batch import batches, page_statements
from schema.fields.contracts import viewer_contracts
from schema.fields.jobs import jobs, search_arguments
from schema.fields.users import viewer
from schema.jobs import Job
from schema.milestones import Milestone
from schema.profiles import ClientProfile, FreelancerProfile, Skill
from schema.users import User
from schema.viewer import Viewer

Parents = Sequence[Any]


@batches(viewer)
def viewers(parents: Parents, arguments: dict[str, Any], context: Context) -> list[Any]:
    user = context.user
    return [Viewer(row=user) if user else None for _ in parents]


async def _each(parents: Parents, make: Any) -> list[Any]:
    if len(parents) == 1:
        return [await make()]
    return list(await asyncio.gather(*(make() for _ in parents)))


@batches(viewer_contracts)
def viewer_contract_pages(
    parents: Parents, arguments: dict[str, Any], context: Context
) -> Awaitable[list[Connection[Contract]]]:
    """`viewer.contracts` without the prefetch: this executor loads each level itself."""

    async def page() -> Connection[Contract]:
        found = await contracts_of_viewer(
            context, page_request_of(arguments), arguments.get("status")
        )
        return connection_of(found, Contract.from_row)

    return _each(parents, page)


@page_statements(viewer_contracts)
async def viewer_contracts_statement(arguments: dict[str, Any], context: Context) -> Any:
    """The statement of that page, when it is one (see sql.py)."""
    return contracts_of_viewer_query(context, page_request_of(arguments), arguments.get("status"))


@page_statements(jobs)
async def job_search_statement(arguments: dict[str, Any], context: Context) -> Any:
    """The statement of the `jobs` page below, when it is one (see sql.py)."""
    return await search_query(context, *search_arguments(**arguments))


@batches(jobs)
def job_pages(
    parents: Parents, arguments: dict[str, Any], context: Context
) -> Awaitable[list[Connection[Job]]]:
    """`jobs` without loading its jobs' relations: this executor loads them per level."""

    async def page() -> Connection[Job]:
        found = await search_listing(context, *search_arguments(**arguments))
        return connection_of(found, Job.from_row)

    return _each(parents, page)


@batches(User.email)
def emails(parents: Parents, arguments: dict[str, Any], context: Context) -> list[str | None]:
    user = context.user
    return [parent.private_email if can_see_email(user, parent.pk) else None for parent in parents]


def _users(parents: Parents, context: Context) -> Any:
    rows = ready_many(context.loaders.user, [parent.user_id for parent in parents])
    return then(rows, lambda loaded: [User.from_row(row) for row in loaded])


@batches(FreelancerProfile.user)
def freelancer_users(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    return _users(parents, context)


@batches(ClientProfile.user)
def client_users(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    return _users(parents, context)


@batches(Contract.freelancer)
def contract_freelancers(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    keys = [parent.row.freelancer_id for parent in parents]
    rows = ready_many(context.loaders.freelancer_profile, keys)
    return then(rows, lambda loaded: [FreelancerProfile.from_row(row) for row in loaded])


@batches(Contract.client)
def contract_clients(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    rows = ready_many(context.loaders.client_profile, [parent.row.client_id for parent in parents])
    return then(rows, lambda loaded: [ClientProfile.from_row(row) for row in loaded])


@batches(Contract.job)
def contract_jobs(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    rows = ready_many(context.loaders.job, [parent.row.job_id for parent in parents])
    return then(rows, lambda loaded: [Job.from_row(row) for row in loaded])


@batches(Contract.milestones)
def contract_milestones(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    groups = ready_many(
        context.loaders.milestones_by_contract, [parent.row.id for parent in parents]
    )
    return then(
        groups, lambda loaded: [[Milestone.from_row(row) for row in rows] for rows in loaded]
    )


@batches(Contract.total_amount)
async def contract_total_amounts(
    parents: Parents, arguments: dict[str, Any], context: Context
) -> list[Decimal]:
    hourly = contracts_orm.ContractType.HOURLY
    fixed = [parent.row.id for parent in parents if parent.row.contract_type != hourly]
    groups = iter(await context.loaders.milestones_by_contract.load_many(fixed) if fixed else [])
    totals = []
    for parent in parents:
        if parent.row.contract_type == hourly:
            totals.append(from_cents(parent.row.paid_cents))
            continue
        rows = next(groups)
        totals.append(
            from_cents(
                sum(
                    row.amount_cents
                    for row in rows
                    if row.status != contracts_orm.MilestoneStatus.CANCELLED
                )
            )
        )
    return totals


@batches(Contract.events)
def contract_events(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    return nested_connections(
        context.loaders,
        ContractEventRow,
        "contract_id",
        [parent.row.id for parent in parents],
        page_request_of(arguments),
        ContractEvent.from_row,
        keys=EVENT_KEYS,
    )


@batches(Job.client)
def job_clients(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    rows = ready_many(context.loaders.client_profile, [parent.client_id for parent in parents])
    return then(rows, lambda loaded: [ClientProfile.from_row(row) for row in loaded])


@batches(Job.skills)
def job_skills(parents: Parents, arguments: dict[str, Any], context: Context) -> Any:
    groups = ready_many(context.loaders.skills_by_job, [parent.pk for parent in parents])
    return then(
        groups,
        lambda loaded: [[Skill.from_row(link.skill) for link in links] for links in loaded],
    )
