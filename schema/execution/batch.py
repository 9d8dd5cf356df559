"""Batch resolvers: a field answered for every parent of a level at once.

A batch resolver stands for one field resolver (the function Strawberry wraps). It gets the
parents (the objects graphql-core would call the resolver with, one at a time), the field's
arguments as that resolver would get them (Python names, Strawberry inputs and enums), and the
request's context, and returns one value per parent, in order: a list, or an awaitable of one.
It must answer exactly what the field resolver answers for each parent, and may raise anything
where the resolver would fail: the executor then runs the operation with graphql-core instead,
which reports the failure as usual.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeAlias, TypeVar

BatchResult: TypeAlias = "list[Any] | Awaitable[list[Any]]"
BatchResolver: TypeAlias = Callable[[Sequence[Any], dict[str, Any], Any], BatchResult]
# A connection field's page as the statement its resolver would run (models.pagination's
# FirstPageQuery), or None when it is not one: from the same arguments and context.
PageStatement: TypeAlias = Callable[[dict[str, Any], Any], Awaitable[Any]]

_registry: dict[Callable[..., Any], BatchResolver] = {}
_page_statements: dict[Callable[..., Any], PageStatement] = {}


_Registered = TypeVar("_Registered", BatchResolver, PageStatement)


def _registering(
    registry: dict[Callable[..., Any], _Registered], resolvers: Sequence[Callable[..., Any]]
) -> Callable[[_Registered], _Registered]:
    def register(function: _Registered) -> _Registered:
        for resolver in resolvers:
            registry[resolver] = function
        return function

    return register


def batches(*resolvers: Callable[..., Any]) -> Callable[[BatchResolver], BatchResolver]:
    """Registers the decorated function as the batch form of each of these field resolvers
    (a `@strawberry.field` method, or the function given as `resolver=`)."""
    return _registering(_registry, resolvers)


def batch_for(resolver: Callable[..., Any]) -> BatchResolver | None:
    return _registry.get(resolver)


def page_statements(*resolvers: Callable[..., Any]) -> Callable[[PageStatement], PageStatement]:
    """Registers the decorated function as the page statement of these connection resolvers:
    where the page's nodes are all read in SQL, sql.py answers the field in one statement."""
    return _registering(_page_statements, resolvers)


def page_statement_for(resolver: Callable[..., Any]) -> PageStatement | None:
    return _page_statements.get(resolver)
