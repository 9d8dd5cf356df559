from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now

if TYPE_CHECKING:
    from models.interviews.orm import Interview
    from models.jobs.orm import Job
    from models.profiles.orm import ClientProfile, FreelancerProfile
    from models.proposals.orm import Proposal
    from models.users.orm import User


class ContractType(StrEnum):
    FIXED = "FIXED"
    HOURLY = "HOURLY"


class ContractStatus(StrEnum):
    OFFERED = "OFFERED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"
    EXPIRED = "EXPIRED"
    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    DISPUTED = "DISPUTED"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"


class MilestoneStatus(StrEnum):
    PENDING = "PENDING"
    FUNDED = "FUNDED"
    SUBMITTED = "SUBMITTED"
    CHANGES_REQUESTED = "CHANGES_REQUESTED"
    PAID = "PAID"
    REFUNDED = "REFUNDED"
    CANCELLED = "CANCELLED"


class ContractEventKind(StrEnum):
    OFFER_SENT = "OFFER_SENT"
    OFFER_ACCEPTED = "OFFER_ACCEPTED"
    OFFER_DECLINED = "OFFER_DECLINED"
    OFFER_WITHDRAWN = "OFFER_WITHDRAWN"
    OFFER_EXPIRED = "OFFER_EXPIRED"
    MILESTONE_ADDED = "MILESTONE_ADDED"
    MILESTONE_FUNDED = "MILESTONE_FUNDED"
    MILESTONE_SUBMITTED = "MILESTONE_SUBMITTED"
    MILESTONE_CHANGES_REQUESTED = "MILESTONE_CHANGES_REQUESTED"
    MILESTONE_PAID = "MILESTONE_PAID"
    MILESTONE_REFUNDED = "MILESTONE_REFUNDED"
    CONTRACT_PAUSED = "CONTRACT_PAUSED"
    CONTRACT_RESUMED = "CONTRACT_RESUMED"
    DISPUTE_OPENED = "DISPUTE_OPENED"
    DISPUTE_RESOLVED = "DISPUTE_RESOLVED"
    CONTRACT_COMPLETED = "CONTRACT_COMPLETED"
    CONTRACT_CANCELLED = "CONTRACT_CANCELLED"
    TIME_LOGGED = "TIME_LOGGED"
    TIMESHEET_PAID = "TIMESHEET_PAID"
    REVIEW_SUBMITTED = "REVIEW_SUBMITTED"


class TimeEntryStatus(StrEnum):
    LOGGED = "LOGGED"
    PAID = "PAID"


class DisputeStatus(StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


class Contract(Entity):
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "models.Job", related_name="contracts", on_delete=fields.RESTRICT
    )
    job_id: UUID
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "models.Proposal", related_name="contracts", null=True, on_delete=fields.SET_NULL
    )
    proposal_id: UUID | None
    interview: fields.ForeignKeyNullableRelation[Interview] = fields.ForeignKeyField(
        "models.Interview", related_name="contracts", null=True, on_delete=fields.SET_NULL
    )
    interview_id: UUID | None
    client: fields.ForeignKeyRelation[ClientProfile] = fields.ForeignKeyField(
        "models.ClientProfile", related_name="contracts", on_delete=fields.RESTRICT
    )
    client_id: UUID
    freelancer: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="contracts", on_delete=fields.RESTRICT
    )
    freelancer_id: UUID
    # The two parties as users, for policies and channels without a join.
    client_user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="contracts_as_client", on_delete=fields.RESTRICT
    )
    client_user_id: UUID
    freelancer_user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="contracts_as_freelancer", on_delete=fields.RESTRICT
    )
    freelancer_user_id: UUID
    title = fields.CharField(max_length=150)
    terms = fields.TextField()
    contract_type = fields.CharEnumField(ContractType, max_length=8)
    currency = fields.CharField(max_length=3, default="USD")
    hourly_rate_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    weekly_limit_hours = fields.IntField(null=True)
    deadline = fields.DateField(null=True)
    status = fields.CharEnumField(ContractStatus, max_length=16, db_index=True)
    # Money totals kept with each movement, in the movement's transaction.
    funded_cents: fields.Field[int] = fields.BigIntField(default=0)
    paid_cents: fields.Field[int] = fields.BigIntField(default=0)
    refunded_cents: fields.Field[int] = fields.BigIntField(default=0)
    offer_expires_at = fields.DatetimeField(null=True)
    started_at = fields.DatetimeField(null=True)
    ended_at = fields.DatetimeField(null=True)
    review_deadline = fields.DatetimeField(null=True)
    updated_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "contracts"
        indexes = (("client_user_id", "created_at"), ("freelancer_user_id", "created_at"))


