"""Who is asking: the bearer token of an HTTP request or of a websocket's connection_init."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auth.crypto.tokens import bearer_token
from models.users.actions import user_for_token
from models.users.orm import User


def token_from_connection_params(params: Any) -> str | None:
    """Both shapes the contract allows: {"authorization": ...} or {"headers": {"Authorization": ...}}."""
    if not isinstance(params, Mapping):
        return None
    value = params.get("authorization") or params.get("Authorization")
    headers = params.get("headers")
    if value is None and isinstance(headers, Mapping):
        value = headers.get("Authorization") or headers.get("authorization")
    return bearer_token(value) if isinstance(value, str) else None


async def authenticate(token: str | None) -> User | None:
    return await user_for_token(token)
