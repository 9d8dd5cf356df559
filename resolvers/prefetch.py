"""Values a request has already loaded, handed over without a trip through the event loop.

A field resolver that awaits a DataLoader costs graphql-core an awaitable per field: a
coroutine, a future, and a task per item of the list it sits in. On a page of 20 contracts with
their freelancer, milestones and events that was most of the request's time. So a connection
resolver loads the children its selection asks for, for the whole page at once (the same
loaders, so the same one query per loader), and the children's resolvers are plain functions
that return what is already there, falling back to an awaitable when it is not (a field reached
another way, a websocket event).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterable
from inspect import isawaitable
from typing import Any, TypeVar, cast

from strawberry.dataloader import DataLoader
from strawberry.types.nodes import SelectedField, Selection

from models.pagination import PageRequest

T = TypeVar("T")
R = TypeVar("R")


def ready(loader: DataLoader[Any, T], key: Hashable) -> T | Awaitable[T]:
    """The loaded value at once when this request has it, else an awaitable of it."""
    future = loader.cache_map.get(key)
    if (
        future is not None
        and future.done()
        and not future.cancelled()
        and future.exception() is None
    ):
        return future.result()
    return loader.load(key)


def ready_many(loader: DataLoader[Any, T], keys: list[Any]) -> list[T] | Awaitable[list[T]]:
    """`ready` for many keys: the loaded values at once when this request has them all."""
    cache = loader.cache_map
    values = []
    for key in keys:
        future = cache.get(key)
        if (
            future is None
            or not future.done()
            or future.cancelled()
            or future.exception() is not None
        ):
            return loader.load_many(keys)
        values.append(future.result())
    return values


def then(value: T | Awaitable[T], convert: Callable[[Any], R]) -> R:
    """`convert(value)`, now or once it is loaded.

    Typed as R for the resolvers' annotations (which Strawberry reads as the GraphQL type); it is
    an awaitable of R when the value was not loaded yet, which graphql-core awaits.
    """
    if isawaitable(value):

        async def converted() -> R:
            return convert(await value)

        return cast("R", converted())
    return convert(value)


def node_selections(info: Any) -> dict[str, SelectedField]:
    """The fields selected on a connection's nodes (`edges { node { ... } }` or `nodes`), by
    name, fragments included; the first selection of a name wins."""
    found: dict[str, SelectedField] = {}

    def fields(selections: Iterable[Selection]) -> Iterable[SelectedField]:
        for selection in selections:
            if isinstance(selection, SelectedField):
                yield selection
            else:
                yield from fields(selection.selections)

    for connection in info.selected_fields:
        for field in fields(connection.selections):
            if field.name == "nodes":
                nodes = [field]
            elif field.name == "edges":
                nodes = [f for f in fields(field.selections) if f.name == "node"]
            else:
                continue
            for node in nodes:
                for child in fields(node.selections):
                    found.setdefault(child.name, child)
    return found


def first_page_request(field: SelectedField) -> PageRequest | None:
    """The page a nested connection's selection asks for, when it is a first page (the only
    kind loaded for many parents at once); None for a cursor or an invalid request."""
    arguments = field.arguments or {}
    request = PageRequest(
        first=arguments.get("first"),
        after=arguments.get("after"),
        last=arguments.get("last"),
        before=arguments.get("before"),
    )
    if request.after is not None or request.before is not None:
        return None
    if not all(isinstance(v, int | None) for v in (request.first, request.last)):
        return None
    return request


async def load_all(loads: Iterable[Awaitable[Any]]) -> None:
    await asyncio.gather(*loads)