class Milestone(Entity):
    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="milestones", on_delete=fields.CASCADE
    )
    contract_id: UUID
    position = fields.IntField()
    title = fields.CharField(max_length=150)
    description = fields.TextField(default="")
    amount_cents: fields.Field[int] = fields.BigIntField()
    due_date = fields.DateField(null=True)
    status = fields.CharEnumField(MilestoneStatus, max_length=20, default=MilestoneStatus.PENDING)
    released_cents: fields.Field[int] = fields.BigIntField(default=0)
    refunded_cents: fields.Field[int] = fields.BigIntField(default=0)
    funded_at = fields.DatetimeField(null=True)
    submitted_at = fields.DatetimeField(null=True)
    paid_at = fields.DatetimeField(null=True)
    auto_release_at = fields.DatetimeField(null=True, db_index=True)
    updated_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "milestones"
        unique_together = (("contract", "position"),)


class MilestoneSubmission(Model):
    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    milestone: fields.ForeignKeyRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name="submissions", on_delete=fields.CASCADE
    )
    milestone_id: UUID
    message = fields.TextField()
    attachment_urls: fields.JSONField[list[str]] = fields.JSONField(default=list)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "milestone_submissions"


class ContractEvent(Model):
    """A stream table: `seq` orders a contract's history and makes `contractUpdated` cursors."""

    seq: fields.Field[int] = fields.BigIntField(primary_key=True)
    public_id = fields.UUIDField(unique=True, default=uuid4)
    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="events", on_delete=fields.CASCADE
    )
    contract_id: UUID
    kind = fields.CharEnumField(ContractEventKind, max_length=32)
    milestone: fields.ForeignKeyNullableRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name="events", null=True, on_delete=fields.SET_NULL
    )
    milestone_id: UUID | None
    actor: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="contract_events", null=True, on_delete=fields.SET_NULL
    )
    actor_id: UUID | None
    status = fields.CharEnumField(ContractStatus, max_length=16)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "contract_events"
        indexes = (("contract_id", "seq"),)


class TimeEntry(Entity):
    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="time_entries", on_delete=fields.CASCADE
    )
    contract_id: UUID
    date = fields.DateField()
    week_start = fields.DateField(db_index=True)
    # Hours in hundredths (1.25 h is 125), so hours stay exact integers like money.
    centihours = fields.IntField()
    memo = fields.TextField()
    amount_cents: fields.Field[int] = fields.BigIntField()
    status = fields.CharEnumField(TimeEntryStatus, max_length=8, default=TimeEntryStatus.LOGGED)

    class Meta:
        table = "time_entries"


class Dispute(Entity):
    contract: fields.ForeignKeyRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="disputes", on_delete=fields.CASCADE
    )
    contract_id: UUID
    milestone: fields.ForeignKeyNullableRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name="disputes", null=True, on_delete=fields.SET_NULL
    )
    milestone_id: UUID | None
    opened_by: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="disputes_opened", on_delete=fields.RESTRICT
    )
    opened_by_id: UUID
    reason = fields.TextField()
    status = fields.CharEnumField(DisputeStatus, max_length=8, default=DisputeStatus.OPEN)
    frozen_cents: fields.Field[int] = fields.BigIntField()
    released_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    refunded_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    resolution_note = fields.TextField(null=True)
    resolved_by: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="disputes_resolved", null=True, on_delete=fields.SET_NULL
    )
    resolved_by_id: UUID | None
    resolved_at = fields.DatetimeField(null=True)

    class Meta:
        table = "disputes"
