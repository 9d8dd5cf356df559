"""Hypothesis strategies for GraphQL requests drawn from the schema itself.

The documents pick real fields of real types (found by walking the graphql-core schema), with
arguments of the right type and of the wrong one, literal or through variables, and mix in what
careless and hostile clients send: nesting up to 64 levels, dozens of fields and aliases,
duplicate aliases with conflicting arguments, fragments and inline fragments on the wrong types,
@include/@skip with variables, unknown fields, arguments and directives, huge integers, floats
for integers, NUL characters, long and non-ASCII text, page sizes far out of range, forged cursors
and global IDs, and variables that are missing, extra, null or of the wrong type.
"""

from __future__ import annotations

import base64
import json
import string
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_composite_type,
)
from graphql.language.print_string import print_string
from hypothesis import strategies as st

MAX_NESTING = 64

# Text that has broken servers: NUL, control characters, escapes, right-to-left marks, emoji.
ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(["\x00", "\n", "\t", '"', "\\", "'", "\u202e", "\ufeff", "💥", "é", "%"]),
        st.characters(codec="utf-8"),
    ),
    max_size=40,
)
WORDS = st.sampled_from(["python", "api", "Acme", "x", "", " ", "<script>", "DROP TABLE jobs;"])
HUGE_INTS = st.sampled_from(
    [2**31, -(2**31) - 1, 2**53 + 1, 2**63, -(2**63), 2**64 - 1, 2**64, 10**30, -(10**30)]
)
PAGE_SIZES = st.sampled_from([-(2**31), -1, 0, 1, 2, 20, 99, 100, 101, 1000, 2**31 - 1])


class EnumName(str):
    """An enum value: a bare name in a document, a string in variables."""


@dataclass
class Pools:
    """Values a hostile client could know: real global IDs of the scene, and real cursors."""

    ids: list[str] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)


@dataclass
class Request:
    query: str
    variables: dict[str, Any]
    operation_name: str | None
    operation: str

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"query": self.query, "variables": self.variables}
        if self.operation_name is not None:
            body["operationName"] = self.operation_name
        return body


def _forged_global_id(type_name: str, pk: str) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def _forged_cursor(values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


FORGED_IDS = st.one_of(
    st.sampled_from(["", "!!!", "A" * 300, "Sm9iOg", "VXNlcjo", "bnVsbA"]),
    st.builds(
        _forged_global_id,
        st.sampled_from(["Job", "User", "Contract", "Milestone", "Skill", "Nope", ""]),
        st.one_of(st.uuids().map(str), ODD_TEXT),
    ),
    ODD_TEXT,
)
FORGED_CURSORS = st.one_of(
    st.sampled_from(["", "!!!", "=", "A" * 500]),
    st.builds(
        _forged_cursor,
        st.one_of(
            st.lists(
                st.lists(
                    st.one_of(
                        st.sampled_from(["d", "u", "s", "i", "x"]),
                        st.integers(),
                        st.text(max_size=30),
                        st.none(),
                    ),
                    max_size=3,
                ),
                max_size=4,
            ),
            st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
            st.integers(),
        ),
    ),
    ODD_TEXT,
)
DECIMALS = st.one_of(
    st.sampled_from(
        [
            "0",
            "0.00",
            "10.00",
            "62.5",
            "-1",
            "-0.01",
            "1.005",
            "1e3",
            "1e999999",
            "NaN",
            "-Infinity",
        ]
    ),
    st.sampled_from(["99999999999999999999999.99", "abc", "", "12,50", "$5", " 5 "]),
    st.decimals(allow_nan=False, allow_infinity=False, places=2).map(str),
)
DATES = st.one_of(
    st.dates().map(str),
    st.sampled_from(["2026-02-30", "0000-01-01", "99999-01-01", "yesterday", "", "2026-13-01"]),
)
DATETIMES = st.one_of(
    st.datetimes().map(lambda d: d.isoformat() + "+00:00"),
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "now", ""]),
)


