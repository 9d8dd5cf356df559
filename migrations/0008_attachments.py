from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.base import utc_now


class Migration(migrations.Migration):
    dependencies = [("models", "0007_fee_refund")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Attachment",
            fields=[
                (
                    "id",
                    fields.UUIDField(primary_key=True, default=uuid4, unique=True, db_index=True),
                ),
                (
                    "created_at",
                    fields.DatetimeField(
                        default=utc_now, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                (
                    "message",
                    fields.ForeignKeyField(
                        "models.Message",
                        source_field="message_id",
                        null=True,
                        db_constraint=True,
                        to_field="seq",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "proposal",
                    fields.ForeignKeyField(
                        "models.Proposal",
                        source_field="proposal_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "submission",
                    fields.ForeignKeyField(
                        "models.MilestoneSubmission",
                        source_field="submission_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "uploader",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="uploader_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="attachments",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.SmallIntField()),
                ("filename", fields.CharField(max_length=255)),
                ("content_type", fields.CharField(max_length=100)),
                ("size", fields.BigIntField()),
                ("sha256", fields.CharField(max_length=64)),
            ],
            options={
                "table": "attachments",
                "app": "models",
                "indexes": [
                    Index(fields=["message_id", "position"]),
                    Index(fields=["proposal_id", "position"]),
                    Index(fields=["submission_id", "position"]),
                ],
                "pk_attr": "id",
                "table_description": "A file attached to exactly one of: a chat message, a proposal, a milestone submission.",
            },
            bases=["Entity"],
        ),
    ]
