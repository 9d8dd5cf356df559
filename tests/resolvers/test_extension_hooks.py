"""schema.extension_hooks: Strawberry's extension stages, with hooks wrapped once per class,
behave as Strawberry's own runner: every form of hook runs, in order, once per request."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import strawberry
from strawberry.extensions import SchemaExtension

from schema import MarketplaceSchema
from schema.extension_hooks import ExtensionsRunner

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


# ------------------------------------------------------------------ exceptions through a stage


class Boom(Exception):
    pass


def _runner(*extensions: SchemaExtension) -> ExtensionsRunner:
    return ExtensionsRunner(execution_context=None, extensions=list(extensions))  # type: ignore[arg-type]


class Recorder(SchemaExtension):
    def __init__(self, name: str, *, suppress: bool = False, replace: bool = False) -> None:
        self.name, self.suppress, self.replace = name, suppress, replace

    def on_operation(self) -> Iterator[None]:
        calls.append(f"{self.name} start")
        try:
            yield
        except Boom as error:
            calls.append(f"{self.name} saw {error}")
            if self.replace:
                raise ValueError(f"replaced by {self.name}") from error
            if not self.suppress:
                raise
        finally:
            calls.append(f"{self.name} end")

    async def on_execute(self) -> AsyncIterator[None]:
        calls.append(f"{self.name} execute start")
        try:
            yield
        except Boom:
            calls.append(f"{self.name} execute saw it")
            if not self.suppress:
                raise


class FailsToStart(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        raise Boom("at start")
        yield  # pragma: no cover - a generator that never gets here


async def test_an_exception_goes_through_the_hooks_last_first_and_is_raised() -> None:
    calls.clear()
    with pytest.raises(Boom, match="^x$"):
        async with _runner(Recorder("a"), Recorder("b")).operation():
            raise Boom("x")
    assert calls == ["a start", "b start", "b saw x", "b end", "a saw x", "a end"]


async def test_a_hook_that_swallows_it_hides_it_from_the_hooks_before_it_only() -> None:
    # As Strawberry's stages: the exception still goes on past the stage.
    for enter in ("async", "sync"):
        calls.clear()
        stage = _runner(Recorder("a"), Recorder("b", suppress=True)).operation()
        with pytest.raises(Boom):
            if enter == "async":
                async with stage:
                    raise Boom("x")
            else:
                with stage:
                    raise Boom("x")
        assert calls == ["a start", "b start", "b saw x", "b end", "a end"]


async def test_a_hook_that_raises_another_exception_passes_that_one_on() -> None:
    calls.clear()
    # `a` suppresses only a Boom: the ValueError b raised instead goes on.
    with pytest.raises(ValueError, match="^replaced by b$") as raised:
        async with _runner(Recorder("a", suppress=True), Recorder("b", replace=True)).operation():
            raise Boom("x")
    assert isinstance(raised.value.__cause__, Boom)
    assert calls == ["a start", "b start", "b saw x", "b end", "a end"]


async def test_async_hooks_see_the_exception_too_and_sync_stages_refuse_them() -> None:
    calls.clear()
    with pytest.raises(Boom):
        async with _runner(Recorder("a")).executing():
            raise Boom("x")
    assert calls == ["a execute start", "a execute saw it"]
    calls.clear()
    with pytest.raises(RuntimeError, match="synchronously"), _runner(Recorder("a")).executing():
        calls.append("body")
    assert "body" not in calls


async def test_a_hook_that_fails_to_start_lets_the_started_ones_finish() -> None:
    calls.clear()
    with pytest.raises(Boom, match="^at start$"):
        async with _runner(Recorder("a"), FailsToStart(), Recorder("c")).operation():
            calls.append("body")
    assert calls == ["a start", "a saw at start", "a end"]
