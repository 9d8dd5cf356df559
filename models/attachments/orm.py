from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields

from models.base import Entity

if TYPE_CHECKING:
    from models.contracts.orm import MilestoneSubmission
    from models.interviews.orm import Message
    from models.proposals.orm import Proposal
    from models.users.orm import User


class Attachment(Entity):
    """A file attached to exactly one of: a chat message, a proposal, a milestone submission.
    Its bytes are in the storage under its id; the row is what makes them visible."""

    message: fields.ForeignKeyNullableRelation[Message] = fields.ForeignKeyField(
        "models.Message", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    message_id: int | None
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "models.Proposal", related_name="attachments", null=True, on_delete=fields.CASCADE
    )
    proposal_id: UUID | None
    submission: fields.ForeignKeyNullableRelation[MilestoneSubmission] = fields.ForeignKeyField(
        "models.MilestoneSubmission",
        related_name="attachments",
        null=True,
        on_delete=fields.CASCADE,
    )
    submission_id: int | None
    uploader: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="attachments", on_delete=fields.CASCADE
    )
    uploader_id: UUID
    # The order the files were given in, within their owner.
    position = fields.SmallIntField()
    filename = fields.CharField(max_length=255)
    content_type = fields.CharField(max_length=100)
    size = fields.BigIntField()
    sha256 = fields.CharField(max_length=64)

    class Meta:
        table = "attachments"
        indexes = (
            ("message_id", "position"),
            ("proposal_id", "position"),
            ("submission_id", "position"),
        )
