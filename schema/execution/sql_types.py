"""Which GraphQL types sql.py reads straight from their tables, and how each field reads.

A field is listed here only when its resolver's answer depends on nothing but the row (and rows
it links to by foreign key): no viewer, no permission, no loader with a rule of its own. Every
listed field is compared with its resolver's answer in tests/resolvers/test_sql_subtrees.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from uuid import UUID

from tortoise.models import Model

from models.contracts import orm as contracts_orm
from models.jobs import orm as jobs_orm
from models.profiles import orm as profiles_orm
from models.users.orm import User as UserRow
from resolvers.contracts.queries import EVENT_KEYS
from resolvers.errors import PublicError
from resolvers.pages import page_request_of, validated
from schema.execution.plan import ObjectPlan
from schema.execution.sql import (
    Unsupported,
    base64url_sql,
    cursor_sql,
    datetime_sql,
    json_list,
    leaf_of,
    literal,
    object_of,
)

if TYPE_CHECKING:
    from schema.execution.plan import FieldPlan
    from schema.execution.sql import Builder


class Renderer(Protocol):
    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        """The SQL expression of the field's JSON value on the row `alias`."""


@dataclass(frozen=True, slots=True)
class SqlType:
    name: str
    model: type[Model]
    # The primary key behind one of the type's Strawberry objects; None where a level of them
    # is never the top of a subtree (events are read only inside their contract's).
    key_of: Callable[[Any], UUID] | None
    fields: dict[str, Renderer] = field(default_factory=dict)


def _column(alias: str, column: str) -> str:
    return f'{alias}."{column}"'


@dataclass(frozen=True, slots=True)
class Plain:
    """A text, integer or boolean column, as the row holds it."""

    column: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        return _column(alias, self.column)


@dataclass(frozen=True, slots=True)
class Money:
    """Cents as the Decimal scalar writes them: `from_cents`, two decimals."""

    columns: Sequence[str]  # summed, the first added and the rest subtracted

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        first, *rest = (_column(alias, column) for column in self.columns)
        cents = " - ".join([first, *rest])
        return f"(round(({cents})::numeric / 100, 2))::text"


@dataclass(frozen=True, slots=True)
class DateTime:
    column: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        return datetime_sql(_column(alias, self.column))


@dataclass(frozen=True, slots=True)
class Date:
    column: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        return f"to_char({_column(alias, self.column)}, 'YYYY-MM-DD')"


@dataclass(frozen=True, slots=True)
class GlobalId:
    """`encode_global_id`: unpadded URL-safe base64 of "Type:uuid"."""

    type_name: str
    column: str = "id"

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        text = f"{literal(self.type_name + ':')} || {_column(alias, self.column)}::text"
        return base64url_sql(text)


@dataclass(frozen=True, slots=True)
class Cursor:
    """A row's cursor by these keys (`cursor_of`), as a stream's `after:` takes it."""

    model: type[Model]
    keys: Sequence[str]

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        return cursor_sql(self.model, self.keys, alias)


@dataclass(frozen=True, slots=True)
class EnumName:
    """A stored enum value as its GraphQL name."""

    column: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        names = leaf_of(field.completion).names
        if not names:
            raise Unsupported("an enum without names")
        if all(str(member.value) == name for member, name in names.items()):
            return _column(alias, self.column)  # stored as its GraphQL name
        cases = " ".join(
            f"WHEN {literal(str(member.value))} THEN {literal(name)}"
            for member, name in names.items()
        )
        return f"CASE {_column(alias, self.column)} {cases} END"


@dataclass(frozen=True, slots=True)
class Average:
    """`RatingSummary`'s averages: `rating_average` in SQL (half up to the hundredth)."""

    column: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        total, count = _column(alias, self.column), _column(alias, "rating_count")
        return (
            f"CASE WHEN {count} = 0 THEN NULL "
            f"ELSE (({total}::bigint * 200 + {count}) / (2 * {count}))::numeric / 100 END"
        )


@dataclass(frozen=True, slots=True)
class Embedded:
    """An object made of the same row's columns (a profile's `rating`)."""

    type_name: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        return builder.object(TYPES[self.type_name], object_of(field.completion), alias)


@dataclass(frozen=True, slots=True)
class Related:
    """The row a non-null foreign key points at (the database keeps it there)."""

    type_name: str
    foreign_key: str

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        target = TYPES[self.type_name]
        inner = builder.alias()
        body = builder.object(target, object_of(field.completion), inner)
        meta = target.model._meta
        return (
            f'(SELECT {body} FROM "{meta.db_table}" {inner} '
            f'WHERE {inner}."{meta.db_pk_column}" = {_column(alias, self.foreign_key)})'
        )