class DocumentBuilder:
    """One document being drawn: its variables, fragments and names as they are made.

    `hostility` 0 draws documents a careful client could send: every value of the right type
    (odd ones included: forged IDs and cursors, page sizes out of range, long or non-ASCII
    text). Higher, it mixes in more deliberate mistakes (`odd()`): unknown fields, arguments and
    directives, wrong types, fragments on the wrong type, conflicting aliases, NUL characters,
    variables missing, extra or of the wrong type.
    """

    def __init__(self, draw: Any, schema: GraphQLSchema, pools: Pools, hostility: float) -> None:
        self.draw = draw
        self.schema = schema
        self.pools = pools
        self.hostility = hostility
        self.definitions: list[str] = []
        self.variables: dict[str, Any] = {}
        self.fragments: list[str] = []
        self.counter = 0
        self.fields = 0
        types = [t for t in schema.type_map.values() if not t.name.startswith("__")]
        self.output_types = [t for t in types if is_composite_type(t)]

    def chance(self, probability: float) -> bool:
        # The simplest draw (0, which Hypothesis favours and shrinks towards) means "no".
        return self.draw(st.integers(0, 999)) >= 1000 - round(probability * 1000)

    def odd(self, probability: float) -> bool:
        """A deliberate mistake, as often as the document's hostility says."""
        return self.hostility > 0 and self.chance(min(1.0, probability * self.hostility))

    def name(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def conditions(self, parent: GraphQLNamedType) -> list[GraphQLNamedType]:
        """The types a fragment inside `parent` may be typed on."""
        if isinstance(parent, (GraphQLInterfaceType, GraphQLUnionType)):
            return [parent, *self.schema.get_possible_types(parent)]
        if isinstance(parent, GraphQLObjectType):
            return [parent, *parent.interfaces]
        return [parent]

    # ------------------------------------------------------------ selections

    def selection_set(self, parent: GraphQLNamedType, depth: int) -> str:
        deep = depth > 6
        wide = not deep and self.fields < 100 and self.chance(0.1)
        width = self.draw(st.integers(8, 40) if wide else st.integers(1, 2 if deep else 4))
        keys: set[str] = set()
        selections = [self.selection(parent, depth, deep, keys) for _ in range(width)]
        return "{ " + " ".join(selections) + " }"

    def selection(self, parent: GraphQLNamedType, depth: int, deep: bool, keys: set[str]) -> str:
        if self.odd(0.03):
            return self.draw(st.sampled_from(["nope", "password", "__schema { types { name } }"]))
        kind = self.draw(st.sampled_from(["field"] * 12 + ["typename", "inline", "spread"]))
        fields = (
            parent.fields if isinstance(parent, (GraphQLObjectType, GraphQLInterfaceType)) else {}
        )
        if kind == "field" and fields and self.fields < 300:
            return self.field(fields, depth, deep, keys)
        if kind in ("inline", "spread") and depth > 1:
            on = self.draw(
                st.sampled_from(self.output_types)
                if self.odd(0.2)
                else st.sampled_from(self.conditions(parent))
            )
            body = self.selection_set(on, depth - 1)
            directives = self.directives()
            if kind == "inline":
                condition = "" if on is parent and self.chance(0.3) else f"on {on.name} "
                return f"... {condition}{directives}{body}"
            name = self.name("F")
            self.fragments.append(f"fragment {name} on {on.name} {body}")
            return f"...{name}{directives}"
        return "__typename"

    def field(self, fields: dict[str, GraphQLField], depth: int, deep: bool, keys: set[str]) -> str:
        """A field; `keys` are the response keys already used beside it (a careful client
        aliases a second use of a field, a careless one makes them conflict)."""
        self.fields += 1
        names = sorted(fields)
        composite = [n for n in names if is_composite_type(get_named_type(fields[n].type))]
        if deep and composite and self.chance(0.85):
            name = self.draw(st.sampled_from(composite))
        else:
            name = self.draw(st.sampled_from(names))
        definition = fields[name]
        text = name
        if self.odd(0.1):
            # Few alias names, so duplicates (with conflicting arguments) come up.
            alias = self.draw(st.sampled_from(["a", "b", "id", "node", f"x{depth}"]))
            text = f"{alias}: {name}"
        elif name in keys or self.chance(0.1):
            text = f"{self.name('a')}: {name}"
        keys.add(text.partition(":")[0])
        arguments = self.arguments(definition)
        if arguments:
            text += f"({arguments})"
        text += self.directives()
        child = get_named_type(definition.type)
        if is_composite_type(child):
            if depth > 1 and self.fields < 300 and not self.odd(0.03):
                text += " " + self.selection_set(child, depth - 1)
            elif not self.odd(0.3):
                text += " { __typename }"
        elif self.odd(0.02):
            text += " { id }"
        return text

    def directives(self) -> str:
        if not self.chance(0.12):
            return ""
        if self.odd(0.2):
            return f" @{self.draw(st.sampled_from(['deprecated', 'nope', 'include']))}"
        directive = self.draw(st.sampled_from(["include", "skip"]))
        if self.chance(0.5):
            variable = self.name("b")
            declared = (
                "Int" if self.odd(0.1) else self.draw(st.sampled_from(["Boolean!", "Boolean"]))
            )
            self.definitions.append(f"${variable}: {declared}")
            if not self.odd(0.1):
                self.variables[variable] = self.draw(
                    st.just("yes") if self.odd(0.1) else st.booleans()
                )
            return f" @{directive}(if: ${variable})"
        return f" @{directive}(if: {self.draw(st.sampled_from(['true', 'false']))})"

    # ------------------------------------------------------------ arguments

    def arguments(self, definition: GraphQLField) -> str:
        parts = []
        for name, argument in sorted(definition.args.items()):
            required = isinstance(argument.type, GraphQLNonNull)
            if self.odd(0.1) if required else not self.chance(0.4):
                continue
            parts.append(f"{name}: {self.argument_value(name, argument.type)}")
        if self.odd(0.03):
            parts.append("bogus: 1")
        return ", ".join(parts)

    def argument_value(self, name: str, type_: GraphQLInputType) -> str:
        if self.chance(0.3):
            variable = self.name("v")
            declared = self.wrong_type_name() if self.odd(0.15) else str(type_)
            self.definitions.append(f"${variable}: {declared}")
            if self.odd(0.1):
                self.variables[variable] = None
            elif self.odd(0.1):
                self.variables[variable] = self.wrong_value()
            elif not self.odd(0.05):  # else: declared, never given
                self.variables[variable] = self.value(type_, name)
            return f"${variable}"
        return literal(self.value(type_, name))

    def wrong_type_name(self) -> str:
        return self.draw(
            st.sampled_from(["String", "Int!", "[ID!]!", "Float", "Nope", "JobFilter", "Boolean"])
        )

    def wrong_value(self) -> Any:
        return self.draw(
            st.one_of(
                st.integers(),
                HUGE_INTS,
                st.floats(allow_nan=False, allow_infinity=False),
                st.booleans(),
                ODD_TEXT,
                st.lists(st.integers(), max_size=3),
                st.dictionaries(st.sampled_from(["id", "title", "x"]), st.integers(), max_size=2),
            )
        )

    def value(self, type_: GraphQLInputType, name: str = "", *, nullable: bool = True) -> Any:
        if self.odd(0.06):
            return self.wrong_value()
        if isinstance(type_, GraphQLNonNull):
            if self.odd(0.02):
                return None
            return self.value(type_.of_type, name, nullable=False)
        if nullable and self.chance(0.04):
            return None
        if isinstance(type_, GraphQLList):
            if self.chance(0.1):  # a single value where a list is expected (it coerces)
                return self.value(type_.of_type, name)
            size = 101 if self.odd(0.1) else self.draw(st.integers(0, 3))
            return [self.value(type_.of_type, name) for _ in range(size)]
        if isinstance(type_, GraphQLInputObjectType):
            result: dict[str, Any] = {}
            for key, input_field in sorted(type_.fields.items()):
                required = isinstance(input_field.type, GraphQLNonNull)
                if not self.odd(0.07) if required else self.chance(0.5):
                    result[key] = self.value(input_field.type, key)
            if self.odd(0.05):
                result["bogus"] = 1
            return result
        if isinstance(type_, GraphQLEnumType):
            values = sorted(type_.values)
            if self.odd(0.1):
                return EnumName(self.draw(st.sampled_from(["NOPE", values[0].lower()])))
            return EnumName(self.draw(st.sampled_from(values)))
        assert isinstance(type_, GraphQLScalarType)
        return self.scalar(type_.name, name)

    def scalar(self, scalar: str, name: str) -> Any:
        draw = self.draw
        if name in ("first", "last") and scalar == "Int":
            return draw(st.one_of(PAGE_SIZES, HUGE_INTS) if self.odd(0.2) else PAGE_SIZES)
        if name in ("after", "before") or name.endswith("cursor"):
            if self.pools.cursors and self.chance(0.4):
                return draw(st.sampled_from(self.pools.cursors))
            return draw(FORGED_CURSORS)
        if scalar == "Int":
            if self.odd(0.2):
                return draw(st.one_of(HUGE_INTS, st.just(1.5)))
            return draw(st.integers(-5, 200))
        if scalar == "Float":
            return draw(st.one_of(st.floats(allow_nan=False, allow_infinity=False), HUGE_INTS))
        if scalar == "Boolean":
            return draw(st.booleans())
        if scalar == "ID":
            if self.pools.ids and self.chance(0.6):
                return draw(st.sampled_from(self.pools.ids))
            return draw(FORGED_IDS)
        if scalar == "Decimal":
            return draw(st.one_of(DECIMALS, st.integers(-(10**6), 10**6), HUGE_INTS))
        if scalar == "Date":
            return draw(DATES)
        if scalar == "DateTime":
            return draw(DATETIMES)
        if "email" in name.lower():
            return draw(
                st.one_of(
                    st.sampled_from(["a@example.com", "A@Example.COM ", "@", "x" * 300]),
                    st.emails(),
                )
            )
        if "password" in name.lower():
            return draw(st.sampled_from(["correct-horse-battery", "short", "p" * 200, ""]))
        if self.odd(0.2):
            return draw(ODD_TEXT)  # a NUL character refuses the whole request
        return draw(
            st.one_of(
                WORDS,
                ODD_TEXT.map(lambda text: text.replace("\x00", "")),
                st.integers(1, 12_000).map(lambda n: "w" * n),
                st.text(alphabet=string.printable, max_size=200),
            )
        )


def literal(value: Any) -> str:
    """A value as GraphQL literal syntax."""
    if value is None:
        return "null"
    if isinstance(value, EnumName):
        return str(value) if value.isidentifier() else print_string(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if repr(value)[-1].isdigit() else "0.5"
    if isinstance(value, str):
        return print_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    return "{" + ", ".join(f"{key}: {literal(item)}" for key, item in value.items()) + "}"


@st.composite
def requests(draw: Any, schema: GraphQLSchema, pools: Pools) -> Request:
    operation = draw(st.sampled_from(["query"] * 10 + ["mutation"] * 7 + ["subscription"]))
    root = {
        "query": schema.query_type,
        "mutation": schema.mutation_type,
        "subscription": schema.subscription_type,
    }[operation]
    assert root is not None
    hostility = draw(st.sampled_from([0.0, 0.0, 0.3, 1.0, 3.0]))
    builder = DocumentBuilder(draw, schema, pools, hostility)
    depth = draw(st.one_of(st.integers(1, 5), st.integers(6, 12), st.integers(13, MAX_NESTING)))
    selection = builder.selection_set(root, depth)
    operation_name = "Missing" if builder.odd(0.05) else draw(st.sampled_from([None, "Hostile"]))
    header = operation
    if operation_name is not None:
        header += " Hostile"
    if builder.definitions:
        header += "(" + ", ".join(builder.definitions) + ")"
    if header == "query" and draw(st.booleans()):
        header = ""  # the shorthand form
    parts = [f"{header} {selection}".strip(), *builder.fragments]
    if operation_name is not None and builder.odd(0.1):
        parts.append("query Other { __typename }")  # two operations: operationName decides
    variables = dict(builder.variables)
    if builder.odd(0.1):
        variables["extra"] = draw(st.one_of(st.integers(), ODD_TEXT, st.none()))
    return Request(
        query="\n".join(parts),
        variables=variables,
        operation_name=operation_name,
        operation=operation,
    )
