from __future__ import annotations

from datetime import UTC, datetime

from tortoise import fields
from tortoise.models import Model


def utc_now() -> datetime:
    return datetime.now(UTC)


class Entity(Model):
    """A row with a public identity: a random UUID (reveals no counts) and its creation time.

    `(created_at, id)` is the keyset every connection paginates by.
    """

    id = fields.UUIDField(primary_key=True)
    created_at = fields.DatetimeField(default=utc_now, db_index=True)

    class Meta:
        abstract = True