@dataclass(frozen=True, slots=True)
class Children:
    """Every row pointing at this one, in the loader's order (`milestones_by_contract`)."""

    type_name: str
    foreign_key: str
    order_by: Sequence[str]

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        meta, inner, body = _listed_objects(builder, self.type_name, field)
        order = ", ".join(_column(inner, column) for column in self.order_by)
        source = (
            f'"{meta.db_table}" {inner} '
            f"WHERE {_column(inner, self.foreign_key)} = {_column(alias, 'id')}"
        )
        return json_list(body, order, source)


def _listed_objects(builder: Builder, type_name: str, field: FieldPlan) -> tuple[Any, str, str]:
    """A list field's objects: their table's meta, the alias they are read under, and the
    JSON object of each (the list's selection) on that alias."""
    target = TYPES[type_name]
    inner = builder.alias()
    return (
        target.model._meta,
        inner,
        builder.object(target, object_of(field.completion, listed=True), inner),
    )


@dataclass(frozen=True, slots=True)
class Linked:
    """Rows reached through a link table, in the link's order (`skills_by_job`)."""

    type_name: str
    link: type[Model]
    link_key: str
    target_key: str
    order_by: Sequence[str]

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        link = builder.alias()
        meta, inner, body = _listed_objects(builder, self.type_name, field)
        order = ", ".join(_column(link, column) for column in self.order_by)
        # Each target by its key (an index lookup per link), not a join the planner may hash.
        target_row = (
            f'(SELECT {body} FROM "{meta.db_table}" {inner} '
            f'WHERE {inner}."{meta.db_pk_column}" = {_column(link, self.target_key)})'
        )
        source = (
            f'"{self.link._meta.db_table}" {link} '
            f"WHERE {_column(link, self.link_key)} = {_column(alias, 'id')}"
        )
        return json_list(target_row, order, source)


@dataclass(frozen=True, slots=True)
class FirstPage:
    """A nested connection's first page (`nested_connections` without a cursor): `edges`
    with their `node` and `cursor`; anything else about the page is completed in Python."""

    type_name: str
    foreign_key: str
    keys: Sequence[str]

    def sql(self, builder: Builder, field: FieldPlan, alias: str, arguments: dict[str, Any]) -> str:
        try:
            request = validated(page_request_of(arguments))
        except PublicError as error:  # the resolver reports it
            raise Unsupported("a page request the resolver refuses") from error
        if request.first is None or request.after is not None or request.before is not None:
            raise Unsupported("a page other than the first")
        target = TYPES[self.type_name]
        connection = object_of(field.completion)
        parts: list[str] = []
        for edges in connection.fields:
            parts.append(literal(edges.key))
            if edges.typename is not None:
                parts.append(literal(edges.typename))
                continue
            if edges.details[0].node.name.value != "edges":  # pageInfo, totalCount, nodes
                raise Unsupported("a connection field other than edges")
            edge = object_of(edges.completion, listed=True)
            parts.append(self._edges(builder, target, edge, alias, request.first))
        return f"json_build_object({', '.join(parts)})"

    def _edges(
        self, builder: Builder, target: SqlType, edge: ObjectPlan, alias: str, size: int
    ) -> str:
        inner = builder.alias()
        parts: list[str] = []
        for node in edge.fields:
            parts.append(literal(node.key))
            if node.typename is not None:
                parts.append(literal(node.typename))
                continue
            if node.details[0].node.name.value == "cursor":
                parts.append(cursor_sql(target.model, self.keys, inner))
                continue
            parts.append(builder.object(target, object_of(node.completion), inner))
        body = f"json_build_object({', '.join(parts)})"
        meta = target.model._meta
        order = ", ".join(f'"{key}"' for key in self.keys)
        inner_order = ", ".join(_column(inner, key) for key in self.keys)
        page = (
            f'SELECT * FROM "{meta.db_table}" WHERE "{self.foreign_key}" = {_column(alias, "id")} '
            f"ORDER BY {order} LIMIT {int(size)}"
        )
        return json_list(body, inner_order, f"({page}) {inner}")


def _row_key(value: Any) -> UUID:
    return value.row.id  # type: ignore[no-any-return]


def _pk(value: Any) -> UUID:
    return value.pk  # type: ignore[no-any-return]


_RATING: dict[str, Renderer] = {
    "count": Plain("rating_count"),
    "overall": Average("rating_overall_sum"),
    "communication": Average("rating_communication_sum"),
    "quality": Average("rating_quality_sum"),
    "deadlines": Average("rating_deadlines_sum"),
}


