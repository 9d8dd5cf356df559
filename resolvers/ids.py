"""Global IDs: `base64("Type:uuid")`, the only IDs clients see. Resolvers decode them; the
schema's types encode their own."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from uuid import UUID

from models.errors import DomainError, ErrorCode


def encode_global_id(type_name: str, pk: UUID) -> str:
    raw = f"{type_name}:{pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_global_id(global_id: str) -> tuple[str, UUID] | None:
    """(type name, primary key) of a global ID, or None when it is not one of ours."""
    if not isinstance(global_id, str) or len(global_id) > 200:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, pk = base64.urlsafe_b64decode(padded.encode("ascii")).decode().partition(":")
        return type_name, UUID(pk)
    except (ValueError, binascii.Error, UnicodeError):
        return None


def decode_id(global_id: str, expected: str, *, field: Sequence[str]) -> UUID:
    """The primary key behind a global ID of the expected type; NOT_FOUND for anything else."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] != expected:
        raise DomainError(f"No {expected} with this ID", field=field, code=ErrorCode.NOT_FOUND)
    return parsed[1]
