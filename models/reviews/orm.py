from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields

from models.base import Entity

if TYPE_CHECKING:
    from models.contracts.orm import Contract
    from models.users.orm import User


class ReviewerRole(StrEnum):
    CLIENT = "CLIENT"
    FREELANCER = "FREELANCER"


class Review(Entity):
    """Double-blind: hidden from everyone but its author until `revealed_at` is set, when both
    parties have reviewed or the review window has closed."""

    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="reviews", on_delete=fields.CASCADE
    )
    contract_id: UUID
    author: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviews_written", on_delete=fields.CASCADE
    )
    author_id: UUID
    subject: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="reviews_received", on_delete=fields.CASCADE
    )
    subject_id: UUID
    author_role = fields.CharEnumField(ReviewerRole, max_length=12)
    overall: fields.Field[int] = fields.SmallIntField()
    communication: fields.Field[int] = fields.SmallIntField()
    quality: fields.Field[int] = fields.SmallIntField()
    deadlines: fields.Field[int] = fields.SmallIntField()
    comment = fields.TextField()
    revealed_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "reviews"
        unique_together = (("contract", "author"),)
        indexes = (("subject_id", "author_role", "revealed_at"),)
