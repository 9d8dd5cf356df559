from uuid import uuid4

from orjson import loads
from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.fields.data import JSON_DUMPS
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

from models.base import utc_now
from models.contracts.orm import (
    ContractEventKind,
    ContractStatus,
    ContractType,
    DisputeStatus,
    MilestoneStatus,
    TimeEntryStatus,
)
from models.payments.orm import AccountKind, TransactionKind


class Migration(migrations.Migration):
    dependencies = [("models", "0003_interviews")]

    initial = False

    operations = [
        ops.CreateModel(
            name="Contract",
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
                        related_name="contracts",
                        on_delete=OnDelete.RESTRICT,
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
                        related_name="contracts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "interview",
                    fields.ForeignKeyField(
                        "models.Interview",
                        source_field="interview_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="contracts",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "client",
                    fields.ForeignKeyField(
                        "models.ClientProfile",
                        source_field="client_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="contracts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "freelancer",
                    fields.ForeignKeyField(
                        "models.FreelancerProfile",
                        source_field="freelancer_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="contracts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "client_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="client_user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="contracts_as_client",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "freelancer_user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="freelancer_user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="contracts_as_freelancer",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("title", fields.CharField(max_length=150)),
                ("terms", fields.TextField(unique=False)),
                (
                    "contract_type",
                    fields.CharEnumField(
                        description="FIXED: FIXED\nHOURLY: HOURLY",
                        enum_type=ContractType,
                        max_length=8,
                    ),
                ),
                ("currency", fields.CharField(default="USD", max_length=3)),
                ("hourly_rate_cents", fields.BigIntField(null=True)),
                ("weekly_limit_hours", fields.IntField(null=True)),
                ("deadline", fields.DateField(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        db_index=True,
                        description="OFFERED: OFFERED\nDECLINED: DECLINED\nWITHDRAWN: WITHDRAWN\nEXPIRED: EXPIRED\nACTIVE: ACTIVE\nPAUSED: PAUSED\nDISPUTED: DISPUTED\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED",
                        enum_type=ContractStatus,
                        max_length=16,
                    ),
                ),
                ("funded_cents", fields.BigIntField(default=0)),
                ("paid_cents", fields.BigIntField(default=0)),
                ("refunded_cents", fields.BigIntField(default=0)),
                (
                    "offer_expires_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("started_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ("ended_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "review_deadline",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "contracts",
                "app": "models",
                "indexes": [
                    Index(fields=["client_user_id", "created_at"]),
                    Index(fields=["freelancer_user_id", "created_at"]),
                ],
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="Account",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("key", fields.CharField(unique=True, max_length=80)),
                (
                    "kind",
                    fields.CharEnumField(
                        description="WALLET: WALLET\nESCROW: ESCROW\nPLATFORM: PLATFORM\nEXTERNAL: EXTERNAL",
                        enum_type=AccountKind,
                        max_length=16,
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="accounts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "contract",
                    fields.ForeignKeyField(
                        "models.Contract",
                        source_field="contract_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="accounts",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("balance_cents", fields.BigIntField(default=0)),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "accounts",
                "app": "models",
                "pk_attr": "id",
                "table_description": "A ledger account: a user's wallet, a contract's escrow, the platform's fee revenue, or",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="IdempotencyRecord",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "user",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="user_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="idempotency_records",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("key", fields.CharField(max_length=100)),
                ("operation", fields.CharField(max_length=60)),
                ("result_id", fields.CharField(null=True, max_length=60)),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "idempotency_records",
                "app": "models",
                "unique_together": (("user", "key"),),
                "pk_attr": "id",
                "table_description": "The first result of a money-moving request made with an idempotency key.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Milestone",
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
                        related_name="milestones",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("position", fields.IntField()),
                ("title", fields.CharField(max_length=150)),
                ("description", fields.TextField(default="", unique=False)),
                ("amount_cents", fields.BigIntField()),
                ("due_date", fields.DateField(null=True)),
                (
                    "status",
                    fields.CharEnumField(
                        default=MilestoneStatus.PENDING,
                        description="PENDING: PENDING\nFUNDED: FUNDED\nSUBMITTED: SUBMITTED\nCHANGES_REQUESTED: CHANGES_REQUESTED\nPAID: PAID\nREFUNDED: REFUNDED\nCANCELLED: CANCELLED",
                        enum_type=MilestoneStatus,
                        max_length=20,
                    ),
                ),
                ("released_cents", fields.BigIntField(default=0)),
                ("refunded_cents", fields.BigIntField(default=0)),
                ("funded_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "submitted_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
                ("paid_at", fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                (
                    "auto_release_at",
                    fields.DatetimeField(
                        null=True, db_index=True, auto_now=False, auto_now_add=False
                    ),
                ),
                (
                    "updated_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "milestones",
                "app": "models",
                "unique_together": (("contract", "position"),),
                "pk_attr": "id",
            },
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="ContractEvent",
            fields=[
                (
                    "seq",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("public_id", fields.UUIDField(default=uuid4, unique=True)),
                (
                    "contract",
                    fields.ForeignKeyField(
                        "models.Contract",
                        source_field="contract_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="OFFER_SENT: OFFER_SENT\nOFFER_ACCEPTED: OFFER_ACCEPTED\nOFFER_DECLINED: OFFER_DECLINED\nOFFER_WITHDRAWN: OFFER_WITHDRAWN\nOFFER_EXPIRED: OFFER_EXPIRED\nMILESTONE_ADDED: MILESTONE_ADDED\nMILESTONE_FUNDED: MILESTONE_FUNDED\nMILESTONE_SUBMITTED: MILESTONE_SUBMITTED\nMILESTONE_CHANGES_REQUESTED: MILESTONE_CHANGES_REQUESTED\nMILESTONE_PAID: MILESTONE_PAID\nMILESTONE_REFUNDED: MILESTONE_REFUNDED\nCONTRACT_PAUSED: CONTRACT_PAUSED\nCONTRACT_RESUMED: CONTRACT_RESUMED\nDISPUTE_OPENED: DISPUTE_OPENED\nDISPUTE_RESOLVED: DISPUTE_RESOLVED\nCONTRACT_COMPLETED: CONTRACT_COMPLETED\nCONTRACT_CANCELLED: CONTRACT_CANCELLED\nTIME_LOGGED: TIME_LOGGED\nTIMESHEET_PAID: TIMESHEET_PAID\nREVIEW_SUBMITTED: REVIEW_SUBMITTED",
                        enum_type=ContractEventKind,
                        max_length=32,
                    ),
                ),
                (
                    "milestone",
                    fields.ForeignKeyField(
                        "models.Milestone",
                        source_field="milestone_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "actor",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="actor_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="contract_events",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "status",
                    fields.CharEnumField(
                        description="OFFERED: OFFERED\nDECLINED: DECLINED\nWITHDRAWN: WITHDRAWN\nEXPIRED: EXPIRED\nACTIVE: ACTIVE\nPAUSED: PAUSED\nDISPUTED: DISPUTED\nCOMPLETED: COMPLETED\nCANCELLED: CANCELLED",
                        enum_type=ContractStatus,
                        max_length=16,
                    ),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "contract_events",
                "app": "models",
                "indexes": [Index(fields=["contract_id", "seq"])],
                "pk_attr": "seq",
                "table_description": "A stream table: `seq` orders a contract's history and makes `contractUpdated` cursors.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Dispute",
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
                        related_name="disputes",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                (
                    "milestone",
                    fields.ForeignKeyField(
                        "models.Milestone",
                        source_field="milestone_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="disputes",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "opened_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="opened_by_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="disputes_opened",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("reason", fields.TextField(unique=False)),
                (
                    "status",
                    fields.CharEnumField(
                        default=DisputeStatus.OPEN,
                        description="OPEN: OPEN\nRESOLVED: RESOLVED",
                        enum_type=DisputeStatus,
                        max_length=8,
                    ),
                ),
                ("frozen_cents", fields.BigIntField()),
                ("released_cents", fields.BigIntField(null=True)),
                ("refunded_cents", fields.BigIntField(null=True)),
                ("resolution_note", fields.TextField(null=True, unique=False)),
                (
                    "resolved_by",
                    fields.ForeignKeyField(
                        "models.User",
                        source_field="resolved_by_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="disputes_resolved",
                        on_delete=OnDelete.SET_NULL,
                    ),
                ),
                (
                    "resolved_at",
                    fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "disputes", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
        ops.CreateModel(
            name="JournalEntry",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "kind",
                    fields.CharEnumField(
                        description="DEPOSIT: DEPOSIT\nWITHDRAWAL: WITHDRAWAL\nESCROW_FUND: ESCROW_FUND\nESCROW_RELEASE: ESCROW_RELEASE\nESCROW_REFUND: ESCROW_REFUND\nSERVICE_FEE: SERVICE_FEE\nHOURLY_PAYMENT: HOURLY_PAYMENT\nCONNECTS_PURCHASE: CONNECTS_PURCHASE",
                        enum_type=TransactionKind,
                        max_length=24,
                    ),
                ),
                ("unique_key", fields.CharField(null=True, unique=True, max_length=120)),
                (
                    "contract",
                    fields.ForeignKeyField(
                        "models.Contract",
                        source_field="contract_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="journal_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "milestone",
                    fields.ForeignKeyField(
                        "models.Milestone",
                        source_field="milestone_id",
                        null=True,
                        db_constraint=True,
                        to_field="id",
                        related_name="journal_entries",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("memo", fields.CharField(default="", max_length=200)),
                ("provider_reference", fields.CharField(null=True, max_length=80)),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "journal_entries",
                "app": "models",
                "pk_attr": "id",
                "table_description": "One money movement. Its postings sum to zero. `unique_key` makes a movement that must",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="MilestoneSubmission",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                (
                    "milestone",
                    fields.ForeignKeyField(
                        "models.Milestone",
                        source_field="milestone_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="submissions",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("message", fields.TextField(unique=False)),
                (
                    "attachment_urls",
                    fields.JSONField(default=list, encoder=JSON_DUMPS, decoder=loads),
                ),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={"table": "milestone_submissions", "app": "models", "pk_attr": "id"},
            bases=["Model"],
        ),
        ops.CreateModel(
            name="Posting",
            fields=[
                (
                    "id",
                    fields.BigIntField(
                        generated=True, primary_key=True, unique=True, db_index=True
                    ),
                ),
                ("public_id", fields.UUIDField(default=uuid4, unique=True)),
                (
                    "entry",
                    fields.ForeignKeyField(
                        "models.JournalEntry",
                        source_field="entry_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="postings",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                (
                    "account",
                    fields.ForeignKeyField(
                        "models.Account",
                        source_field="account_id",
                        db_constraint=True,
                        to_field="id",
                        related_name="postings",
                        on_delete=OnDelete.RESTRICT,
                    ),
                ),
                ("amount_cents", fields.BigIntField()),
                ("balance_after_cents", fields.BigIntField()),
                (
                    "created_at",
                    fields.DatetimeField(default=utc_now, auto_now=False, auto_now_add=False),
                ),
            ],
            options={
                "table": "postings",
                "app": "models",
                "indexes": [Index(fields=["account_id", "id"])],
                "pk_attr": "id",
                "table_description": "One line of an entry: a signed amount on one account, and that account's balance after.",
            },
            bases=["Model"],
        ),
        ops.CreateModel(
            name="TimeEntry",
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
                        related_name="time_entries",
                        on_delete=OnDelete.CASCADE,
                    ),
                ),
                ("date", fields.DateField()),
                ("week_start", fields.DateField(db_index=True)),
                ("centihours", fields.IntField()),
                ("memo", fields.TextField(unique=False)),
                ("amount_cents", fields.BigIntField()),
                (
                    "status",
                    fields.CharEnumField(
                        default=TimeEntryStatus.LOGGED,
                        description="LOGGED: LOGGED\nPAID: PAID",
                        enum_type=TimeEntryStatus,
                        max_length=8,
                    ),
                ),
            ],
            options={"table": "time_entries", "app": "models", "pk_attr": "id"},
            bases=["Entity"],
        ),
    ]
