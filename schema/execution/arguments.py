"""Field arguments converted as Strawberry's `convert_arguments` converts them, with the work
that depends only on the types done once per field.

Strawberry resolves every input field's type, its GraphQL name and its kind on each call: for
the job search's `filter` that was a fifth of a search request's CPU. Here each argument's
conversion is compiled once into a function of the value (tests/resolvers/test_arguments.py
compares both on every argument of the schema). Types it does not know (`Maybe`, `GlobalID`,
inputs with `from_input`) raise `Unsupported`, and the field keeps Strawberry's conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING
from typing import Any

from strawberry.relay.types import GlobalID
from strawberry.types.arguments import StrawberryArgument, _is_leaf_type
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import has_enum_definition
from strawberry.types.lazy_type import LazyType
from strawberry.types.unset import UNSET

Converter = Callable[[Any], Any]


class Unsupported(Exception):
    """Strawberry's own conversion is used for this field."""


def compile_arguments(
    arguments: Sequence[StrawberryArgument], scalar_registry: Mapping[object, Any], config: Any
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    compiler = _Compiler(scalar_registry, config)
    steps = []
    for argument in arguments:
        assert argument.python_name
        name = config.name_converter.from_argument(argument)
        steps.append((name, argument.python_name, compiler.converter(argument.type)))

    def convert(raw: dict[str, Any]) -> dict[str, Any]:
        return {python: step(raw[name]) for name, python, step in steps if name in raw}

    return convert


def _as_is(value: Any) -> Any:
    return value


def _copied_list(value: Any) -> Any:
    # graphql-core gives the same default list to every request that omits the value.
    return value if value is None or value is UNSET else list(value)


class _Compiler:
    def __init__(self, scalar_registry: Mapping[object, Any], config: Any) -> None:
        self.registry = scalar_registry
        self.config = config
        self.inputs: dict[type, Converter] = {}

    def converter(self, type_: Any) -> Converter:
        if isinstance(type_, StrawberryMaybe) or type_ is GlobalID:
            raise Unsupported(str(type_))
        if isinstance(type_, StrawberryOptional):
            return self.converter(type_.of_type)
        if isinstance(type_, StrawberryList):
            of = type_.of_type
            leaf = of.of_type if isinstance(of, StrawberryOptional) else of
            if of is not GlobalID and leaf is not GlobalID and self.leaf(leaf):
                return _copied_list
            item = self.converter(of)

            def listed(value: Any) -> Any:
                if value is None or value is UNSET:
                    return value
                return [item(entry) for entry in value]

            return listed
        if self.leaf(type_):
            return _as_is
        if isinstance(type_, LazyType):
            return self.converter(type_.resolve_type())
        if has_enum_definition(type_):
            return self.converter(type_.__strawberry_definition__)
        if has_object_definition(type_):
            return self.input(type_)
        raise Unsupported(str(type_))

    def leaf(self, type_: Any) -> bool:
        return bool(_is_leaf_type(type_, self.registry))

    def input(self, input_type: Any) -> Converter:
        known = self.inputs.get(input_type)
        if known is not None:
            return known
        definition = input_type.__strawberry_definition__
        if definition.from_input is not None:
            raise Unsupported(f"{input_type} builds itself")
        fields: list[tuple[str, str, Converter]] = []
        # Every nullable input field without a default is None until given (as Strawberry).
        defaults = (
            {
                field.python_name: None
                for field in definition.fields
                if field.default_value is MISSING and field.default_factory is MISSING
            }
            if definition.is_input
            else {}
        )

        def build(value: Any) -> Any:
            if value is None or value is UNSET:
                return value
            kwargs = dict(defaults)
            for graphql_name, python_name, step in fields:
                if graphql_name in value:
                    kwargs[python_name] = step(value[graphql_name])
            return input_type(**kwargs)

        self.inputs[input_type] = build  # before its fields: an input may contain itself
        for field in definition.fields:
            step = self.converter(field.resolve_type(type_definition=definition))
            fields.append((self.config.name_converter.from_field(field), field.python_name, step))
        return build
