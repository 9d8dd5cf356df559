"""The errors resolvers hand the schema: business failures become `userErrors` (the schema
renders them), anything else the client must see is a PublicError."""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from typing import Any, TypeVar

from graphql import GraphQLError

from models.errors import DomainError

T = TypeVar("T")

# The codes of the userErrors an operation returned, for whoever set a list here: the metrics
# extension does, per operation (observability/metrics.py). Unset, a userError costs one lookup.
user_error_codes: ContextVar[list[str] | None] = ContextVar("user_error_codes", default=None)


class PublicError(GraphQLError):
    """An error meant for the client: shown as is, with `extensions.code`."""

    def __init__(self, message: str, code: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})


Outcome = tuple[T | None, list[DomainError]]
"""What a mutation's resolver returns: its result, or None and the business failures that
stopped it (the payload's `userErrors`)."""


async def attempt(action: Awaitable[T]) -> Outcome[T]:
    try:
        return await action, []
    except DomainError as error:
        noted = user_error_codes.get()
        if noted is not None:
            noted.append(error.code.value)
        return None, [error]
