"""schema/execution/argument_values.py: arguments holding variables, their literals coerced once
per field, answer what graphql-core's get_argument_values answers, request after request, and
leave to graphql-core the cases it decides (a missing or null variable)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from graphql import GraphQLError, parse
from graphql.execution.values import get_argument_values, get_variable_values
from graphql.language import FieldNode, OperationDefinitionNode

from schema import build_schema
from schema.execution.argument_values import compile_argument_values

SCHEMA = build_schema()._schema  # type: ignore[attr-defined]


def _field(document: str) -> tuple[Any, FieldNode, OperationDefinitionNode]:
    operation = parse(document).definitions[0]
    assert isinstance(operation, OperationDefinitionNode)
    node = operation.selection_set.selections[0]
    assert isinstance(node, FieldNode)
    assert SCHEMA.query_type is not None
    return SCHEMA.query_type.fields[node.name.value], node, operation


def _variables(operation: OperationDefinitionNode, given: dict[str, Any]) -> Any:
    values = get_variable_values(SCHEMA, operation.variable_definitions or (), given)
    assert not isinstance(values, list), values
    return values


SEARCH = """query ($q: String, $n: Int, $s: String!, $level: ExperienceLevel, $min: Decimal,
    $order: JobOrderField!) {
  jobs(first: $n, filter: {query: $q, skills: [$s, "python"], experienceLevel: $level,
      minBudget: $min, status: OPEN}, orderBy: {field: $order, direction: DESC}) { totalCount }
}"""


@pytest.mark.parametrize(
    "given",
    [
        {"q": "rust", "n": 5, "s": "go", "level": "EXPERT", "min": "10.50", "order": "BUDGET"},
        {
            "q": 'ünïcode "quoted"',
            "n": 1,
            "s": "x",
            "level": "ENTRY",
            "min": "0",
            "order": "CREATED_AT",
        },
    ],
)
def test_the_same_values_as_graphql_core(given: dict[str, Any]) -> None:
    field_def, node, operation = _field(SEARCH)
    first = _variables(operation, given)
    compiled = compile_argument_values(field_def, node, first, False)
    assert compiled is not None
    expected = get_argument_values(field_def, node, first)
    assert compiled(first) == expected
    assert expected["filter"]["minBudget"] == Decimal(given["min"])


def test_a_compiled_field_serves_every_request_and_keeps_each_answer_its_own() -> None:
    field_def, node, operation = _field(SEARCH)
    one = {"q": "rust", "n": 5, "s": "go", "level": "EXPERT", "min": "1", "order": "BUDGET"}
    other = {"q": "go", "n": 7, "s": "sql", "level": "ENTRY", "min": "2", "order": "RELEVANCE"}
    compiled = compile_argument_values(field_def, node, _variables(operation, one), False)
    assert compiled is not None
    first = compiled(_variables(operation, one))
    second = compiled(_variables(operation, other))
    assert first == get_argument_values(field_def, node, _variables(operation, one))
    assert second == get_argument_values(field_def, node, _variables(operation, other))
    assert first != second and first["filter"]["skills"] == ["go", "python"]
    first["filter"]["skills"].append("changed by a resolver")
    again = compiled(_variables(operation, one))
    assert again["filter"]["skills"] == ["go", "python"]


def test_a_default_of_the_operation_counts_as_given() -> None:
    field_def, node, operation = _field(
        'query ($q: String = "go") { jobs(first: 3, filter: {query: $q}) { totalCount } }'
    )
    values = _variables(operation, {})
    compiled = compile_argument_values(field_def, node, values, False)
    assert compiled is not None
    assert compiled(values) == get_argument_values(field_def, node, values)
    assert compiled(values)["filter"]["query"] == "go"


@pytest.mark.parametrize("given", [{}, {"q": None}])
def test_a_missing_or_null_variable_is_left_to_graphql_core(given: dict[str, Any]) -> None:
    field_def, node, operation = _field(
        "query ($q: String) { jobs(first: 3, filter: {query: $q}) { totalCount } }"
    )
    values = _variables(operation, given)
    compiled = compile_argument_values(field_def, node, values, False)
    assert compiled is not None
    assert compiled(values) is None
    # graphql-core's answers differ: the field's default for a missing one, null for null.
    assert get_argument_values(field_def, node, values)["filter"]["query"] is None


def test_a_null_where_graphql_core_refuses_it_is_still_refused() -> None:
    field_def, node, operation = _field(
        "query ($order: JobOrderField) "
        "{ jobs(orderBy: {field: $order, direction: ASC}) { totalCount } }"
    )
    values = _variables(operation, {"order": None})
    compiled = compile_argument_values(field_def, node, values, False)
    assert compiled is not None and compiled(values) is None
    with pytest.raises(GraphQLError):
        get_argument_values(field_def, node, values)


def test_fields_without_variables_are_not_compiled() -> None:
    field_def, node, operation = _field("{ jobs(first: 3) { totalCount } }")
    assert compile_argument_values(field_def, node, _variables(operation, {}), False) is None
