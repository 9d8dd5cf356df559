from __future__ import annotations

from enum import StrEnum

from tortoise import fields

from models.base import Entity


class ReviewerRole(StrEnum):
    CLIENT = "CLIENT"
    FREELANCER = "FREELANCER"


class Review(Entity):
    """Double-blind: hidden from everyone but its author until `revealed_at` is set, when both
    parties have reviewed or the review window has closed."""

    contract = fields.ForeignKeyField(
        "models.Contract", related_name="reviews", on_delete=fields.CASCADE
    )
    author = fields.ForeignKeyField(
        "models.User", related_name="reviews_written", on_delete=fields.CASCADE
    )
    subject = fields.ForeignKeyField(
        "models.User", related_name="reviews_received", on_delete=fields.CASCADE
    )
    author_role = fields.CharEnumField(ReviewerRole, max_length=12)
    overall = fields.SmallIntField()
    communication = fields.SmallIntField()
    quality = fields.SmallIntField()
    deadlines = fields.SmallIntField()
    comment = fields.TextField()
    revealed_at = fields.DatetimeField(null=True, db_index=True)

    class Meta:
        table = "reviews"
        unique_together = (("contract", "author"),)
        indexes = (("subject_id", "author_role", "revealed_at"),)
