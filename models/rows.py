"""Reads on the hot path as SQL written once per shape, run with parameters.

Tortoise builds a query's SQL again on every call (a QuerySet, its clones, PyPika's tree and
its rendering): on a page of 20 contracts that was more CPU than everything else the request
did. These helpers keep each statement's text per (table, shape, backend) and send only the
parameters: on PostgreSQL a whole list is one `= ANY($1)` parameter, so the text is the same
whatever the number of keys and asyncpg prepares it once per connection; on SQLite `IN (?, …)`.
Rows become model instances through Tortoise's own conversion (`_init_from_db`, what its
queries use), so callers get what a QuerySet would have given them, and the statements still
go through the connection's `execute_query` (logged, counted by the tests, traced).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from tortoise import timezone
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields import DatetimeField
from tortoise.fields.data import CharEnumFieldInstance, IntEnumFieldInstance
from tortoise.models import Model

RowT = TypeVar("RowT", bound=Model)

_texts: dict[tuple[Any, ...], str] = {}


Converter = Callable[[Any], Any]
_makers: dict[tuple[type[Model], str, bool, str], Callable[[Mapping[str, Any]], Any] | None] = {}


def _converter(field: Any, use_tz: bool, zone: Any) -> Converter:
    """The field's `to_python_value`, with shortcuts that give the same values for the common
    cases: a driver's aware datetime, an enum's stored value."""
    convert: Converter = field.to_python_value
    if isinstance(field, DatetimeField) and use_tz:

        def aware(value: Any) -> Any:
            if isinstance(value, datetime) and value.utcoffset() is not None:
                return value.astimezone(zone)
            return convert(value)

        return aware
    if isinstance(field, CharEnumFieldInstance | IntEnumFieldInstance):
        members: dict[Any, Enum] = dict(field.enum_type._value2member_map_)

        def member(value: Any) -> Any:
            try:
                return members[value]
            except (KeyError, TypeError):
                return convert(value)

        return member
    return convert


def _maker(
    model: type[Model], dialect: str, prefix: str = ""
) -> Callable[[Mapping[str, Any]], Any] | None:
    """`model._init_from_db(**row)` made per model: the same attributes and values (see
    tortoise.models.Model._init_from_db), without its per-value environment reads and loops
    (the function's text is generated from the model's fields, as dataclasses do); the row's
    columns may carry a `prefix`. None when a field name is a descriptor of the class, where
    only Tortoise's own way is right."""
    meta = model._meta
    use_tz = timezone.get_use_tz()
    key = (model, dialect, use_tz, prefix)
    if key in _makers:
        return _makers[key]
    zone = timezone.get_default_timezone()
    names = [name for _, name, _ in (*meta.db_native_fields, *meta.db_default_fields)]
    names += [name for _, name, _ in meta.db_complex_fields]
    if any(hasattr(getattr(model, name, None), "__set__") for name in names):
        _makers[key] = None
        return None
    scope: dict[str, Any] = {"new": model.__new__, "model": model}
    scope["custom_pk"] = meta.db_pk_column not in meta.generated_db_fields
    items = [
        '"_partial": False',
        '"_saved_in_db": True',
        '"_custom_generated_pk": custom_pk',
        '"_await_when_save": {}',
    ]
    for column, name, _ in meta.db_native_fields:
        items.append(f"{name!r}: row[{prefix + column!r}]")
    for index, (column, name, field) in enumerate(meta.db_default_fields):
        scope[f"typed{index}"] = field.field_type
        items.append(
            f"{name!r}: None if (value := row[{prefix + column!r}]) is None else typed{index}(value)"
        )
    for index, (column, name, field) in enumerate(meta.db_complex_fields):
        scope[f"convert{index}"] = _converter(field, use_tz, zone)
        items.append(f"{name!r}: convert{index}(row[{prefix + column!r}])")
    source = (
        "def make(row):\n"
        "    instance = new(model)\n"
        "    instance.__dict__.update({" + ", ".join(items) + "})\n"
        "    return instance\n"
    )
    exec(source, scope)  # noqa: S102 - text made from the model's own field names
    make: Callable[[Mapping[str, Any]], Any] = scope["make"]
    _makers[key] = make
    return make


def instances(
    model: type[RowT],
    rows: Iterable[Mapping[str, Any]],
    client: BaseDBAsyncClient | None = None,
    prefix: str = "",
) -> list[RowT]:
    """Model instances of rows holding every column of the model, named `prefix` + column
    (see `_maker`)."""
    make = _maker(model, (client or client_of(model)).capabilities.dialect, prefix)
    if make is not None:
        return [make(row) for row in rows]
    columns = [(prefix + column, column) for column in model._meta.fields_db_projection.values()]
    return [model._init_from_db(**{name: row[label] for label, name in columns}) for row in rows]


