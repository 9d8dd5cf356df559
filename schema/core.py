"""Conventions shared by every domain: Node and global IDs, keyset connections, user errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from inspect import isawaitable
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

import strawberry
from strawberry.types.field import StrawberryField
from tortoise.queryset import QuerySet

from models.errors import DomainError, ErrorCode
from models.pagination import Page, PageRequest, SqlFilter, condition_filter
from resolvers import ids
from resolvers.pages import Listing, listing, validated
from resolvers.prefetch import ready, ready_many, then

NodeT = TypeVar("NodeT")


def described_field(description: str) -> Callable[[Callable[..., Any]], StrawberryField]:
    """`@strawberry.field(description=...)` on a resolver method, typed as the decorator it is.

    Strawberry types that call as returning Any, since it also declares plain fields
    (strawberry#1929), and mypy would take every resolver under it for untyped.
    """
    decorator: Callable[[Callable[..., Any]], StrawberryField] = strawberry.field(
        description=description
    )
    return decorator


def encode_global_id(type_name: str, pk: UUID) -> strawberry.ID:
    return strawberry.ID(ids.encode_global_id(type_name, pk))


@strawberry.interface(description="An object with a global ID; `node(id:)` finds it.")
class Node:
    id: strawberry.ID


# ---------------------------------------------------------------- user errors

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
UserErrorCode = ErrorCode
strawberry.enum(UserErrorCode, name="UserErrorCode")


@strawberry.enum
class SortDirection(Enum):
    ASC = "ASC"
    DESC = "DESC"


@strawberry.type
class UserError:
    field: list[str] | None = strawberry.field(
        description='Path to the input field at fault, e.g. ["input", "milestones", "1", "amount"].'
    )
    message: str
    code: UserErrorCode

    @classmethod
    def from_domain(cls, error: DomainError) -> UserError:
        return cls(field=error.field, message=error.message, code=error.code)


def user_errors(problems: list[DomainError]) -> list[UserError]:
    """A mutation's business failures (resolvers.errors.attempt) as its payload's userErrors."""
    return [UserError.from_domain(problem) for problem in problems]


# ---------------------------------------------------------------- connections


@strawberry.type
class PageInfo:
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge(Generic[NodeT]):
    cursor: str
    node: NodeT


@strawberry.type
class Connection(Generic[NodeT]):
    edges: list[Edge[NodeT]]
    page_info: PageInfo
    listing: strawberry.Private[Listing[Any]]

    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @described_field("A separate COUNT, run only when selected.")
    async def total_count(self) -> int:
        return await self.listing.total_count()


def connection_of(listing: Listing[Any], convert: Callable[[Any], NodeT]) -> Connection[NodeT]:
    """A resolver's page of rows as a GraphQL connection of the type `convert` builds."""
    page = listing.page
    edges = [
        Edge(cursor=cursor, node=convert(row))
        for cursor, row in zip(page.cursors, page.rows, strict=True)
    ]
    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page,
            has_previous_page=page.has_previous_page,
            start_cursor=page.cursors[0] if page.cursors else None,
            end_cursor=page.cursors[-1] if page.cursors else None,
        ),
        listing=listing,
    )


def _connection(
    page: Page[Any],
    convert: Callable[[Any], NodeT],
    batched_count: Callable[[], Awaitable[int]],
) -> Connection[NodeT]:
    return connection_of(Listing(page=page, batched_count=batched_count), convert)


def nested_connection_now(
    info: Any,
    model: type[Any],
    parent_column: str,
    parent_id: Any,
    request: PageRequest,
    convert: Callable[[Any], NodeT],
    *,
    keys: Sequence[str] = ("created_at", "id"),
    descending: bool = False,
    conditions: tuple[str, ...] = (),
) -> Connection[NodeT]:
    """A connection under each of many parents (a contract's events, an interview's messages)
    that costs one query for all parents, not one per parent; at once when the parent's
    connection resolver has loaded the pages already (resolvers/prefetch.py), else awaitable."""
    request = validated(request)
    if request.after is not None or request.before is not None:
        return cast(
            "Connection[NodeT]",
            nested_connection_by_cursor(
                model, parent_column, parent_id, request, convert, keys, descending, conditions
            ),
        )
    loaders = info.context.loaders
    page = ready(
        loaders.page_per_parent(model, parent_column, tuple(keys), descending, request, conditions),
        parent_id,
    )

    def count() -> Awaitable[int]:
        counted: Awaitable[int] = loaders.count_per_parent(model, parent_column, conditions).load(
            parent_id
        )
        return counted

    return then(page, lambda loaded: _connection(loaded, convert, count))