def _types() -> dict[str, SqlType]:
    contract = contracts_orm
    types = [
        SqlType(
            "Contract",
            contract.Contract,
            _row_key,
            {
                "id": GlobalId("Contract"),
                "title": Plain("title"),
                "terms": Plain("terms"),
                "contractType": EnumName("contract_type"),
                "currency": Plain("currency"),
                "hourlyRate": Money(("hourly_rate_cents",)),
                "weeklyLimitHours": Plain("weekly_limit_hours"),
                "deadline": Date("deadline"),
                "status": EnumName("status"),
                "escrowAmount": Money(("funded_cents", "paid_cents", "refunded_cents")),
                "paidAmount": Money(("paid_cents",)),
                "offerExpiresAt": DateTime("offer_expires_at"),
                "reviewDeadline": DateTime("review_deadline"),
                "offeredAt": DateTime("created_at"),
                "startedAt": DateTime("started_at"),
                "endedAt": DateTime("ended_at"),
                "job": Related("Job", "job_id"),
                "client": Related("ClientProfile", "client_id"),
                "freelancer": Related("FreelancerProfile", "freelancer_id"),
                "milestones": Children("Milestone", "contract_id", ("position",)),
                "events": FirstPage("ContractEvent", "contract_id", EVENT_KEYS),
            },
        ),
        SqlType(
            "Milestone",
            contract.Milestone,
            _pk,
            {
                "id": GlobalId("Milestone"),
                "position": Plain("position"),
                "title": Plain("title"),
                "description": Plain("description"),
                "amount": Money(("amount_cents",)),
                "dueDate": Date("due_date"),
                "status": EnumName("status"),
                "autoReleaseAt": DateTime("auto_release_at"),
                "fundedAt": DateTime("funded_at"),
                "submittedAt": DateTime("submitted_at"),
                "paidAt": DateTime("paid_at"),
                "updatedAt": DateTime("updated_at"),
            },
        ),
        SqlType(
            "ContractEvent",
            contract.ContractEvent,
            None,
            {
                "id": GlobalId("ContractEvent", "public_id"),
                "kind": EnumName("kind"),
                "status": EnumName("status"),
                "createdAt": DateTime("created_at"),
                "cursor": Cursor(contract.ContractEvent, EVENT_KEYS),
            },
        ),
        SqlType(
            "FreelancerProfile",
            profiles_orm.FreelancerProfile,
            _pk,
            {
                "id": GlobalId("FreelancerProfile"),
                "title": Plain("title"),
                "overview": Plain("overview"),
                "hourlyRate": Money(("hourly_rate_cents",)),
                "location": Plain("location"),
                "availability": EnumName("availability"),
                "createdAt": DateTime("created_at"),
                "user": Related("User", "user_id"),
                "rating": Embedded("RatingSummary"),
            },
        ),
        SqlType(
            "ClientProfile",
            profiles_orm.ClientProfile,
            _pk,
            {
                "id": GlobalId("ClientProfile"),
                "companyName": Plain("company_name"),
                "description": Plain("description"),
                "website": Plain("website"),
                "location": Plain("location"),
                "createdAt": DateTime("created_at"),
                "user": Related("User", "user_id"),
                "rating": Embedded("RatingSummary"),
            },
        ),
        SqlType("RatingSummary", profiles_orm.FreelancerProfile, None, dict(_RATING)),
        SqlType(
            "User",
            UserRow,
            _pk,
            {
                "id": GlobalId("User"),
                "displayName": Plain("display_name"),
                "isStaff": Plain("is_staff"),
                "createdAt": DateTime("created_at"),
            },
        ),
        SqlType(
            "Job",
            jobs_orm.Job,
            _pk,
            {
                "id": GlobalId("Job"),
                "title": Plain("title"),
                "description": Plain("description"),
                "budgetType": EnumName("budget_type"),
                "budget": Money(("budget_cents",)),
                "hourlyRateMin": Money(("hourly_rate_min_cents",)),
                "hourlyRateMax": Money(("hourly_rate_max_cents",)),
                "deadline": Date("deadline"),
                "experienceLevel": EnumName("experience_level"),
                "visibility": EnumName("visibility"),
                "status": EnumName("status"),
                "connectsRequired": Plain("connects_required"),
                "proposalCount": Plain("proposal_count"),
                "createdAt": DateTime("created_at"),
                "updatedAt": DateTime("updated_at"),
                "client": Related("ClientProfile", "client_id"),
                "skills": Linked("Skill", jobs_orm.JobSkill, "job_id", "skill_id", ("position",)),
            },
        ),
        SqlType(
            "Skill",
            profiles_orm.Skill,
            _pk,
            {"id": GlobalId("Skill"), "name": Plain("name"), "slug": Plain("slug")},
        ),
    ]
    return {sql_type.name: sql_type for sql_type in types}


TYPES: dict[str, SqlType] = _types()
