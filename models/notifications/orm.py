from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from tortoise import fields
from tortoise.models import Model

from models.base import utc_now

if TYPE_CHECKING:
    from models.users.orm import User


class NotificationKind(StrEnum):
    PROPOSAL_RECEIVED = "PROPOSAL_RECEIVED"
    INVITATION_RECEIVED = "INVITATION_RECEIVED"
    INTERVIEW_STARTED = "INTERVIEW_STARTED"
    MESSAGE_RECEIVED = "MESSAGE_RECEIVED"
    OFFER_RECEIVED = "OFFER_RECEIVED"
    CONTRACT_UPDATED = "CONTRACT_UPDATED"
    MILESTONE_UPDATED = "MILESTONE_UPDATED"
    REVIEW_RECEIVED = "REVIEW_RECEIVED"
    DISPUTE_UPDATED = "DISPUTE_UPDATED"


class Notification(Model):
    """A stream table: `seq` (the bigint identity) orders the feed and makes its cursors, while
    `public_id` (a UUID) is its identity in the API."""

    seq: fields.Field[int] = fields.BigIntField(primary_key=True)
    public_id = fields.UUIDField(unique=True, default=uuid4)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="notifications", on_delete=fields.CASCADE
    )
    user_id: UUID
    kind = fields.CharEnumField(NotificationKind, max_length=32)
    title = fields.CharField(max_length=200)
    subject_type = fields.CharField(max_length=40, null=True)
    subject_id = fields.UUIDField(null=True)
    read_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "notifications"
        indexes = (("user_id", "read_at"),)
