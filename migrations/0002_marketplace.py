from uuid import uuid4

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.base import utc_now
from models.jobs.orm import BudgetType, ExperienceLevel, InvitationStatus, JobStatus, JobVisibility
from models.notifications.orm import NotificationKind
from models.proposals.orm import ConnectsReason, ProposalStatus


async def create_job_search_structures(apps, schema_editor):
    # Full-text search: an FTS5 table on SQLite, a tsvector column with a GIN index on PostgreSQL.
    from models.jobs.search_index import create_search_structures

    await create_search_structures(schema_editor.client)


class Migration(migrations.Migration):
    dependencies = [("models", "0001_initial")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Job",
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
                    "client",
                    fields.ForeignKeyField(
                        "models.ClientProfile",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="jobs",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("title", fields.CharField(max_length=150)),
                ("description", fields.TextField(unique=False)),
                (
                    "budget_type",
                    fields.CharEnumField(
                        description="FIXED: FIXED\nHOURLY: HOURLY",
                        enum_type=BudgetType,
                        max_length=8,
                    ),
                ),
                ("budget_cents", fields.BigIntField(null=True)),
                ("hourly_rate_min_cents", fields.BigIntField(null=True)),
                ("hourly_rate_max_cents", fields.BigIntField(null=True)),
                ("budget_sort_cents", fields.BigIntField(db_index=True)),
                ("deadline", fields.DateField(null=True)),
                (
                    "experience_level",
                    fields.CharEnumField(
                        description="ENTRY: ENTRY\nINTERMEDIATE: INTERMEDIATE\nEXPERT: EXPERT",
                        enum_type=ExperienceLevel,
                        max_length=16,
                    ),
                ),
                (
                    "visibility",
                    fields.CharEnumField(
                        default=JobVisibility.PUBLIC,
                        description="PUBLIC: PUBLIC\nINVITE_ONLY: INVITE_ONLY",
                        enum_type=JobVisibility,
                        max_length=16,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        db_index=True,
                        description="DRAFT: DRAFT\nOPEN: OPEN\nFILLED: FILLED\nCLOSED: CLOSED\nCANCELLED: CANCELLED",
                        enum_type=JobStatus,
                        max_length=16,
                    ),
                ),
                ("connects_required", fields.IntField()),
                ("proposal_count", fields.IntField(default=0)),
                ("skill_names", fields.TextField(default="", unique=False)),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
                (
                    "published_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "jobs",
                "app": "models",
                "indexes": [
                    Index(fields=["status", "created_at", "id"]),
                    Index(fields=["client_id", "created_at"]),
                ],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Invitation",
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
                        related_name="invitations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "freelancer",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="freelancer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="invitations",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("message", fields.TextField(unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=InvitationStatus.PENDING,
                        description="PENDING: PENDING\nACCEPTED: ACCEPTED\nDECLINED: DECLINED",
                        enum_type=InvitationStatus,
                        max_length=16,
                    ),
                ),
                (
                    "responded_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "invitations",
                "app": "models",
                "unique_together": (("job", "freelancer"),),
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="JobSkill",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "job",
                    fields.ForeignKeyField(
                        "models.Job",
                        source_field="job_id",
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
                        related_name="job_links",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField(default=0)),
            ],
            options={
                "table": "job_skills",
                "app": "models",
                "unique_together": (("job", "skill"),),
                "pk_attr": "id",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Notification",
            fields=[
                (
                    "seq",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("public_id", fields.UUIDField(default=uuid4, unique=True)),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="notifications",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="PROPOSAL_RECEIVED: PROPOSAL_RECEIVED\nINVITATION_RECEIVED: INVITATION_RECEIVED\nINTERVIEW_STARTED: INTERVIEW_STARTED\nMESSAGE_RECEIVED: MESSAGE_RECEIVED\nOFFER_RECEIVED: OFFER_RECEIVED\nCONTRACT_UPDATED: CONTRACT_UPDATED\nMILESTONE_UPDATED: MILESTONE_UPDATED\nREVIEW_RECEIVED: REVIEW_RECEIVED\nDISPUTE_UPDATED: DISPUTE_UPDATED",
                        enum_type=NotificationKind,
                        max_length=32,
                    ),
                ),
                ("title", fields.CharField(max_length=200)),
                ("subject_type", fields.CharField(null=True, max_length=40)),
                ("subject_id", fields.UUIDField(null=True)),
                ("read_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "notifications",
                "app": "models",
                "indexes": [Index(fields=["user_id", "read_at"])],
                "pk_attr": "seq",
                "table_description": "A stream table: `seq` (the bigint identity) orders the feed and makes its cursors, while",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Proposal",
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
                        related_name="proposals",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "freelancer",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="freelancer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="proposals",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("cover_letter", fields.TextField(unique=False)),
                ("bid_amount_cents", fields.BigIntField()),
                ("estimated_duration_days", fields.IntField(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=ProposalStatus.SUBMITTED,
                        description="SUBMITTED: SUBMITTED\nSHORTLISTED: SHORTLISTED\nINTERVIEWING: INTERVIEWING\nHIRED: HIRED\nDECLINED: DECLINED\nWITHDRAWN: WITHDRAWN",
                        enum_type=ProposalStatus,
                        max_length=16,
                    ),
                ),
                ("connects_spent", fields.IntField(default=0)),
                ("decline_reason", fields.TextField(null=True, unique=False)),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "proposals",
                "app": "models",
                "unique_together": (("job", "freelancer"),),
                "indexes": [Index(fields=["freelancer_id", "created_at"])],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="ConnectsEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "freelancer",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="freelancer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="connects",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("delta", fields.IntField()),
                (
                    "reason",
                    fields.CharEnumField(
                        description="MONTHLY_ALLOTMENT: MONTHLY_ALLOTMENT\nPROPOSAL: PROPOSAL\nREFUND: REFUND\nPURCHASE: PURCHASE",
                        enum_type=ConnectsReason,
                        max_length=24,
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
                        related_name="connects_entries",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "connects_entries",
                "app": "models",
                "pk_attr": "id",
                "table_description": "The connects ledger: every change to a balance, so the balance is always its sum.",
            },
            bases=["Model"],
        ),
        ops.AddField(
            model_name="FreelancerProfile",
            name="connects_balance",
            field=fields.IntField(default=0),
        ),
        ops.RunPython(create_job_search_structures),
    ]
