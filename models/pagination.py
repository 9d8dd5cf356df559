"""Keyset pagination in the database: `WHERE (k1, k2) > (v1, v2) ORDER BY k1, k2 LIMIT n+1`.

Never OFFSET, never slicing a Python list, so page 50 costs what page 1 costs. Sort keys must be
non-null columns whose last key is unique (the primary key), so every row has one position.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar
from uuid import UUID

import orjson
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from models.errors import ValidationFailed
from models.rows import (
    client_of,
    column_list,
    in_keys,
    instances,
    is_postgres,
    list_parameters,
    order_list,
    sqlite_value,
    text,
)

RowT = TypeVar("RowT", bound=Model)

DEFAULT_KEYS = ("created_at", "id")


class InvalidPageRequest(ValidationFailed):
    pass


@dataclass(frozen=True)
class PageRequest:
    first: int | None = None
    after: str | None = None
    last: int | None = None
    before: str | None = None

    def validated(self, *, default_size: int, max_size: int) -> PageRequest:
        if self.first is not None and self.last is not None:
            raise InvalidPageRequest("Pass `first` or `last`, not both")
        for name, size in (("first", self.first), ("last", self.last)):
            if size is not None and not 1 <= size <= max_size:
                raise InvalidPageRequest(f"`{name}` must be between 1 and {max_size}", field=[name])
        if self.first is None and self.last is None:
            return PageRequest(first=default_size, after=self.after, before=self.before)
        return self


@dataclass(frozen=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _encode_value(value: Any) -> list[Any]:
    if isinstance(value, datetime):
        return ["d", value.isoformat()]
    if isinstance(value, UUID):
        return ["u", str(value)]
    if isinstance(value, float):
        # A computed key (search relevance); JSON keeps the float's exact value.
        return ["f", value]
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"cannot put {type(value).__name__} in a cursor")
    return ["i" if isinstance(value, int) else "s", value]


def _decode_value(tagged: Any) -> Any:
    kind, raw = tagged
    if kind == "d":
        return datetime.fromisoformat(raw)
    if kind == "u":
        return UUID(raw)
    if kind == "i" and isinstance(raw, int):
        return raw
    if kind == "s" and isinstance(raw, str):
        return raw
    if kind == "f" and isinstance(raw, (int, float)) and math.isfinite(raw):
        return float(raw)
    raise ValueError(kind)


def encode_cursor(row: Model, keys: Sequence[str]) -> str:
    return cursor_of(*(getattr(row, key) for key in keys))


def cursor_of(*values: Any) -> str:
    """The cursor of a position given by its key values (a stream's sequence number, say)."""
    payload = orjson.dumps([_encode_value(value) for value in values])
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, keys: Sequence[str], *, field: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = [
            _decode_value(item)
            for item in orjson.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        ]
    except (ValueError, TypeError, binascii.Error, UnicodeError, orjson.JSONDecodeError) as error:
        raise InvalidPageRequest("Invalid cursor", field=[field]) from error
    if len(values) != len(keys):
        raise InvalidPageRequest("Invalid cursor", field=[field])
    return values


def _fits(column: Any, value: Any) -> bool:
    expected = getattr(column, "field_type", None)
    if expected is None:
        return True
    if not isinstance(value, expected):
        return False
    if isinstance(value, datetime):
        if value.tzinfo is None:  # ours always carry their offset
            return False
        try:  # and an offset that moves the instant past year 1 or 9999 cannot be stored
            value.astimezone(UTC)
        except OverflowError:
            return False
        return True
    if isinstance(value, int):
        bounds: dict[str, int] = getattr(column, "constraints", {})
        return bounds.get("ge", -(2**63)) <= value <= bounds.get("le", 2**63 - 1)
    if isinstance(value, str):
        return "\x00" not in value and len(value) <= (
            getattr(column, "max_length", None) or len(value)
        )
    return True


def _cursor_values(
    model: type[Model], keys: Sequence[str], cursor: str, *, field: str
) -> list[Any]:
    """A cursor's values. It comes from the client: a value that does not fit its column is
    refused here, not by the database (a UUID column given "x", a 64-bit one given 2**70)."""
    values = decode_cursor(cursor, keys, field=field)
    for key, value in zip(keys, values, strict=True):
        if not _fits(model._meta.fields_map.get(key), value):
            raise InvalidPageRequest("Invalid cursor", field=[field])
    return values


def _beyond(keys: Sequence[str], values: Sequence[Any], *, greater: bool) -> Q:
    """Rows strictly after (greater=True) or before the position `values` in `keys` order."""
    operator = "gt" if greater else "lt"
    alternatives = []
    for index, key in enumerate(keys):
        equal = {k: v for k, v in zip(keys[:index], values[:index], strict=True)}
        alternatives.append(Q(**equal, **{f"{key}__{operator}": values[index]}))
    # Implied by the alternatives, but a bare OR hides the range from the planner: with the
    # leading key bounded, a deep page seeks in the index instead of scanning from its start.
    leading_bound = Q(**{f"{keys[0]}__{operator}e": values[0]})
    return leading_bound & Q(*alternatives, join_type="OR")


@dataclass(frozen=True)
class SqlFilter:
    """A queryset's WHERE clause as SQL written in our code, `{0}`, `{1}`… marking its
    parameters: with it, a first page (no cursor) is one statement whose text is made once."""

    sql: str
    parameters: tuple[Any, ...]
    # True when the text itself differs between requests (literals in it): made, not kept.
    varies: bool = False


async def paginate(
    queryset: QuerySet[RowT],
    request: PageRequest,
    *,
    keys: Sequence[str] = DEFAULT_KEYS,
    descending: bool = False,
    default_size: int = 20,
    max_size: int = 100,
    sql_filter: SqlFilter | None = None,
) -> Page[RowT]:
    first_page = first_page_query(
        queryset.model,
        request,
        keys=keys,
        descending=descending,
        default_size=default_size,
        max_size=max_size,
        sql_filter=sql_filter,
    )
    if first_page is not None:
        return await _first_page(first_page)
    request = request.validated(default_size=default_size, max_size=max_size)
    forward = request.first is not None
    # In a descending list "after" means smaller keys.
    if request.after is not None:
        after = _cursor_values(queryset.model, keys, request.after, field="after")
        queryset = queryset.filter(_beyond(keys, after, greater=not descending))
    if request.before is not None:
        before = _cursor_values(queryset.model, keys, request.before, field="before")
        queryset = queryset.filter(_beyond(keys, before, greater=descending))
    ascending_in_query = forward != descending
    size = request.first if forward else request.last
    assert size is not None
    ordering = [key if ascending_in_query else f"-{key}" for key in keys]
    rows = list(await queryset.order_by(*ordering).limit(size + 1))
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[encode_cursor(row, keys) for row in rows],
        has_next_page=has_more if forward else request.before is not None,
        has_previous_page=request.after is not None if forward else has_more,
    )


