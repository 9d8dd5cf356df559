"""What an action announces. Actions return these; the caller publishes them after commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Published:
    channel: str
    payload: dict[str, Any] = field(default_factory=dict)


def user_channel(user_id: object) -> str:
    return f"user:{user_id}"
