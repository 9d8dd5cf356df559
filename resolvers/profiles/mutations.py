from __future__ import annotations

from typing import Any

from models.profiles import actions, orm
from resolvers.context import Info
from resolvers.errors import Outcome, attempt


async def create_freelancer_profile(
    info: Info, data: dict[str, Any]
) -> Outcome[orm.FreelancerProfile]:
    assert info.context.user is not None
    return await attempt(actions.create_freelancer_profile(info.context.user, data))


async def update_freelancer_profile(
    info: Info, data: dict[str, Any]
) -> Outcome[orm.FreelancerProfile]:
    """`data`: the input's fields the client sent."""
    assert info.context.user is not None
    return await attempt(actions.update_freelancer_profile(info.context.user, data))


async def add_portfolio_item(
    info: Info, title: str, description: str, url: str | None
) -> Outcome[orm.PortfolioItem]:
    assert info.context.user is not None
    return await attempt(
        actions.add_portfolio_item(info.context.user, title=title, description=description, url=url)
    )


async def create_client_profile(info: Info, data: dict[str, Any]) -> Outcome[orm.ClientProfile]:
    assert info.context.user is not None
    return await attempt(actions.create_client_profile(info.context.user, data))


async def update_client_profile(info: Info, data: dict[str, Any]) -> Outcome[orm.ClientProfile]:
    """`data`: the input's fields the client sent."""
    assert info.context.user is not None
    return await attempt(actions.update_client_profile(info.context.user, data))
