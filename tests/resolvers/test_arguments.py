"""The batch executor's compiled argument conversion (schema/execution/arguments.py) gives what
Strawberry's `convert_arguments` gives, for every field of the schema that takes arguments."""

from __future__ import annotations

import datetime
import decimal
import uuid
from enum import Enum
from typing import Any

import pytest
from strawberry.types.arguments import convert_arguments
from strawberry.types.base import (
    StrawberryList,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

from schema import build_schema
from schema.execution.arguments import compile_arguments

SCHEMA = build_schema(batch_execution=True)
CONVERTER = SCHEMA.schema_converter
CONFIG = CONVERTER.config
SAMPLES: dict[Any, Any] = {
    str: "text",
    int: 3,
    float: 1.5,
    bool: True,
    decimal.Decimal: decimal.Decimal("12.50"),
    datetime.date: datetime.date(2026, 12, 6),
    datetime.datetime: datetime.datetime(2026, 12, 6, 12, 0, tzinfo=datetime.UTC),
    uuid.UUID: uuid.UUID(int=7),
}


def sample(type_: Any, sparse: bool) -> Any:
    """A value graphql-core could hand over for `type_`: every input field given, or (sparse)
    the nullable ones null or left out in turn."""
    if isinstance(type_, StrawberryOptional):
        return None if sparse else sample(type_.of_type, sparse)
    if isinstance(type_, StrawberryList):
        return [sample(type_.of_type, sparse), sample(type_.of_type, not sparse)]
    if isinstance(type_, LazyType):
        return sample(type_.resolve_type(), sparse)
    if has_enum_definition(type_):
        return next(iter(type_))
    if has_object_definition(type_):
        definition = type_.__strawberry_definition__
        value: dict[str, Any] = {}
        for index, field in enumerate(definition.fields):
            field_type = field.resolve_type(type_definition=definition)
            if sparse and isinstance(field_type, StrawberryOptional) and index % 2:
                continue  # left out: UNSET or the default
            value[CONFIG.name_converter.from_field(field)] = sample(field_type, sparse)
        return value
    if isinstance(type_, type) and issubclass(type_, Enum):
        return next(iter(type_))
    return SAMPLES.get(type_, f"a {type_}")


def fields_with_arguments() -> list[Any]:
    found = []
    for type_definition in SCHEMA.schema_converter.type_map.values():
        definition = getattr(type_definition, "definition", None)
        for field in getattr(definition, "fields", None) or []:
            if getattr(field, "arguments", None):
                found.append(pytest.param(field, id=f"{definition.name}.{field.python_name}"))
    return found


@pytest.mark.parametrize("field", fields_with_arguments())
@pytest.mark.parametrize("sparse", [False, True])
def test_compiled_conversion_is_strawberrys(field, sparse):
    names = CONFIG.name_converter
    raw = {
        names.from_argument(argument): sample(argument.type, sparse) for argument in field.arguments
    }
    if sparse:  # and one argument left out
        raw.pop(names.from_argument(field.arguments[0]))
    compiled = compile_arguments(field.arguments, CONVERTER.scalar_registry, CONFIG)
    expected = convert_arguments(
        raw, field.arguments, scalar_registry=CONVERTER.scalar_registry, config=CONFIG
    )
    assert compiled(raw) == expected
    assert UNSET not in compiled(raw).values() or UNSET in expected.values()


def test_there_are_inputs_among_the_fields_compared():
    """The comparison above reaches input objects, not only scalars."""
    inputs = [
        argument
        for param in fields_with_arguments()
        for argument in param.values[0].arguments
        if has_object_definition(getattr(argument.type, "of_type", argument.type))
    ]
    assert len(inputs) >= 10
