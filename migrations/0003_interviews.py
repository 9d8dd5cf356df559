from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.base import utc_now
from models.interviews.orm import InterviewStatus


class Migration(migrations.Migration):
    dependencies = [("models", "0002_marketplace")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Interview",
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
                    "job",
                    fields.ForeignKeyField(
                        "models.Job",
                        source_field="job_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interviews",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "proposal",
                    fields.OneToOneField(
                        "models.Proposal",
                        source_field="proposal_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="interview",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interviews_as_client",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "freelancer",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="freelancer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="interviews_as_freelancer",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        default=InterviewStatus.OPEN,
                        description="OPEN: OPEN\nCLOSED: CLOSED",
                        enum_type=InterviewStatus,
                        max_length=8,
                    ),
                ),
                ("last_message_seq", fields.BigIntField(null=True)),
                ("client_read_seq", fields.BigIntField(default=0)),
                ("freelancer_read_seq", fields.BigIntField(default=0)),
            ],
            options={
                "table": "interviews",
                "app": "models",
                "indexes": [
                    Index(fields=["client_id", "created_at"]),
                    Index(fields=["freelancer_id", "created_at"]),
                ],
                "pk_attr": "id",
                "table_description": "The conversation between a job's client and one freelancer, carried on into the",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Message",
            fields=[
                (
                    "seq",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("public_id", fields.UUIDField(default=uuid4, unique=True)),
                (
                    "interview",
                    fields.ForeignKeyField(
                        "models.Interview",
                        source_field="interview_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "sender",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="sender_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="messages",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("body", fields.TextField(unique=False)),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "messages",
                "app": "models",
                "indexes": [Index(fields=["interview_id", "seq"])],
                "pk_attr": "seq",
                "table_description": "A stream table: `seq` orders messages and makes the cursors of `messageAdded(after:)`,",
            },
            bases=["Model"],
        ),
    ]
