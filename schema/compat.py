"""TEMPORARY, while resolvers move to returning domain objects (issue 15): the old `attempt`,
whose failures are already UserErrors. Deleted once no resolver imports it."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from resolvers import errors
from schema.core import UserError

T = TypeVar("T")


async def attempt(action: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    result, problems = await errors.attempt(action)
    return result, [UserError.from_domain(problem) for problem in problems]
