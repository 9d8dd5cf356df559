"""Reads answered by PostgreSQL itself, as JSON, in one statement.

The batch executor (executor.py) completes a level of objects in Python: rows become model
instances, then Strawberry objects, then dicts, with a DataLoader round per relation. For a
page of contracts with their freelancer, milestones and events that was most of a request's
CPU, while a hand-written endpoint just reads the columns. Two shapes are written in SQL
instead, from the mappings of sql_types.py:

- a subtree (`Subtree`): when every field selected below a list of objects is mapped, one
  statement builds the whole subtree with `json_build_object`/`json_agg` for all the objects of
  the level at once (`unnest($1) WITH ORDINALITY` keeps their order);
- a page (`PageSelection`): when a connection's selection is its nodes, cursors, `pageInfo`
  and `__typename`s, with mapped nodes, and its resolver's page is a first page of a
  filter in SQL (models.pagination.FirstPageQuery, the statement `paginate` runs), one statement
  around that one writes the whole connection.

The answer is decoded with orjson: the same dicts, keys in the same order, values equal to what
the fields' resolvers return (tests/resolvers/test_sql_subtrees.py compares both ways on every
mapped field). Only what it answers exactly is compiled (`Unsupported` otherwise, and that
level is completed in Python as before): registered types, their registered fields, arguments
written in the document (no variables), and only on PostgreSQL.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson
from tortoise.fields import BigIntField, DatetimeField, IntField, SmallIntField, UUIDField
from tortoise.models import Model

from models.pagination import FirstPageQuery
from models.rows import client_of, is_postgres, order_list
from schema.execution.plan import Completion, FieldPlan, Leaf, ListOf, NonNull, ObjectPlan

if TYPE_CHECKING:
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


# ------------------------------------------------------------------ a connection's page

# What each key of a connection's layout holds: the shown rows' nodes (NODES) or edges (EDGES,
# whose layout holds a NODE and a CURSOR of the row), pageInfo's parts, a __typename.
NODES, NODE, CURSOR, EDGES, PAGE_INFO = "nodes", "node", "cursor", "edges", "page-info"
TYPENAME, HAS_NEXT, HAS_PREVIOUS, START, END = (
    "typename",
    "has-next",
    "has-previous",
    "start",
    "end",
)


@dataclass(slots=True)
class PageSelection:
    """A connection field whose selection is its nodes (through `edges { node }` or `nodes`),
    cursors, `pageInfo` (but `totalCount`) and `__typename`s, with every node selection
    read in SQL: answered, page and nodes, by one statement around the resolver's own page
    statement (models.pagination.FirstPageQuery), which writes the connection's whole JSON.
    `layout` is the connection's selection; `bodies` the node selections' SQL on alias t1."""

    sql_type: SqlType
    bodies: tuple[str, ...]
    layout: tuple[tuple[str, Any], ...]
    statements: dict[tuple[int, tuple[str, ...], bool, bool], str] = dataclasses.field(
        default_factory=dict
    )

    async def answer(self, query: Any) -> dict[str, Any] | None:
        """The connection's completed value, or None when this page is not one we answer."""
        if not isinstance(query, FirstPageQuery) or query.model is not self.sql_type.model:
            return None
        if not query.forward:
            return None
        client = client_of(query.model)
        page_sql, parameters = query.statement(postgres=True)
        try:
            statement = self.statement(page_sql, query)
        except Unsupported:
            return None  # cursors of keys we do not write in SQL
        _, records = await client.execute_query(statement, parameters)
        # Decoded, not passed on as text: PostgreSQL writes JSON with other spacing and
        # numbers ("3.0000000000000000"), and the answer's bytes are the resolvers' own.
        answered: dict[str, Any] = orjson.loads(records[0]["answer"])
        return answered

    def statement(self, page_sql: str, query: FirstPageQuery[Any]) -> str:
        """The resolver's page statement, then the connection written from its rows. The
        second part depends only on the page's size and order (a few per field), so it is
        made once each; the first may hold a search's words, so it is never kept."""
        after = query.after is not None
        key = (query.size, query.keys, query.ascending_in_query, after)
        rest = self.statements.get(key)
        if rest is None:
            parts = _PageParts(
                order=order_list(query.order(), alias="t1"),
                reverse=order_list([_reversed(key) for key in query.order()], alias="t1"),
                size=int(query.size),
                cursor=lambda: cursor_sql(query.model, query.keys, "t1"),
                after=after,
            )
            connection = self._object(self.layout, parts)
            # The page statement fetches one row past the page, which only tells there is more.
            rest = self.statements[key] = (
                f"), shown AS (SELECT * FROM page ORDER BY {order_list(query.order())} "
                f"LIMIT {int(query.size)}) SELECT {connection}::text AS answer"
            )
        return f"WITH page AS ({page_sql}{rest}"

    def _object(self, layout: tuple[tuple[str, Any], ...], parts: _PageParts) -> str:
        pairs: list[str] = []
        for key, (kind, detail) in layout:
            pairs.append(literal(key))
            if kind == TYPENAME:
                pairs.append(literal(detail))
            elif kind == NODES:
                pairs.append(self._rows(self.bodies[detail], parts.order))
            elif kind == EDGES:
                pairs.append(self._rows(self._object(detail, parts), parts.order))
            elif kind == NODE:  # an edge's, on the shown row t1
                pairs.append(self.bodies[detail])
            elif kind == CURSOR:
                pairs.append(parts.cursor())
            elif kind == HAS_NEXT:
                pairs.append(f"((SELECT count(*) FROM page) > {parts.size})")
            elif kind == HAS_PREVIOUS:
                pairs.append("true" if parts.after else "false")  # as paginate has it
            elif kind in (START, END):
                order = parts.order if kind == START else parts.reverse
                pairs.append(f"(SELECT {parts.cursor()} FROM shown t1 ORDER BY {order} LIMIT 1)")
            else:  # PAGE_INFO
                pairs.append(self._object(detail, parts))
        return f"json_build_object({', '.join(pairs)})"

    def _rows(self, body: str, order: str) -> str:
        return json_list(body, order, "shown t1")