def client_of(model: type[Model]) -> BaseDBAsyncClient:
    return model._meta.db


def is_postgres(client: BaseDBAsyncClient) -> bool:
    return client.capabilities.dialect == "postgres"


@functools.cache
def column_list(model: type[Model], alias: str | None = None, prefix: str = "") -> str:
    """The model's columns, as `_init_from_db` reads them (optionally renamed `prefix` + name)."""
    qualifier = f'"{alias}".' if alias else ""
    return ", ".join(
        f'{qualifier}"{column}"' + (f' AS "{prefix}{column}"' if prefix else "")
        for column in model._meta.fields_db_projection.values()
    )


def order_list(order_by: Sequence[str], alias: str | None = None) -> str:
    """`("position", "-id")` as SQL."""
    qualifier = f'"{alias}".' if alias else ""
    return ", ".join(
        f'{qualifier}"{key.removeprefix("-")}" {"DESC" if key.startswith("-") else "ASC"}'
        for key in order_by
    )


def sqlite_value(value: Any) -> Any:
    # Tortoise stores UUIDs as their text on SQLite.
    return str(value) if isinstance(value, UUID) else value


def in_keys(client: BaseDBAsyncClient, keys: Sequence[Any], position: int = 1) -> str:
    """The right-hand side of `column <here>` for a list parameter starting at `position`."""
    if is_postgres(client):
        return f"= ANY(${position})"
    return f"IN ({', '.join('?' * len(keys))})" if keys else "IN (NULL)"


def list_parameters(client: BaseDBAsyncClient, keys: Sequence[Any]) -> list[Any]:
    if is_postgres(client):
        return [list(keys)]
    return [sqlite_value(key) for key in keys]


def text(key: tuple[Any, ...], make: Any) -> str:
    """The statement of this shape, made once."""
    sql = _texts.get(key)
    if sql is None:
        sql = _texts[key] = make()
    return sql


async def select_in(
    model: type[RowT],
    column: str,
    keys: Sequence[Any],
    *,
    order_by: Sequence[str] = (),
) -> list[RowT]:
    """`model.filter(<column>__in=keys).order_by(*order_by)`."""
    if not keys:
        return []
    client = client_of(model)
    postgres = is_postgres(client)
    sql = text(
        ("in", model, column, tuple(order_by), postgres, None if postgres else len(keys)),
        lambda: (
            f'SELECT {column_list(model)} FROM "{model._meta.db_table}" '
            f'WHERE "{column}" {in_keys(client, keys)}'
            + (f" ORDER BY {order_list(order_by)}" if order_by else "")
        ),
    )
    _, rows = await client.execute_query(sql, list_parameters(client, keys))
    return instances(model, rows, client)


async def select_in_joined(
    model: type[RowT],
    column: str,
    keys: Sequence[Any],
    relation: str,
    *,
    order_by: Sequence[str] = (),
) -> list[RowT]:
    """`model.filter(<column>__in=keys).select_related(relation).order_by(*order_by)`, for a
    non-null foreign key: the related row is set where Tortoise's select_related sets it."""
    if not keys:
        return []
    client = client_of(model)
    postgres = is_postgres(client)
    relation_field = model._meta.fields_map[relation]
    related: type[Model] = relation_field.related_model  # type: ignore[attr-defined]
    source = model._meta.fields_db_projection[relation_field.source_field]  # type: ignore[index]
    target = related._meta.fields_db_projection[
        getattr(relation_field, "to_field", None) or related._meta.pk_attr
    ]
    sql = text(
        (
            "joined",
            model,
            column,
            relation,
            tuple(order_by),
            postgres,
            None if postgres else len(keys),
        ),
        lambda: (
            f"SELECT {column_list(model, 'm')}, {column_list(related, 'r', 'r.')} "
            f'FROM "{model._meta.db_table}" AS "m" JOIN "{related._meta.db_table}" AS "r" '
            f'ON "r"."{target}" = "m"."{source}" WHERE "m"."{column}" {in_keys(client, keys)}'
            + (f" ORDER BY {order_list(order_by, 'm')}" if order_by else "")
        ),
    )
    _, rows = await client.execute_query(sql, list_parameters(client, keys))
    found = instances(model, rows, client)
    others = instances(related, rows, client, prefix="r.")
    for instance, other in zip(found, others, strict=True):
        object.__setattr__(instance, f"_{relation}", other)
    return found
