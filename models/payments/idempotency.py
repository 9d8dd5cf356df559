"""Idempotency keys: a retry with the same key returns the first result and moves nothing.

The key's row is inserted in the same transaction as the movement. A concurrent retry blocks
on the unique index until the first commits, then finds the row and returns its result; if the
first failed, its row rolled back with it and the retry runs afresh.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.errors import ValidationFailed
from models.payments.orm import IdempotencyRecord

T = TypeVar("T")
KEY_MAX = 100


async def once(
    user_id: UUID,
    key: str | None,
    operation: str,
    run: Callable[[], Awaitable[T]],
    result_id: Callable[[T], str],
    replay: Callable[[str], Awaitable[T]],
) -> tuple[T, bool]:
    """(result, replayed). `run` executes inside the transaction that stores the key."""
    if key is None:
        async with in_transaction():
            return await run(), False
    if not key.strip() or len(key) > KEY_MAX:
        raise ValidationFailed(
            f"An idempotency key is 1 to {KEY_MAX} characters", field=["input", "idempotencyKey"]
        )
    try:
        async with in_transaction():
            record = await IdempotencyRecord.create(user_id=user_id, key=key, operation=operation)
            result = await run()
            record.result_id = result_id(result)
            await record.save(update_fields=["result_id"])
            return result, False
    except IntegrityError:
        existing = await IdempotencyRecord.get_or_none(user_id=user_id, key=key)
        if existing is None:
            raise
    if existing.operation != operation:
        raise ValidationFailed(
            "This idempotency key was used for another operation", field=["input", "idempotencyKey"]
        )
    return await replay(existing.result_id or ""), True
