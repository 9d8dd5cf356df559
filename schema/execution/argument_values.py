"""graphql-core's `get_argument_values` for a field whose arguments hold variables, with the
coercion of its literals done once per field of a document.

graphql-core coerces every argument literal on every request, walking the input types as it
goes: for the job search's `jobs(first: 20, filter: {query: $query})` that was a twentieth of
the request's server CPU. A variable's value is already coerced when the operation starts, and
coerce_input_literal hands it over as it is wherever it stands (an argument, an input object's
field, a list's item). So the arguments are coerced once with a placeholder standing for each
variable, and each request puts its variables' values where the placeholders are.

Only where that is exactly what graphql-core would answer: every variable given and not null
(a missing one takes a default, a null one may be an error: graphql-core decides those), and
no variable inside the literal of a scalar (which coerces the whole literal itself). Otherwise
the field is coerced by graphql-core as usual. tests/resolvers/test_argument_values.py compares
both.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphql import (
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    ListValueNode,
    ObjectValueNode,
    ValueNode,
    VariableNode,
    Visitor,
    visit,
)
from graphql.execution.values import VariableValues, get_argument_values
from graphql.language import FieldNode
from graphql.pyutils import Undefined

ArgumentValues = Callable[[VariableValues], "dict[str, Any] | None"]
_Fill = Callable[[dict[str, Any]], Any]


class _Placeholder:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name


class _Names(Visitor):
    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def enter_variable(self, node: VariableNode, *_: Any) -> None:
        if node.name.value not in self.names:
            self.names.append(node.name.value)


def compile_argument_values(
    field_def: GraphQLField,
    node: FieldNode,
    variable_values: VariableValues,
    hide_suggestions: bool,
) -> ArgumentValues | None:
    """A function of a request's variables answering `get_argument_values` for `node`, or
    None (per request) where graphql-core must; None here when the field never can."""
    finder = _Names()
    for argument in node.arguments or ():
        visit(argument, finder)
    names = tuple(finder.names)
    if not names:
        return None
    for argument in node.arguments or ():
        definition = field_def.args.get(argument.name.value)
        if definition is None or not _handed_over(argument.value, definition.type):
            return None
    placeholders = {name: _Placeholder(name) for name in names}
    try:
        template = get_argument_values(
            field_def,
            node,
            VariableValues(variable_values.sources, dict(placeholders)),
            None,
            hide_suggestions,
        )
    except Exception:  # noqa: BLE001 - graphql-core reports it per request, as always
        return None
    found: set[str] = set()
    fill, _ = _filler(template, found)
    if found != set(names):
        return None  # a placeholder went where we cannot see it (an input's out_type)

    def argument_values(request_variables: VariableValues) -> dict[str, Any] | None:
        coerced = request_variables.coerced
        given: dict[str, Any] = {}
        for name in names:
            value = coerced.get(name, Undefined)
            if value is None or value is Undefined:
                return None
            given[name] = value
        filled: dict[str, Any] = fill(given)
        return filled

    return argument_values


def _handed_over(value: ValueNode, type_: GraphQLInputType) -> bool:
    """Whether every variable in `value` reaches the result as it is, at `type_`."""
    if isinstance(value, VariableNode):
        return True
    if isinstance(type_, GraphQLNonNull):
        type_ = type_.of_type
    if isinstance(value, ListValueNode):
        if not isinstance(type_, GraphQLList):
            return not _has_variables(value)
        return all(_handed_over(item, type_.of_type) for item in value.values)
    if isinstance(type_, GraphQLList):
        return _handed_over(value, type_.of_type)  # a list of one
    if isinstance(value, ObjectValueNode):
        if not isinstance(type_, GraphQLInputObjectType):
            return not _has_variables(value)
        for field in value.fields:
            definition = type_.fields.get(field.name.value)
            if definition is None:
                return False
            if not _handed_over(field.value, definition.type):
                return False
    return True


def _has_variables(value: ValueNode) -> bool:
    finder = _Names()
    visit(value, finder)
    return bool(finder.names)


def _filler(value: Any, found: set[str]) -> tuple[_Fill, bool]:
    """How to make `value` with the placeholders filled in, and whether it holds any. Parts
    without one are the template's own, shared by every request: literals only, which the
    arguments' conversion copies into the resolver's own objects."""
    if isinstance(value, _Placeholder):
        name = value.name
        found.add(name)
        return (lambda given: given[name]), True
    if type(value) is dict:
        entries = [(key, *_filler(item, found)) for key, item in value.items()]
        if any(holds for _, _, holds in entries):
            parts = [(key, fill) for key, fill, _ in entries]
            return (lambda given: {key: fill(given) for key, fill in parts}), True
    elif type(value) is list:
        items = [_filler(item, found) for item in value]
        if any(holds for _, holds in items):
            fills = [fill for fill, _ in items]
            return (lambda given: [fill(given) for fill in fills]), True
    return (lambda given: value), False
