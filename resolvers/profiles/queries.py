from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.errors import DomainError
from models.pagination import PageRequest
from models.profiles.orm import FreelancerProfile as FreelancerProfileRow
from models.profiles.orm import Skill as SkillRow
from models.profiles.search import FreelancerSearch, freelancer_queryset
from resolvers.context import Info
from resolvers.errors import PublicError
from resolvers.pages import Listing, listing
from settings import get_settings


async def freelancers(
    info: Info, request: PageRequest, filters: Mapping[str, Any] | None
) -> Listing[FreelancerProfileRow]:
    """`filters`: FreelancerFilter's fields (those of FreelancerSearch)."""
    search = FreelancerSearch(**filters) if filters else FreelancerSearch()
    try:
        queryset = freelancer_queryset(search)
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT", field=error.field) from error
    return await listing(queryset, request, descending=True)


async def skills(info: Info, query: str | None, first: int | None) -> list[SkillRow]:
    limit = first if first is not None else get_settings().default_page_size
    if not 1 <= limit <= get_settings().max_page_size:
        raise PublicError(
            f"`first` must be between 1 and {get_settings().max_page_size}", "BAD_USER_INPUT"
        )
    queryset = SkillRow.all()
    if query:
        queryset = queryset.filter(name__icontains=query.strip()[:60])
    return await queryset.order_by("name").limit(limit)