@dataclass(frozen=True)
class FirstPageQuery(Generic[RowT]):
    """A first (or last) page without a cursor, of `model` filtered by `sql_filter`, as one
    statement: run here by `paginate`, or read by whoever builds more around it
    (schema/execution/sql.py wraps it to answer the page's nodes as JSON). For the latter, on
    PostgreSQL, also the page of `first` rows after a cursor (`after`: its decoded values)."""

    model: type[RowT]
    sql_filter: SqlFilter
    size: int
    keys: tuple[str, ...]
    descending: bool
    forward: bool
    after: tuple[Any, ...] | None = None

    @property
    def ascending_in_query(self) -> bool:
        return self.forward != self.descending

    def order(self) -> list[str]:
        """The keys as `order_list` takes them, in the statement's order."""
        ascending = self.ascending_in_query
        return [key if ascending else f"-{key}" for key in self.keys]

    def statement(self, postgres: bool) -> tuple[str, list[Any]]:
        """The page's rows and the one after it (which only tells there is more)."""
        model, sql_filter, after = self.model, self.sql_filter, self.after
        assert postgres or after is None, "a page after a cursor is written for PostgreSQL only"

        def make() -> str:
            count = len(sql_filter.parameters)
            marks = [f"${n}" if postgres else f"?{n}" for n in range(1, count + 1)]
            where = sql_filter.sql.format(*marks)
            if after is not None:
                # `_beyond` as a row comparison: strictly past the cursor in the page's order.
                columns = ", ".join(f'"{key}"' for key in self.keys)
                values = ", ".join(f"${count + n}" for n in range(1, len(after) + 1))
                operator = ">" if self.ascending_in_query else "<"
                where = f"({where}) AND ({columns}) {operator} ({values})"
            return (
                f'SELECT {column_list(model)} FROM "{model._meta.db_table}" '
                f"WHERE {where} ORDER BY {order_list(self.order())} LIMIT {int(self.size) + 1}"
            )

        ascending, size, cursor = self.ascending_in_query, self.size, after is not None
        shape = ("first-page", model, sql_filter.sql, self.keys, ascending, size, postgres, cursor)
        sql = make() if sql_filter.varies else text(shape, make)
        parameters = [value if postgres else sqlite_value(value) for value in sql_filter.parameters]
        return sql, [*parameters, *(after or ())]


