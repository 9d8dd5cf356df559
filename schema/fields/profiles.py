"""Freelancer and client profiles: creating and editing one's own, the freelancer search and
the skills list."""

from __future__ import annotations

from models.errors import DomainError
from models.profiles import orm
from resolvers.context import Info
from resolvers.pages import page_request
from resolvers.profiles import mutations, queries
from schema.core import Connection, connection_of, provided_fields, user_errors
from schema.profiles import (
    ClientProfile,
    ClientProfileInput,
    ClientProfilePayload,
    FreelancerFilter,
    FreelancerProfile,
    FreelancerProfileInput,
    FreelancerProfilePayload,
    PortfolioItem,
    PortfolioItemInput,
    PortfolioItemPayload,
    Skill,
    UpdateClientProfileInput,
    UpdateFreelancerProfileInput,
)


def _freelancer_payload(
    row: orm.FreelancerProfile | None, problems: list[DomainError]
) -> FreelancerProfilePayload:
    return FreelancerProfilePayload(
        profile=FreelancerProfile.from_row(row) if row else None, user_errors=user_errors(problems)
    )


def _client_payload(
    row: orm.ClientProfile | None, problems: list[DomainError]
) -> ClientProfilePayload:
    return ClientProfilePayload(
        profile=ClientProfile.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def create_freelancer_profile(
    info: Info, input: FreelancerProfileInput
) -> FreelancerProfilePayload:
    return _freelancer_payload(
        *await mutations.create_freelancer_profile(info, provided_fields(input))
    )


async def update_freelancer_profile(
    info: Info, input: UpdateFreelancerProfileInput
) -> FreelancerProfilePayload:
    return _freelancer_payload(
        *await mutations.update_freelancer_profile(info, provided_fields(input))
    )


async def add_portfolio_item(info: Info, input: PortfolioItemInput) -> PortfolioItemPayload:
    row, problems = await mutations.add_portfolio_item(
        info, input.title, input.description, input.url
    )
    return PortfolioItemPayload(
        item=PortfolioItem.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def create_client_profile(info: Info, input: ClientProfileInput) -> ClientProfilePayload:
    return _client_payload(*await mutations.create_client_profile(info, provided_fields(input)))


async def update_client_profile(
    info: Info, input: UpdateClientProfileInput
) -> ClientProfilePayload:
    return _client_payload(*await mutations.update_client_profile(info, provided_fields(input)))


async def freelancers(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: FreelancerFilter | None = None,
) -> Connection[FreelancerProfile]:
    found = await queries.freelancers(
        info, page_request(first, after, last, before), vars(filter) if filter else None
    )
    return connection_of(found, FreelancerProfile.from_row)


async def skills(info: Info, query: str | None = None, first: int | None = None) -> list[Skill]:
    return [Skill.from_row(row) for row in await queries.skills(info, query, first)]
