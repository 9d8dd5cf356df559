from __future__ import annotations

from typing import Any

from strawberry.permission import BasePermission


class IsAuthenticated(BasePermission):
    message = "Sign in to do this"
    # Strawberry declares this an instance attribute, so it cannot be a ClassVar; never mutated.
    error_extensions = {"code": "UNAUTHENTICATED"}  # noqa: RUF012

    def has_permission(self, source: Any, info: Any, **kwargs: Any) -> bool:
        return info.context.user is not None
