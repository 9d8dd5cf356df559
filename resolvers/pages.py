"""Pages of rows, paginated in the database: what list resolvers return. The schema turns a
Listing into a GraphQL connection (schema/core.py `connection_of`)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.errors import DomainError
from models.pagination import (
    FirstPageQuery,
    Page,
    PageRequest,
    SqlFilter,
    first_page_query,
    paginate,
)
from resolvers.errors import PublicError
from settings import get_settings

RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True, slots=True)
class Listing(Generic[RowT]):
    """One page of a list, and how to count the whole list when `totalCount` is asked for."""

    page: Page[RowT]
    # The whole list's query, or for nested lists the count of every parent in one query.
    unpaginated: QuerySet[Any] | None = None
    batched_count: Callable[[], Awaitable[int]] | None = None

    async def total_count(self) -> int:
        if self.batched_count is not None:
            return await self.batched_count()
        assert self.unpaginated is not None
        return await self.unpaginated.count()


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(first=first, after=after, last=last, before=before)


def page_request_of(arguments: Mapping[str, Any]) -> PageRequest:
    """The page a connection field's converted arguments ask for (those it was given)."""
    return page_request(
        arguments.get("first"),
        arguments.get("after"),
        arguments.get("last"),
        arguments.get("before"),
    )


def validated(request: PageRequest) -> PageRequest:
    settings = get_settings()
    with _refused_as_bad_input():
        return request.validated(
            default_size=settings.default_page_size, max_size=settings.max_page_size
        )


async def listing(
    queryset: QuerySet[Any],
    request: PageRequest,
    *,
    keys: Sequence[str] | None = None,
    descending: bool = False,
    sql_filter: SqlFilter | None = None,
) -> Listing[Any]:
    """One page of `queryset` (`sql_filter`: the queryset's filter in SQL, see
    models/pagination.py)."""
    with _refused_as_bad_input():
        page: Page[Any] = await paginate(queryset, request, **_paging(keys, descending, sql_filter))
    return Listing(page=page, unpaginated=queryset)


def page_query(
    model: type[Any],
    request: PageRequest,
    *,
    keys: Sequence[str] | None = None,
    descending: bool = False,
    sql_filter: SqlFilter | None = None,
) -> FirstPageQuery[Any] | None:
    """The statement `listing` would run for this page, when it is a page of a filter in SQL,
    first or after a cursor; None otherwise (`last`, `before`, a filter the ORM alone writes).
    Raises as `listing` does. The page after a cursor is written for PostgreSQL only."""
    with _refused_as_bad_input():
        return first_page_query(
            model, request, **_paging(keys, descending, sql_filter), after_cursor=True
        )


def _paging(
    keys: Sequence[str] | None, descending: bool, sql_filter: SqlFilter | None
) -> dict[str, Any]:
    settings = get_settings()
    return {
        "keys": keys or ("created_at", "id"),
        "descending": descending,
        "default_size": settings.default_page_size,
        "max_size": settings.max_page_size,
        "sql_filter": sql_filter,
    }


@contextmanager
def _refused_as_bad_input() -> Iterator[None]:
    try:
        yield
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT") from error
