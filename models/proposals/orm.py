from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now


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
    job = fields.ForeignKeyField("models.Job", related_name="proposals", on_delete=fields.CASCADE)
    freelancer = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="proposals", on_delete=fields.CASCADE
    )
    cover_letter = fields.TextField()
    bid_amount_cents = fields.BigIntField()
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

    id = fields.BigIntField(primary_key=True)
    freelancer = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="connects", on_delete=fields.CASCADE
    )
    delta = fields.IntField()
    reason = fields.CharEnumField(ConnectsReason, max_length=24)
    proposal = fields.ForeignKeyField(
        "models.Proposal", related_name="connects_entries", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "connects_entries"