def first_page_query(
    model: type[RowT],
    request: PageRequest,
    *,
    keys: Sequence[str] = DEFAULT_KEYS,
    descending: bool = False,
    default_size: int = 20,
    max_size: int = 100,
    sql_filter: SqlFilter | None = None,
    after_cursor: bool = False,
) -> FirstPageQuery[RowT] | None:
    """The page `paginate` would fetch, when it is one without a cursor of a filter in SQL
    (with `after_cursor`, also `first` rows after a cursor: validated as `paginate` does)."""
    if sql_filter is None or request.before is not None:
        return None
    if request.after is not None and not after_cursor:
        return None
    request = request.validated(default_size=default_size, max_size=max_size)
    forward = request.first is not None
    size = request.first if forward else request.last
    assert size is not None
    after: tuple[Any, ...] | None = None
    if request.after is not None:
        if not forward:
            return None
        after = tuple(_cursor_values(model, keys, request.after, field="after"))
    return FirstPageQuery(model, sql_filter, size, tuple(keys), descending, forward, after)


async def _first_page(query: FirstPageQuery[RowT]) -> Page[RowT]:
    """`paginate` without a cursor, for a queryset that is `model` filtered by `sql_filter`."""
    client = client_of(query.model)
    sql, parameters = query.statement(is_postgres(client))
    _, found = await client.execute_query(sql, parameters)
    size, forward = query.size, query.forward
    has_more = len(found) > size
    rows = instances(query.model, found[:size], client)
    if not forward:
        rows.reverse()
    return Page(
        rows=rows,
        cursors=[encode_cursor(row, query.keys) for row in rows],
        has_next_page=has_more if forward else False,
        has_previous_page=False if forward else has_more,
    )


def condition_filter(condition: str) -> tuple[str, Any]:
    """The ORM filter of one of first_pages' SQL conditions (`col = 'v'` or `col IS NOT NULL`),
    so a page fetched by cursor applies exactly what the batched first page does."""
    column, _, rest = condition.partition(" ")
    if rest == "IS NOT NULL":
        return f"{column}__isnull", False
    return column, rest.removeprefix("= ").strip("'")


async def first_pages(
    model: type[RowT],
    parent_column: str,
    parent_ids: Sequence[UUID],
    request: PageRequest,
    *,
    keys: Sequence[str] = DEFAULT_KEYS,
    descending: bool = False,
    conditions: Sequence[str] = (),
) -> dict[UUID, Page[RowT]]:
    """The first (or last) page of rows for each of many parents, in one query.

    Nested connections (every contract's `events(first: 10)`) would otherwise cost a query per
    parent. A window function numbers each parent's rows in page order; only cursor-less
    requests come here, since a cursor pages within one parent.
    """
    assert request.after is None and request.before is None
    forward = request.last is None
    size = request.first if forward else request.last
    assert size is not None
    direction = "ASC" if forward != descending else "DESC"
    order = ", ".join(f'"{key}" {direction}' for key in keys)
    table = model._meta.db_table
    ids = list(dict.fromkeys(UUID(str(parent_id)) for parent_id in parent_ids))
    client = client_of(model)
    postgres = is_postgres(client)

    def make() -> str:
        # `conditions` are SQL written in our code, never built from client input.
        extra = "".join(f" AND {condition}" for condition in conditions)
        return (
            f"SELECT * FROM (SELECT {column_list(model)}, ROW_NUMBER() OVER (PARTITION BY "
            f'"{parent_column}" ORDER BY {order}) AS page_position FROM "{table}" '
            f'WHERE "{parent_column}" {in_keys(client, ids)}{extra}) AS ranked '
            f"WHERE page_position <= {int(size) + 1} ORDER BY page_position"
        )

    shape = (model, parent_column, tuple(keys), direction, tuple(conditions), size, postgres)
    sql = text(("pages", *shape, None if postgres else len(ids)), make)
    records_of: dict[UUID, list[Any]] = {parent_id: [] for parent_id in ids}
    if ids:
        _, records = await client.execute_query(sql, list_parameters(client, ids))
        for record in records:
            value = record[parent_column]
            records_of[value if isinstance(value, UUID) else UUID(str(value))].append(record)
    pages = {}
    for parent_id, found in records_of.items():
        has_more = len(found) > size
        # The row past the page only tells that there is more: no instance for it.
        rows = instances(model, found[:size], client)
        if not forward:
            rows.reverse()
        pages[parent_id] = Page(
            rows=rows,
            cursors=[encode_cursor(row, keys) for row in rows],
            has_next_page=has_more if forward else False,
            has_previous_page=False if forward else has_more,
        )
    return pages