def nested_connections(
    loaders: Any,
    model: type[Any],
    parent_column: str,
    parent_ids: list[Any],
    request: PageRequest,
    convert: Callable[[Any], NodeT],
    *,
    keys: Sequence[str] = ("created_at", "id"),
    descending: bool = False,
    conditions: tuple[str, ...] = (),
) -> list[Connection[NodeT]] | Awaitable[list[Connection[NodeT]]]:
    """`nested_connection_now` for many parents at once (the batch executor's form): the
    same loaders, so the same one query for all of them."""
    request = validated(request)
    if request.after is not None or request.before is not None:

        async def each() -> list[Connection[NodeT]]:
            return list(
                await asyncio.gather(
                    *(
                        nested_connection_by_cursor(
                            model,
                            parent_column,
                            parent_id,
                            request,
                            convert,
                            keys,
                            descending,
                            conditions,
                        )
                        for parent_id in parent_ids
                    )
                )
            )

        return each()
    loader = loaders.page_per_parent(
        model, parent_column, tuple(keys), descending, request, conditions
    )
    counter = loaders.count_per_parent

    def connection(parent_id: Any, page: Page[Any]) -> Connection[NodeT]:
        def count() -> Awaitable[int]:
            counted: Awaitable[int] = counter(model, parent_column, conditions).load(parent_id)
            return counted

        return _connection(page, convert, count)

    return then(
        ready_many(loader, parent_ids),
        lambda pages: [connection(p, page) for p, page in zip(parent_ids, pages, strict=True)],
    )


def nested_connection_by_cursor(
    model: type[Any],
    parent_column: str,
    parent_id: Any,
    request: PageRequest,
    convert: Callable[[Any], NodeT],
    keys: Sequence[str],
    descending: bool,
    conditions: tuple[str, ...],
) -> Awaitable[Connection[NodeT]]:
    queryset = model.filter(**{parent_column: parent_id})
    if conditions:
        queryset = queryset.filter(
            **{name: value for name, value in map(condition_filter, conditions)}
        )
    return build_connection(queryset, request, convert, keys=keys, descending=descending)


async def nested_connection(
    info: Any,
    model: type[Any],
    parent_column: str,
    parent_id: Any,
    request: PageRequest,
    convert: Callable[[Any], NodeT],
    *,
    keys: Sequence[str] = ("created_at", "id"),
    descending: bool = False,
    conditions: tuple[str, ...] = (),
) -> Connection[NodeT]:
    connection = nested_connection_now(
        info,
        model,
        parent_column,
        parent_id,
        request,
        convert,
        keys=keys,
        descending=descending,
        conditions=conditions,
    )
    return await connection if isawaitable(connection) else connection


async def build_connection(
    queryset: QuerySet[Any],
    request: PageRequest,
    convert: Callable[[Any], NodeT],
    *,
    keys: Sequence[str] | None = None,
    descending: bool = False,
    sql_filter: SqlFilter | None = None,
) -> Connection[NodeT]:
    """One page of `queryset`, paginated in the database, as a GraphQL connection
    (`sql_filter`: the queryset's filter in SQL, see models/pagination.py)."""
    found = await listing(
        queryset, request, keys=keys, descending=descending, sql_filter=sql_filter
    )
    return connection_of(found, convert)


def provided_fields(data: object) -> dict[str, Any]:
    """The input's fields the client actually sent (UNSET ones left out), by Python name."""
    return {name: value for name, value in vars(data).items() if value is not strawberry.UNSET}


NodeResolver = Callable[[Any, UUID], Awaitable[Any]]
