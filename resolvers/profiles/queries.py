from __future__ import annotations

from models.errors import DomainError
from models.profiles.orm import Skill as SkillRow
from models.profiles.search import FreelancerSearch, freelancer_queryset
from resolvers.context import Info
from resolvers.errors import PublicError
from resolvers.pages import page_request
from schema.core import Connection, build_connection
from schema.profiles import FreelancerFilter, FreelancerProfile, Skill
from settings import get_settings


async def freelancers(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    filter: FreelancerFilter | None = None,
) -> Connection[FreelancerProfile]:
    search = FreelancerSearch(**vars(filter)) if filter else FreelancerSearch()
    try:
        queryset = freelancer_queryset(search)
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT", field=error.field) from error
    return await build_connection(
        queryset,
        page_request(first, after, last, before),
        FreelancerProfile.from_row,
        descending=True,
    )


async def skills(info: Info, query: str | None = None, first: int | None = None) -> list[Skill]:
    limit = first if first is not None else get_settings().default_page_size
    if not 1 <= limit <= get_settings().max_page_size:
        raise PublicError(
            f"`first` must be between 1 and {get_settings().max_page_size}", "BAD_USER_INPUT"
        )
    queryset = SkillRow.all()
    if query:
        queryset = queryset.filter(name__icontains=query.strip()[:60])
    return [Skill.from_row(row) for row in await queryset.order_by("name").limit(limit)]
