from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.base import utc_now
from models.reviews.orm import ReviewerRole


class Migration(migrations.Migration):
    dependencies = [("models", "0004_money")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Review",
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
                    "contract",
                    fields.ForeignKeyField(
                        "models.Contract",
                        source_field="contract_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reviews",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "author",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="author_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reviews_written",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "subject",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="subject_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="reviews_received",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "author_role",
                    fields.CharEnumField(
                        description="CLIENT: CLIENT\nFREELANCER: FREELANCER",
                        enum_type=ReviewerRole,
                        max_length=12,
                    ),
                ),
                ("overall", fields.SmallIntField()),
                ("communication", fields.SmallIntField()),
                ("quality", fields.SmallIntField()),
                ("deadlines", fields.SmallIntField()),
                ("comment", fields.TextField(unique=False)),
                (
                    "revealed_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
            ],
            options={
                "table": "reviews",
                "app": "models",
                "unique_together": (("contract", "author"),),
                "indexes": [Index(fields=["subject_id", "author_role", "revealed_at"])],
                "pk_attr": "id",
                "table_description": "Double-blind: hidden from everyone but its author until `revealed_at` is set, when both",
            },
            bases=["Entity"],
        ),
        ops.AddField(
            model_name="ClientProfile",
            name="rating_communication_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="ClientProfile",
            name="rating_count",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="ClientProfile",
            name="rating_deadlines_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="ClientProfile",
            name="rating_overall_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="ClientProfile",
            name="rating_quality_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="FreelancerProfile",
            name="rating_communication_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="FreelancerProfile",
            name="rating_deadlines_sum",
            field=fields.IntField(default=0),
        ),
        ops.AddField(
            model_name="FreelancerProfile",
            name="rating_quality_sum",
            field=fields.IntField(default=0),
        ),
    ]
