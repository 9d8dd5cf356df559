"""Subtrees of a query answered by PostgreSQL itself, as JSON, in one statement.

The batch executor (executor.py) completes a level of objects in Python: rows become model
instances, then Strawberry objects, then dicts, with a DataLoader round per relation. For a
page of contracts with their freelancer, milestones and events that is most of a request's CPU,
while a hand-written endpoint just reads the columns. When every field selected below a list
of objects is one that sql_types.py knows how to read from a table, the executor instead sends
one statement that builds that whole subtree with `json_build_object`/`json_agg`, for all the
objects of the level at once (`unnest($1) WITH ORDINALITY` keeps their order), and loads the
answer with orjson: the same dicts, keys in the same order, values equal to what the fields'
resolvers return (tests/resolvers/test_sql_subtrees.py compares both ways on every mapped
field).

Only what it answers exactly is compiled (`Unsupported` otherwise, and the level is completed in
Python as before): registered types, their registered fields, arguments written in the document
(no variables), and only on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from models.rows import client_of, is_postgres

if TYPE_CHECKING:
    from schema.execution.plan import FieldPlan, ObjectPlan
    from schema.execution.sql_types import SqlType


class Unsupported(Exception):
    """This selection is completed in Python."""


@dataclass(frozen=True, slots=True)
class Subtree:
    """A level's selection as one statement: its parents' keys go in as `$1`."""

    sql_type: SqlType
    statement: str

    async def answer(self, parents: Sequence[Any]) -> list[Any]:
        key_of = self.sql_type.key_of
        assert key_of is not None
        keys = [key_of(parent) for parent in parents]
        client = client_of(self.sql_type.model)
        _, records = await client.execute_query(self.statement, [keys])
        answered: list[Any] = orjson.loads(records[0]["answer"])
        if len(answered) != len(keys):
            # A row went away between the page and this statement: Python answers as usual.
            raise LookupError("a row of the level is gone")
        return answered


class Builder:
    """Writes the SQL of one subtree; table aliases are numbered within the statement."""

    def __init__(self) -> None:
        self.aliases = 0

    def alias(self) -> str:
        self.aliases += 1
        return f"t{self.aliases}"

    def object(self, sql_type: SqlType, plan: ObjectPlan, alias: str) -> str:
        """`json_build_object` of the plan's fields on the row `alias` of the type's table."""
        if plan.type.name != sql_type.name:
            raise Unsupported(f"{plan.type.name} is not {sql_type.name}")
        pairs: list[str] = []
        for field in plan.fields:
            pairs.append(literal(field.key))
            pairs.append(self.field(sql_type, field, alias))
        if not pairs:
            return "json_build_object()"
        if len(pairs) > 100:  # json_build_object takes at most 100 arguments
            raise Unsupported("more than 50 fields in one selection")
        return f"json_build_object({', '.join(pairs)})"

    def field(self, sql_type: SqlType, field: FieldPlan, alias: str) -> str:
        if field.typename is not None:
            return literal(field.typename)
        name = field.details[0].node.name.value
        renderer = sql_type.fields.get(name)
        if renderer is None:
            raise Unsupported(f"{sql_type.name}.{name} is not read in SQL")
        arguments: dict[str, Any] = {}
        if field.has_arguments:
            if field.static_arguments is None:
                raise Unsupported(f"{sql_type.name}.{name} takes variables")
            arguments = field.static_arguments
        return str(renderer.sql(self, field, alias, arguments))


def literal(value: str) -> str:
    """A SQL string literal of text written in our code or the document's (keys, names)."""
    return "'" + value.replace("'", "''") + "'"


def compile_subtree(sql_type: SqlType, plan: ObjectPlan) -> Subtree:
    """The statement answering `plan` for a list of the type's rows, or Unsupported."""
    if sql_type.key_of is None:
        raise Unsupported(f"{sql_type.name} is read only inside another type")
    if not is_postgres(client_of(sql_type.model)):
        raise Unsupported("not PostgreSQL")
    builder = Builder()
    alias = builder.alias()
    body = builder.object(sql_type, plan, alias)
    table = sql_type.model._meta.db_table
    pk = sql_type.model._meta.db_pk_column
    statement = (
        f"SELECT coalesce(json_agg({body} ORDER BY keys.position), '[]'::json)::text AS answer "
        f"FROM unnest($1::uuid[]) WITH ORDINALITY AS keys(key, position) "
        f'JOIN "{table}" {alias} ON {alias}."{pk}" = keys.key'
    )
    return Subtree(sql_type, statement)
