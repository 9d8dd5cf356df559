from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now

if TYPE_CHECKING:
    from models.profiles.orm import ClientProfile, FreelancerProfile, Skill


class BudgetType(StrEnum):
    FIXED = "FIXED"
    HOURLY = "HOURLY"


class ExperienceLevel(StrEnum):
    ENTRY = "ENTRY"
    INTERMEDIATE = "INTERMEDIATE"
    EXPERT = "EXPERT"


class JobVisibility(StrEnum):
    PUBLIC = "PUBLIC"
    INVITE_ONLY = "INVITE_ONLY"


class JobStatus(StrEnum):
    DRAFT = "DRAFT"
    OPEN = "OPEN"
    FILLED = "FILLED"
    CLOSED = "CLOSED"
    CANCELLED = "CANCELLED"


class InvitationStatus(StrEnum):
    PENDING = "PENDING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"


class Job(Entity):
    client: fields.ForeignKeyRelation[ClientProfile] = fields.ForeignKeyField(
        "models.ClientProfile", related_name="jobs", on_delete=fields.CASCADE
    )
    client_id: UUID
    title = fields.CharField(max_length=150)
    description = fields.TextField()
    budget_type = fields.CharEnumField(BudgetType, max_length=8)
    budget_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    hourly_rate_min_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    hourly_rate_max_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    # What BUDGET ordering and min/maxBudget compare: the fixed budget, or a week (40 h) at the
    # top hourly rate. Never null, so it can be a keyset column.
    budget_sort_cents: fields.Field[int] = fields.BigIntField(db_index=True)
    deadline = fields.DateField(null=True)
    experience_level = fields.CharEnumField(ExperienceLevel, max_length=16)
    visibility = fields.CharEnumField(JobVisibility, max_length=16, default=JobVisibility.PUBLIC)
    status = fields.CharEnumField(JobStatus, max_length=16, db_index=True)
    connects_required = fields.IntField()
    proposal_count = fields.IntField(default=0)
    # The words full-text search sees: title, skill names and description.
    skill_names = fields.TextField(default="")
    updated_at = fields.DatetimeField(default=utc_now)
    published_at = fields.DatetimeField(null=True)

    class Meta:
        table = "jobs"
        indexes = (("status", "created_at", "id"), ("client_id", "created_at"))


class JobSkill(Model):
    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "models.Job", related_name="skill_links", on_delete=fields.CASCADE
    )
    job_id: UUID
    skill: fields.ForeignKeyRelation[Skill] = fields.ForeignKeyField(
        "models.Skill", related_name="job_links", on_delete=fields.CASCADE
    )
    skill_id: UUID
    position = fields.IntField(default=0)

    class Meta:
        table = "job_skills"
        unique_together = (("job", "skill"),)
        # A job's skills in order, from the index alone: the job search page reads them for
        # every job it lists (skills_by_job, sql_types.Linked), and the unique (job, skill)
        # index lacks the position, so PostgreSQL read the table's rows instead.
        indexes = (("job_id", "position", "skill_id"),)


class Invitation(Entity):
    job: fields.ForeignKeyRelation[Job] = fields.ForeignKeyField(
        "models.Job", related_name="invitations", on_delete=fields.CASCADE
    )
    job_id: UUID
    freelancer: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="invitations", on_delete=fields.CASCADE
    )
    freelancer_id: UUID
    message = fields.TextField()
    status = fields.CharEnumField(InvitationStatus, max_length=16, default=InvitationStatus.PENDING)
    responded_at = fields.DatetimeField(null=True)

    class Meta:
        table = "invitations"
        unique_together = (("job", "freelancer"),)