def compile_page(types: dict[str, SqlType], field: FieldPlan) -> PageSelection:
    """The connection field's selection as a PageSelection, or Unsupported."""
    connection = object_of(field.completion)
    builder = Builder()
    alias = builder.alias()
    bodies: list[str] = []
    found: list[SqlType] = []

    def node(completion: Completion, *, listed: bool = False) -> int:
        plan = object_of(completion, listed=listed)
        sql_type = types.get(plan.type.name)
        if sql_type is None:
            raise Unsupported(f"{plan.type.name} has no table")
        found.append(sql_type)
        bodies.append(builder.object(sql_type, plan, alias))
        return len(bodies) - 1

    layout: list[tuple[str, Any]] = []
    for part in connection.fields:
        name = part.details[0].node.name.value
        if part.typename is not None:
            layout.append((part.key, (TYPENAME, part.typename)))
        elif name == "nodes":
            layout.append((part.key, (NODES, node(part.completion, listed=True))))
        elif name == "edges":
            edge: list[tuple[str, Any]] = []
            for inner in object_of(part.completion, listed=True).fields:
                if inner.typename is not None:
                    edge.append((inner.key, (TYPENAME, inner.typename)))
                elif inner.details[0].node.name.value == "node":
                    edge.append((inner.key, (NODE, node(inner.completion))))
                else:  # its cursor
                    edge.append((inner.key, (CURSOR, None)))
            layout.append((part.key, (EDGES, tuple(edge))))
        elif name == "pageInfo":
            info: list[tuple[str, Any]] = []
            for inner in object_of(part.completion).fields:
                inner_name = inner.details[0].node.name.value
                if inner.typename is not None:
                    info.append((inner.key, (TYPENAME, inner.typename)))
                elif inner_name == "hasNextPage":
                    info.append((inner.key, (HAS_NEXT, None)))
                elif inner_name == "hasPreviousPage":
                    info.append((inner.key, (HAS_PREVIOUS, None)))
                elif inner_name in ("startCursor", "endCursor"):
                    info.append((inner.key, (START if inner_name == "startCursor" else END, None)))
                else:
                    raise Unsupported(f"pageInfo.{inner_name}")
            layout.append((part.key, (PAGE_INFO, tuple(info))))
        else:
            raise Unsupported(f"connection field {name}")
    if not found or any(sql_type is not found[0] for sql_type in found):
        raise Unsupported("no nodes, or nodes of several types")
    if not is_postgres(client_of(found[0].model)):
        raise Unsupported("not PostgreSQL")
    return PageSelection(found[0], tuple(bodies), tuple(layout))


