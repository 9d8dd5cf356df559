"""Creating and editing freelancer and client profiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.base import utc_now
from models.errors import AlreadyExists, NotFound, ValidationFailed
from models.profiles import rules
from models.profiles.catalog import SLUG_MAX_LENGTH, slugify
from models.profiles.orm import (
    Availability,
    ClientProfile,
    FreelancerProfile,
    FreelancerSkill,
    PortfolioItem,
    Skill,
)
from models.proposals import connects
from models.proposals.orm import ConnectsReason
from models.users.orm import User
from settings import get_settings


async def resolve_skills(names: Sequence[str], *, field: list[str]) -> list[Skill]:
    """Catalog skills by slug or name, in the order given, without duplicates."""
    if len(names) > rules.MAX_SKILLS:
        raise ValidationFailed(f"At most {rules.MAX_SKILLS} skills", field=field)
    slugs: list[str] = []
    for name in names:
        slug = slugify(name)
        if slug and slug not in slugs and len(slug) <= SLUG_MAX_LENGTH:
            slugs.append(slug)
    found = {skill.slug: skill for skill in await Skill.filter(slug__in=slugs)}
    for index, name in enumerate(names):
        if slugify(name) not in found:
            raise ValidationFailed(
                f"Unknown skill {name[:60]!r}; pick one from `skills`", field=[*field, str(index)]
            )
    return [found[slug] for slug in slugs]


async def _replace_skills(profile: FreelancerProfile, skills: list[Skill]) -> None:
    await FreelancerSkill.filter(profile_id=profile.id).delete()
    await FreelancerSkill.bulk_create(
        [
            FreelancerSkill(profile_id=profile.id, skill_id=skill.id, position=index)
            for index, skill in enumerate(skills)
        ]
    )


def _freelancer_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validated column values for the fields present in `data` (all of them when creating)."""
    values: dict[str, Any] = {}
    field = ["input"]
    if not partial or "title" in data:
        values["title"] = rules.required_text(
            data.get("title"), field=[*field, "title"], max_length=rules.TITLE_MAX
        )
    if not partial or "overview" in data:
        values["overview"] = rules.required_text(
            data.get("overview"), field=[*field, "overview"], max_length=rules.LONG_TEXT_MAX
        )
    if not partial or "hourly_rate" in data:
        rate: Decimal | None = data.get("hourly_rate")
        values["hourly_rate_cents"] = rules.hourly_rate_cents(rate, field=[*field, "hourlyRate"])
    if not partial or "location" in data:
        values["location"] = rules.optional_text(
            data.get("location"), field=[*field, "location"], max_length=rules.LOCATION_MAX
        )
    if "availability" in data or not partial:
        availability = data.get("availability")
        if availability is None and partial:
            raise ValidationFailed("This field must not be null", field=[*field, "availability"])
        values["availability"] = Availability(availability or Availability.FULL_TIME)
    return values


async def create_freelancer_profile(user: User, data: Mapping[str, Any]) -> FreelancerProfile:
    values = _freelancer_fields(data, partial=False)
    skills = await resolve_skills(data.get("skills") or [], field=["input", "skills"])
    if await FreelancerProfile.filter(user_id=user.id).exists():
        raise AlreadyExists("You already have a freelancer profile")
    try:
        async with in_transaction():
            profile = await FreelancerProfile.create(user_id=user.id, **values)
            await _replace_skills(profile, skills)
            await connects.credit(
                profile.id, get_settings().monthly_free_connects, ConnectsReason.MONTHLY_ALLOTMENT
            )
            profile.connects_balance = get_settings().monthly_free_connects
    except IntegrityError as error:
        raise AlreadyExists("You already have a freelancer profile") from error
    return profile


async def update_freelancer_profile(user: User, data: Mapping[str, Any]) -> FreelancerProfile:
    profile = await FreelancerProfile.get_or_none(user_id=user.id)
    if profile is None:
        raise NotFound("Freelancer profile")
    values = _freelancer_fields(data, partial=True)
    skills = None
    if "skills" in data:
        if data["skills"] is None:
            raise ValidationFailed("This field must not be null", field=["input", "skills"])
        skills = await resolve_skills(data["skills"], field=["input", "skills"])
    async with in_transaction():
        if values:
            profile.update_from_dict({**values, "updated_at": utc_now()})
            await profile.save()
        if skills is not None:
            await _replace_skills(profile, skills)
    return profile


async def add_portfolio_item(
    user: User, *, title: str, description: str, url: str | None
) -> PortfolioItem:
    profile = await FreelancerProfile.get_or_none(user_id=user.id)
    if profile is None:
        raise NotFound("Freelancer profile")
    return await PortfolioItem.create(
        profile_id=profile.id,
        title=rules.required_text(title, field=["input", "title"], max_length=rules.TITLE_MAX),
        description=rules.required_text(
            description, field=["input", "description"], max_length=rules.LONG_TEXT_MAX
        ),
        url=rules.optional_url(url, field=["input", "url"]),
    )


def _client_fields(data: Mapping[str, Any], *, partial: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if not partial or "company_name" in data:
        values["company_name"] = rules.optional_text(
            data.get("company_name"), field=["input", "companyName"], max_length=rules.COMPANY_MAX
        )
    if not partial or "description" in data:
        values["description"] = rules.required_text(
            data.get("description"), field=["input", "description"], max_length=rules.LONG_TEXT_MAX
        )
    if not partial or "website" in data:
        values["website"] = rules.optional_url(data.get("website"), field=["input", "website"])
    if not partial or "location" in data:
        values["location"] = rules.optional_text(
            data.get("location"), field=["input", "location"], max_length=rules.LOCATION_MAX
        )
    return values


async def create_client_profile(user: User, data: Mapping[str, Any]) -> ClientProfile:
    values = _client_fields(data, partial=False)
    if await ClientProfile.filter(user_id=user.id).exists():
        raise AlreadyExists("You already have a client profile")
    try:
        return await ClientProfile.create(user_id=user.id, **values)
    except IntegrityError as error:
        raise AlreadyExists("You already have a client profile") from error


async def update_client_profile(user: User, data: Mapping[str, Any]) -> ClientProfile:
    profile = await ClientProfile.get_or_none(user_id=user.id)
    if profile is None:
        raise NotFound("Client profile")
    values = _client_fields(data, partial=True)
    if values:
        profile.update_from_dict({**values, "updated_at": utc_now()})
        await profile.save()
    return profile
