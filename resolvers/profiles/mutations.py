from __future__ import annotations

from models.profiles import actions, orm
from resolvers.context import Info
from schema.compat import attempt
from schema.core import UserError, provided_fields
from schema.profiles import (
    ClientProfile,
    ClientProfileInput,
    ClientProfilePayload,
    FreelancerProfile,
    FreelancerProfileInput,
    FreelancerProfilePayload,
    PortfolioItem,
    PortfolioItemInput,
    PortfolioItemPayload,
    UpdateClientProfileInput,
    UpdateFreelancerProfileInput,
)


def _freelancer_payload(
    row: orm.FreelancerProfile | None, errors: list[UserError]
) -> FreelancerProfilePayload:
    return FreelancerProfilePayload(
        profile=FreelancerProfile.from_row(row) if row else None, user_errors=errors
    )


def _client_payload(row: orm.ClientProfile | None, errors: list[UserError]) -> ClientProfilePayload:
    return ClientProfilePayload(
        profile=ClientProfile.from_row(row) if row else None, user_errors=errors
    )


async def create_freelancer_profile(
    info: Info, input: FreelancerProfileInput
) -> FreelancerProfilePayload:
    assert info.context.user is not None
    return _freelancer_payload(
        *await attempt(actions.create_freelancer_profile(info.context.user, provided_fields(input)))
    )


async def update_freelancer_profile(
    info: Info, input: UpdateFreelancerProfileInput
) -> FreelancerProfilePayload:
    assert info.context.user is not None
    return _freelancer_payload(
        *await attempt(actions.update_freelancer_profile(info.context.user, provided_fields(input)))
    )


async def add_portfolio_item(info: Info, input: PortfolioItemInput) -> PortfolioItemPayload:
    assert info.context.user is not None
    row, errors = await attempt(
        actions.add_portfolio_item(
            info.context.user, title=input.title, description=input.description, url=input.url
        )
    )
    return PortfolioItemPayload(
        item=PortfolioItem.from_row(row) if row else None, user_errors=errors
    )


async def create_client_profile(info: Info, input: ClientProfileInput) -> ClientProfilePayload:
    assert info.context.user is not None
    return _client_payload(
        *await attempt(actions.create_client_profile(info.context.user, provided_fields(input)))
    )


async def update_client_profile(
    info: Info, input: UpdateClientProfileInput
) -> ClientProfilePayload:
    assert info.context.user is not None
    return _client_payload(
        *await attempt(actions.update_client_profile(info.context.user, provided_fields(input)))
    )
