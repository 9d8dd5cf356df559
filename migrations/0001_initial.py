from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

from models.base import utc_now
from models.profiles.orm import Availability


class Migration(migrations.Migration):
    initial = True

    operations = [
        ops.CreateModel(
            name="LoginFailure",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("email", fields.CharField(db_index=True, max_length=254)),
                ("address", fields.CharField(db_index=True, max_length=64)),
                (
                    "created_at",
                    fields.DatetimeField(
                        default=utc_now, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
            ],
            options={
                "table": "login_failures",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One failed log-in, counted per email and per client address to rate-limit guessing.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Skill",
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
                ("name", fields.CharField(unique=True, max_length=60)),
                ("slug", fields.CharField(unique=True, max_length=60)),
            ],
            options={"table": "skills", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="User",
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
                ("email", fields.CharField(unique=True, max_length=254)),
                ("display_name", fields.CharField(max_length=80)),
                ("password_hash", fields.CharField(max_length=255)),
                ("is_staff", fields.BooleanField(default=False)),
            ],
            options={"table": "users", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="AuthToken",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("token_hash", fields.CharField(unique=True, max_length=64)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="tokens",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
                ("expires_at", fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ("revoked_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={
                "table": "auth_tokens",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A bearer token. Only its SHA-256 is stored, so a database leak reveals no usable token.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="ClientProfile",
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
                    "user",
                    fields.OneToOneField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="client_profile",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("company_name", fields.CharField(null=True, max_length=120)),
                ("description", fields.TextField(unique=False)),
                ("website", fields.CharField(null=True, max_length=2048)),
                ("location", fields.CharField(null=True, max_length=120)),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "client_profiles", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="FreelancerProfile",
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
                    "user",
                    fields.OneToOneField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="freelancer_profile",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=120)),
                ("overview", fields.TextField(unique=False)),
                ("hourly_rate_cents", fields.BigIntField(null=True)),
                ("location", fields.CharField(null=True, max_length=120)),
                (
                    "availability",
                    fields.CharEnumField(
                        default=Availability.FULL_TIME,
                        description="FULL_TIME: FULL_TIME\nPART_TIME: PART_TIME\nNOT_AVAILABLE: NOT_AVAILABLE",
                        enum_type=Availability,
                        max_length=16,
                    ),
                ),
                ("rating_count", fields.IntField(default=0)),
                ("rating_overall_sum", fields.IntField(default=0)),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "freelancer_profiles", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="FreelancerSkill",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "profile",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="profile_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="skill_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "skill",
                    fields.ForeignKeyField(
                        "models.Skill",
                        source_field="skill_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="freelancer_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "freelancer_skills",
                "app": "models",
                "unique_together": (("profile", "skill"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="PortfolioItem",
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
                    "profile",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="profile_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="portfolio_items",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=120)),
                ("description", fields.TextField(unique=False)),
                ("url", fields.CharField(null=True, max_length=2048)),
            ],
            options={"table": "portfolio_items", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
    ]
