from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now

if TYPE_CHECKING:
    from models.jobs.orm import Job
    from models.profiles.orm import FreelancerProfile


class ProposalStatus(StrEnum):
    SUBMITTED = "SUBMITTED"
    SHORTLISTED = "SHORTLISTED"
    INTERVIEWING = "INTERVIEWING"
    HIRED = "HIRED"
    DECLINED = "DECLINED"
    WITHDRAWN = "WITHDRAWN"


class ConnectsReason(StrEnum):
    MONTHLY_ALLOTMENT = "MONTHLY_ALLOTMENT"
    PROPOSAL = "PROPOSAL"
    REFUND = "REFUND"
    PURCHASE = "PURCHASE"


class Proposal(Entity):
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "models.Job", related_name="proposals", on_delete=fields.CASCADE
    )
    job_id: UUID
    freelancer: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="proposals", on_delete=fields.CASCADE
    )
    freelancer_id: UUID
    cover_letter = fields.TextField()
    bid_amount_cents: fields.Field[int] = fields.BigIntField()
    estimated_duration_days = fields.IntField(null=True)
    status = fields.CharEnumField(ProposalStatus, max_length=16, default=ProposalStatus.SUBMITTED)
    connects_spent = fields.IntField(default=0)
    decline_reason = fields.TextField(null=True)
    updated_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "proposals"
        unique_together = (("job", "freelancer"),)
        indexes = (("freelancer_id", "created_at"),)


class ConnectsEntry(Model):
    """The connects ledger: every change to a balance, so the balance is always its sum."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    freelancer: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="connects", on_delete=fields.CASCADE
    )
    freelancer_id: UUID
    delta = fields.IntField()
    reason = fields.CharEnumField(ConnectsReason, max_length=24)
    proposal: fields.ForeignKeyNullableRelation[Proposal] = fields.ForeignKeyField(
        "models.Proposal", related_name="connects_entries", null=True, on_delete=fields.SET_NULL
    )
    proposal_id: UUID | None
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "connects_entries"
