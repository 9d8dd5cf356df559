"""The one boundary where business failures become `userErrors`."""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from typing import TypeVar

from models.errors import DomainError
from schema.core import UserError

T = TypeVar("T")

# The codes of the userErrors an operation returned, for whoever set a list here: the metrics
# extension does, per operation (observability/metrics.py). Unset, a userError costs one lookup.
user_error_codes: ContextVar[list[str] | None] = ContextVar("user_error_codes", default=None)


async def attempt(action: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    try:
        return await action, []
    except DomainError as error:
        noted = user_error_codes.get()
        if noted is not None:
            noted.append(error.code.value)
        return None, [UserError.from_domain(error)]
