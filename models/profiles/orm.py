from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now

if TYPE_CHECKING:
    from models.users.orm import User


class Availability(StrEnum):
    FULL_TIME = "FULL_TIME"
    PART_TIME = "PART_TIME"
    NOT_AVAILABLE = "NOT_AVAILABLE"


class Skill(Entity):
    name = fields.CharField(max_length=60, unique=True)
    slug = fields.CharField(max_length=60, unique=True)

    class Meta:
        table = "skills"


class FreelancerProfile(Entity):
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="freelancer_profile", on_delete=fields.CASCADE
    )
    user_id: UUID
    title = fields.CharField(max_length=120)
    overview = fields.TextField()
    hourly_rate_cents: fields.Field[int | None] = fields.BigIntField(null=True)
    location = fields.CharField(max_length=120, null=True)
    availability = fields.CharEnumField(Availability, max_length=16, default=Availability.FULL_TIME)
    # Sums of revealed reviews by clients, moved in the transaction that reveals a review, so
    # rating summaries need no query and rating filters run in SQL.
    # The sum of this freelancer's connects ledger, updated with each entry by a conditional
    # `balance >= n` UPDATE so that concurrent proposals never overspend.
    connects_balance = fields.IntField(default=0)
    rating_count = fields.IntField(default=0)
    rating_overall_sum = fields.IntField(default=0)
    rating_communication_sum = fields.IntField(default=0)
    rating_quality_sum = fields.IntField(default=0)
    rating_deadlines_sum = fields.IntField(default=0)
    updated_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "freelancer_profiles"


class FreelancerSkill(Model):
    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    profile: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="skill_links", on_delete=fields.CASCADE
    )
    profile_id: UUID
    skill: fields.ForeignKeyRelation[Skill] = fields.ForeignKeyField(
        "models.Skill", related_name="freelancer_links", on_delete=fields.CASCADE
    )
    skill_id: UUID
    position = fields.IntField(default=0)

    class Meta:
        table = "freelancer_skills"
        unique_together = (("profile", "skill"),)


class PortfolioItem(Entity):
    profile: fields.ForeignKeyRelation[FreelancerProfile] = fields.ForeignKeyField(
        "models.FreelancerProfile", related_name="portfolio_items", on_delete=fields.CASCADE
    )
    profile_id: UUID
    title = fields.CharField(max_length=120)
    description = fields.TextField()
    url = fields.CharField(max_length=2048, null=True)

    class Meta:
        table = "portfolio_items"


class ClientProfile(Entity):
    user: fields.OneToOneRelation[User] = fields.OneToOneField(
        "models.User", related_name="client_profile", on_delete=fields.CASCADE
    )
    user_id: UUID
    company_name = fields.CharField(max_length=120, null=True)
    description = fields.TextField()
    website = fields.CharField(max_length=2048, null=True)
    location = fields.CharField(max_length=120, null=True)
    # Revealed reviews by freelancers, kept with each reveal (see FreelancerProfile).
    rating_count = fields.IntField(default=0)
    rating_overall_sum = fields.IntField(default=0)
    rating_communication_sum = fields.IntField(default=0)
    rating_quality_sum = fields.IntField(default=0)
    rating_deadlines_sum = fields.IntField(default=0)
    updated_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "client_profiles"
