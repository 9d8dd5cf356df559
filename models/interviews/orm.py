from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now

if TYPE_CHECKING:
    from models.jobs.orm import Job
    from models.proposals.orm import Proposal
    from models.users.orm import User


class InterviewStatus(StrEnum):
    OPEN = "OPEN"
    CLOSED = "CLOSED"


class Interview(Entity):
    """The conversation between a job's client and one freelancer, carried on into the
    contract. Each party's read position is kept here, so unread counts need no extra table."""

    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "models.Job", related_name="interviews", on_delete=fields.CASCADE
    )
    job_id: UUID
    proposal: fields.OneToOneNullableRelation[Proposal] = fields.OneToOneField(
        "models.Proposal", related_name="interview", null=True, on_delete=fields.SET_NULL
    )
    proposal_id: UUID | None
    client: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interviews_as_client", on_delete=fields.CASCADE
    )
    client_id: UUID
    freelancer: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="interviews_as_freelancer", on_delete=fields.CASCADE
    )
    freelancer_id: UUID
    status = fields.CharEnumField(InterviewStatus, max_length=8, default=InterviewStatus.OPEN)
    last_message_seq: fields.Field[int | None] = fields.BigIntField(null=True)
    client_read_seq: fields.Field[int] = fields.BigIntField(default=0)
    freelancer_read_seq: fields.Field[int] = fields.BigIntField(default=0)

    class Meta:
        table = "interviews"
        indexes = (("client_id", "created_at"), ("freelancer_id", "created_at"))


class Message(Model):
    """A stream table: `seq` orders messages and makes the cursors of `messageAdded(after:)`,
    while `public_id` is the message's identity in the API."""

    seq: fields.Field[int] = fields.BigIntField(primary_key=True)
    public_id = fields.UUIDField(unique=True, default=uuid4)
    interview: fields.ForeignKeyRelation[Interview] = fields.ForeignKeyField(
        "models.Interview", related_name="messages", on_delete=fields.CASCADE
    )
    interview_id: UUID
    sender: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="messages", on_delete=fields.CASCADE
    )
    sender_id: UUID
    body = fields.TextField()
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "messages"
        indexes = (("interview_id", "seq"),)
