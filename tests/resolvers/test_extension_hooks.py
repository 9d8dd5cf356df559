"""schema.extension_hooks: Strawberry's extension stages, with hooks wrapped once per class,
behave as Strawberry's own runner: every form of hook runs, in order, once per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import strawberry
from strawberry.extensions import SchemaExtension

from schema import MarketplaceSchema

calls: list[str] = []


class Generators(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        calls.append("operation start")
        yield
        calls.append("operation end")

    def on_validate(self) -> Iterator[None]:
        calls.append("validate")
        yield

    async def on_execute(self) -> AsyncIterator[None]:
        calls.append("execute start")
        yield
        calls.append("execute end")


class PlainFunction(SchemaExtension):
    def on_parse(self) -> None:  # type: ignore[override]
        calls.append("parse (plain function)")


class Refuses(SchemaExtension):
    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        if context.query and "refused" in context.query:
            context.pre_execution_errors = [strawberry.exceptions.StrawberryGraphQLError("no")]
        yield


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        calls.append("resolver")
        return "world"

    @strawberry.field
    def refused(self) -> str:
        return "never"


schema = MarketplaceSchema(query=Query, extensions=[Generators, PlainFunction, Refuses])


async def test_every_hook_runs_once_per_request_in_order() -> None:
    for _ in range(2):
        calls.clear()
        result = await schema.execute("{ hello }")
        assert result.errors is None and result.data == {"hello": "world"}
        assert calls == [
            "operation start",
            "parse (plain function)",
            "validate",
            "execute start",
            "resolver",
            "execute end",
            "operation end",
        ]


async def test_an_extension_still_refuses_before_execution() -> None:
    calls.clear()
    result = await schema.execute("{ refused }")
    assert result.data is None and [e.message for e in result.errors or []] == ["no"]
    assert "execute start" not in calls and calls[-1] == "operation end"
