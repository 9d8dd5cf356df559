"""Conventions shared by every domain: Node and global IDs, keyset connections, user errors."""

from __future__ import annotations

import asyncio
import base64
import binascii
from collections.abc import Awaitable, Callable, Sequence
from enum import Enum
from inspect import isawaitable
from typing import Any, Generic, TypeVar, cast
from uuid import UUID

import strawberry
from graphql import GraphQLError
from strawberry.types.field import StrawberryField
from tortoise.queryset import QuerySet

from models.errors import DomainError, ErrorCode
from models.pagination import Page, PageRequest, SqlFilter, condition_filter, paginate
from resolvers.prefetch import ready, ready_many, then
from settings import get_settings

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


class PublicError(GraphQLError):
    """An error meant for the client: shown as is, with `extensions.code`."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


# ---------------------------------------------------------------- global IDs


def encode_global_id(type_name: str, pk: UUID) -> strawberry.ID:
    raw = f"{type_name}:{pk}".encode()
    return strawberry.ID(base64.urlsafe_b64encode(raw).decode().rstrip("="))


def parse_global_id(global_id: str) -> tuple[str, UUID] | None:
    """(type name, primary key) of a global ID, or None when it is not one of ours."""
    if not isinstance(global_id, str) or len(global_id) > 200:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        return type_name, UUID(pk)
    except (ValueError, binascii.Error, UnicodeError):
        return None


def decode_id(global_id: str, expected: type | str, *, field: Sequence[str]) -> UUID:
    """The primary key behind a global ID of the expected type; NOT_FOUND for anything else."""
    expected_name = expected if isinstance(expected, str) else expected.__name__
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] != expected_name:
        raise DomainError(f"No {expected_name} with this ID", field=field, code=ErrorCode.NOT_FOUND)
    return parsed[1]


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
    # What `totalCount` counts: the whole list's query, or for nested connections the count
    # of every parent in one query.
    unpaginated: strawberry.Private[QuerySet[Any] | None]
    batched_count: strawberry.Private[Callable[[], Awaitable[int]] | None] = None

    @strawberry.field
    def nodes(self) -> list[NodeT]:
        return [edge.node for edge in self.edges]

    @described_field("A separate COUNT, run only when selected.")
    async def total_count(self) -> int:
        if self.batched_count is not None:
            return await self.batched_count()
        assert self.unpaginated is not None
        return await self.unpaginated.count()


def page_request(
    first: int | None, after: str | None, last: int | None, before: str | None
) -> PageRequest:
    return PageRequest(first=first, after=after, last=last, before=before)


def _connection(
    page: Page[Any],
    convert: Callable[[Any], NodeT],
    queryset: QuerySet[Any] | None,
    batched_count: Callable[[], Awaitable[int]] | None = None,
) -> Connection[NodeT]:
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
        unpaginated=queryset,
        batched_count=batched_count,
    )


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
    request = _validated(request)
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

    return then(page, lambda loaded: _connection(loaded, convert, None, count))


def _validated(request: PageRequest) -> PageRequest:
    settings = get_settings()
    try:
        return request.validated(
            default_size=settings.default_page_size, max_size=settings.max_page_size
        )
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT") from error


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
    request = _validated(request)
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

        return _connection(page, convert, None, count)

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
    settings = get_settings()
    try:
        page: Page[Any] = await paginate(
            queryset,
            request,
            keys=keys or ("created_at", "id"),
            descending=descending,
            default_size=settings.default_page_size,
            max_size=settings.max_page_size,
            sql_filter=sql_filter,
        )
    except DomainError as error:
        raise PublicError(error.message, "BAD_USER_INPUT") from error
    return _connection(page, convert, queryset)


def provided_fields(data: object) -> dict[str, Any]:
    """The input's fields the client actually sent (UNSET ones left out), by Python name."""
    return {name: value for name, value in vars(data).items() if value is not strawberry.UNSET}


NodeResolver = Callable[[Any, UUID], Awaitable[Any]]
