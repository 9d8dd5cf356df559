"""A query operation compiled for the batch executor: per selection set, the fields to resolve
and how to complete their values.

Fields are collected by graphql-core's own `collect_fields`/`collect_subfields` (fragments,
inline fragments, @include/@skip with the request's variables, aliases merged by response key),
so the plan has the keys, and their order, that graphql-core's execution would produce. What
the batch executor cannot answer exactly as graphql-core would raises `Unsupported` here.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from inspect import isawaitable
from operator import attrgetter
from typing import Any, TypeAlias

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLString,
    Visitor,
    visit,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    GroupedFieldSet,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.language import OperationType
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

from schema.execution.argument_values import ArgumentValues, compile_argument_values
from schema.execution.arguments import Unsupported as ArgumentsUnsupported
from schema.execution.arguments import compile_arguments
from schema.execution.batch import BatchResolver, PageStatement, batch_for, page_statement_for

DEFINITION = "strawberry-definition"
MAX_INT = 2**31 - 1
MIN_INT = -(2**31)


class Unsupported(Exception):
    """The batch executor does not answer this operation; graphql-core does."""


@dataclass(slots=True)
class Leaf:
    """A scalar or an enum: `coerce` is graphql-core's own; `passes` tells the values it would
    return unchanged, and `names` maps enum members to their GraphQL names."""

    coerce: Callable[[Any], Any]
    passes: Callable[[Any], bool] | None = None
    names: dict[Any, str] | None = None
    enum: type | None = None


@dataclass(slots=True)
class NonNull:
    of: Completion


@dataclass(slots=True)
class ListOf:
    of: Completion


@dataclass(slots=True)
class FieldPlan:
    key: str
    field_def: GraphQLField
    details: FieldDetailsList
    completion: Completion
    # One of the three ways to get the values: an attribute, the parent type's name, a batch.
    attribute: Callable[[Any], Any] | None = None
    typename: str | None = None
    batch: BatchResolver | None = None
    strawberry_field: StrawberryField | None = None
    has_arguments: bool = False
    # Arguments written as literals, converted once (only when every value is immutable).
    static_arguments: dict[str, Any] | None = None
    # A connection whose page sql.py can answer in one statement: how to get the statement,
    # and (once tried) the compiled answer, False where the selection is not all SQL.
    page_statement: PageStatement | None = None
    sql_page: Any = None
    # The arguments' conversion compiled for this field (arguments.py), where it can be.
    convert: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Arguments holding variables, their literals coerced once (argument_values.py).
    argument_values: ArgumentValues | None = None


@dataclass(slots=True)
class ObjectPlan:
    type: GraphQLObjectType
    is_type_of: Callable[[Any, Any], Any] | None
    fields: list[FieldPlan] = field(default_factory=list)
    keys: tuple[str, ...] = ()
    # The selection as one SQL statement (sql.py): None until tried, False where unsupported.
    subtree: Any = None


Completion: TypeAlias = Leaf | NonNull | ListOf | ObjectPlan


def _is_int(value: Any) -> bool:
    return type(value) is int and MIN_INT <= value <= MAX_INT


def _is_float(value: Any) -> bool:
    return type(value) is float and math.isfinite(value)


# Values graphql-core's built-in scalars return as they are (checked in graphql/type/scalars.py).
_PASSES: dict[str, Callable[[Any], bool]] = {
    GraphQLString.name: lambda value: type(value) is str,
    GraphQLID.name: lambda value: type(value) is str,
    GraphQLBoolean.name: lambda value: type(value) is bool,
    GraphQLInt.name: _is_int,
    GraphQLFloat.name: _is_float,
}
_BUILT_IN = {
    GraphQLString.name: GraphQLString,
    GraphQLID.name: GraphQLID,
    GraphQLBoolean.name: GraphQLBoolean,
    GraphQLInt.name: GraphQLInt,
    GraphQLFloat.name: GraphQLFloat,
}


def _enum_names(enum_type: GraphQLEnumType) -> dict[Any, str] | None:
    """Each member of the Python enum behind a Strawberry enum type, with the name Strawberry's
    `coerce_output_value` gives it (the first GraphQL value whose value equals the member's)."""
    wrapped = getattr(enum_type, "wrapped_cls", None)
    if not (isinstance(wrapped, type) and issubclass(wrapped, Enum)):
        return None
    names: dict[Any, str] = {}
    for member in wrapped:
        for name, value in enum_type.values.items():
            if member.value == value.value:
                names[member] = name
                break
    return names


def _per_parent(strawberry_field: StrawberryField) -> BatchResolver | None:
    """A resolver that takes no `info` can depend only on its parent and arguments: it is called
    once per parent as Strawberry would call it (awaitables gathered, as graphql-core runs them
    side by side)."""
    resolver = strawberry_field.base_resolver
    if resolver is None or resolver.info_parameter is not None:
        return None
    wrapped = resolver.wrapped_func
    if not callable(wrapped):
        return None
    function: Callable[..., Any] = wrapped
    takes_self = resolver.self_parameter is not None
    parent_parameter = resolver.parent_parameter or resolver.root_parameter
    parent_name = parent_parameter.name if parent_parameter is not None else None

    def batch(parents: Sequence[Any], arguments: dict[str, Any], context: Any) -> Any:
        if parent_name is not None:
            values = [function(**arguments, **{parent_name: parent}) for parent in parents]
        elif takes_self:
            values = [function(parent, **arguments) for parent in parents]
        else:
            values = [function(**arguments) for _ in parents]
        if any(isawaitable(value) for value in values):
            return _gathered(values)
        return values

    return batch


async def _gathered(values: list[Any]) -> list[Any]:
    awaited = iter(await asyncio.gather(*(v for v in values if isawaitable(v))))
    return [next(awaited) if isawaitable(value) else value for value in values]


_IMMUTABLE = (type(None), bool, int, float, str, Enum, Decimal)


class _Variables(Visitor):
    found = False

    def enter_variable(self, *_: Any) -> None:
        self.found = True


class Compiler:
    """Compiles one operation with the executor's fragments and variables (only @include and
    @skip depend on those; the cache key says which)."""

    def __init__(self, executor: Any) -> None:
        self.executor = executor
        self.schema = executor.schema
        strawberry_schema = self.schema._strawberry_schema
        if strawberry_schema.exception_handlers:
            raise Unsupported("the schema has exception handlers")

    def operation(self) -> ObjectPlan:
        executor = self.executor
        operation = executor.operation
        if operation.operation is not OperationType.QUERY:
            raise Unsupported("not a query")
        root = self.schema.query_type
        if root is None:
            raise Unsupported("no query type")
        collected = collect_fields(
            self.schema,
            executor.fragments,
            executor.variable_values,
            root,
            operation,
            executor.hide_suggestions,
        )
        if collected.new_defer_usages or collected.forbidden_directive_instances:
            raise Unsupported("@defer or @stream")
        return self.object(root, collected.grouped_field_set)

    def object(self, object_type: GraphQLObjectType, grouped: GroupedFieldSet) -> ObjectPlan:
        plan = ObjectPlan(type=object_type, is_type_of=object_type.is_type_of)
        for key, details in grouped.items():
            if any(d.defer_usage is not None or d.fragment_variable_values for d in details):
                raise Unsupported("@defer or fragment arguments")
            name = details[0].node.name.value
            if name == "__typename":
                plan.fields.append(
                    FieldPlan(
                        key=key,
                        field_def=self.schema.get_field(object_type, name),
                        details=details,
                        completion=NonNull(Leaf(GraphQLString.coerce_output_value)),
                        typename=object_type.name,
                    )
                )
                continue
            if name.startswith("__"):
                raise Unsupported(f"introspection field {name}")
            field_def = self.schema.get_field(object_type, name)
            if field_def is None:
                continue  # graphql-core leaves it out too
            plan.fields.append(self.field(object_type, key, name, field_def, details))
        plan.keys = tuple(f.key for f in plan.fields)
        return plan

    def field(
        self,
        object_type: GraphQLObjectType,
        key: str,
        name: str,
        field_def: GraphQLField,
        details: FieldDetailsList,
    ) -> FieldPlan:
        where = f"{object_type.name}.{name}"
        strawberry_field = field_def.extensions.get(DEFINITION)
        if not isinstance(strawberry_field, StrawberryField):
            raise Unsupported(f"{where} is not a Strawberry field")
        if strawberry_field.extensions:
            raise Unsupported(f"{where} has field extensions (permissions)")
        plan = FieldPlan(
            key=key,
            field_def=field_def,
            details=details,
            completion=self.completion(field_def.type, details, where),
            strawberry_field=strawberry_field,
            has_arguments=bool(field_def.args or details[0].node.arguments),
        )
        if plan.has_arguments:
            plan.static_arguments = self.static_arguments(plan)
            if plan.static_arguments is None:
                plan.convert = self.converter(strawberry_field)
            if plan.static_arguments is None and plan.convert is not None:
                # Only with the compiled conversion, which copies the literals it is given
                # into the resolver's own objects: the coerced ones are shared by requests.
                executor = self.executor
                plan.argument_values = compile_argument_values(
                    field_def, details[0].node, executor.variable_values, executor.hide_suggestions
                )
        resolver = strawberry_field.base_resolver
        if resolver is None:
            if strawberry_field.default_resolver is not getattr:
                raise Unsupported(f"{where} has a default resolver of its own")
            plan.attribute = attrgetter(strawberry_field.python_name)
            return plan
        wrapped = resolver.wrapped_func
        batch = (batch_for(wrapped) if callable(wrapped) else None) or _per_parent(strawberry_field)
        if batch is None:
            raise Unsupported(f"{where} has no batch resolver")
        plan.batch = batch
        if callable(wrapped):
            plan.page_statement = page_statement_for(wrapped)
        return plan

    def converter(
        self, strawberry_field: StrawberryField
    ) -> Callable[[dict[str, Any]], dict[str, Any]] | None:
        converter = self.schema._strawberry_schema.schema_converter
        try:
            return compile_arguments(
                strawberry_field.arguments, converter.scalar_registry, converter.config
            )
        except ArgumentsUnsupported:
            return None

    def static_arguments(self, plan: FieldPlan) -> dict[str, Any] | None:
        node = plan.details[0].node
        finder = _Variables()
        for argument in node.arguments or ():
            visit(argument, finder)
        if finder.found:
            return None
        executor = self.executor
        strawberry_schema = self.schema._strawberry_schema
        assert plan.strawberry_field is not None
        try:
            raw = get_argument_values(
                plan.field_def, node, executor.variable_values, None, executor.hide_suggestions
            )
            converted = convert_arguments(
                raw,
                plan.strawberry_field.arguments,
                scalar_registry=strawberry_schema.schema_converter.scalar_registry,
                config=strawberry_schema.config,
            )
        except Exception:  # noqa: BLE001 - converted per request, where it fails as usual
            return None
        if not all(isinstance(value, _IMMUTABLE) for value in converted.values()):
            return None
        return converted

    def completion(
        self, output_type: GraphQLOutputType, details: FieldDetailsList, where: str
    ) -> Completion:
        if isinstance(output_type, GraphQLNonNull):
            return NonNull(self.completion(output_type.of_type, details, where))
        if isinstance(output_type, GraphQLList):
            return ListOf(self.completion(output_type.of_type, details, where))
        if isinstance(output_type, GraphQLEnumType):
            names = _enum_names(output_type)
            return Leaf(
                output_type.coerce_output_value,
                names=names,
                enum=getattr(output_type, "wrapped_cls", None) if names is not None else None,
            )
        if isinstance(output_type, GraphQLScalarType):
            passes = (
                _PASSES.get(output_type.name)
                if _BUILT_IN.get(output_type.name) is output_type
                else None
            )
            return Leaf(output_type.coerce_output_value, passes=passes)
        if isinstance(output_type, GraphQLObjectType):
            executor = self.executor
            collected = collect_subfields(
                self.schema,
                executor.fragments,
                executor.variable_values,
                executor.operation,
                output_type,
                details,
                executor.hide_suggestions,
            )
            if collected.new_defer_usages or collected.forbidden_directive_instances:
                raise Unsupported("@defer or @stream")
            return self.object(output_type, collected.grouped_field_set)
        raise Unsupported(f"{where} returns an interface or a union")
