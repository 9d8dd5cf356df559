"""The one boundary where business failures become `userErrors`."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar

from models.errors import DomainError
from schema.core import UserError

T = TypeVar("T")


async def attempt(action: Awaitable[T]) -> tuple[T | None, list[UserError]]:
    try:
        return await action, []
    except DomainError as error:
        return None, [UserError.from_domain(error)]