@dataclass(frozen=True, slots=True)
class _PageParts:
    order: str
    reverse: str
    size: int
    cursor: Callable[[], str]
    after: bool


def _reversed(key: str) -> str:
    return key.removeprefix("-") if key.startswith("-") else f"-{key}"


# Python's isoformat of an aware UTC datetime: microseconds only when there are some (the
# text has no other ".000000" to replace).
_DATETIME = (
    "(replace(to_char({0} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') "
    "|| '+00:00')"
)


def datetime_sql(column: str) -> str:
    return _DATETIME.format(column)


def base64url_sql(text: str) -> str:
    """Unpadded URL-safe base64 of ASCII text, as Python's `urlsafe_b64encode(...).rstrip("=")`
    (PostgreSQL breaks lines every 76 characters: the newlines go with the rest)."""
    encoded = f"translate(encode(convert_to({text}, 'UTF8'), 'base64'), E'+/\\n', '-_')"
    return f"rtrim({encoded}, '=')"


def cursor_sql(model: type[Model], keys: Sequence[str], alias: str) -> str:
    """`models.pagination.encode_cursor` of the row `alias`: orjson's compact text of the
    tagged key values, in base64. Keys other than datetimes, UUIDs and integers: Unsupported."""
    tagged: list[str] = []
    for key in keys:
        field = model._meta.fields_map.get(key)
        column = f'{alias}."{key}"'
        if isinstance(field, DatetimeField):
            tagged.append(f"""'["d","' || {datetime_sql(column)} || '"]'""")
        elif isinstance(field, UUIDField):
            tagged.append(f"""'["u","' || {column}::text || '"]'""")
        elif isinstance(field, IntField | BigIntField | SmallIntField):
            tagged.append(f"""'["i",' || {column}::text || ']'""")
        else:
            raise Unsupported(f"a cursor of {key}")
    joined = " || ',' || ".join(tagged)
    return base64url_sql(f"'[' || {joined} || ']'")


def json_list(body: str, order: str, source: str) -> str:
    """The JSON array of `body` over the rows of `source`, in `order` ([] when none)."""
    return f"(SELECT coalesce(json_agg({body} ORDER BY {order}), '[]'::json) FROM {source})"


def leaf_of(completion: Completion) -> Leaf:
    while isinstance(completion, NonNull):
        completion = completion.of
    if not isinstance(completion, Leaf):
        raise Unsupported("not a leaf")
    return completion


def object_of(completion: Completion, *, listed: bool = False) -> ObjectPlan:
    """The object plan of a field's completion (of its items, when `listed`)."""
    if isinstance(completion, NonNull):
        completion = completion.of
    if listed:
        if not isinstance(completion, ListOf):
            raise Unsupported("not a list")
        completion = completion.of
        if isinstance(completion, NonNull):
            completion = completion.of
    if not isinstance(completion, ObjectPlan):
        raise Unsupported("not an object")
    return completion
