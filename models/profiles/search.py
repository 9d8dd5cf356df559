"""Finding freelancers: every filter is a WHERE on the profiles table, paginated by keyset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from tortoise.expressions import F, Q, Subquery
from tortoise.queryset import QuerySet

from models.errors import ValidationFailed
from models.money import from_cents, to_cents
from models.profiles.catalog import SLUG_MAX_LENGTH, slugify
from models.profiles.orm import Availability, FreelancerProfile, FreelancerSkill
from models.profiles.rules import MAX_HOURLY_RATE_CENTS

MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class FreelancerSearch:
    query: str | None = None
    skills: Sequence[str] | None = None
    min_hourly_rate: Decimal | None = None
    max_hourly_rate: Decimal | None = None
    min_rating: float | None = None
    availability: Availability | None = None


def freelancer_queryset(search: FreelancerSearch) -> QuerySet[FreelancerProfile]:
    queryset = FreelancerProfile.all()
    field = ["filter"]
    if search.query is not None:
        if len(search.query) > MAX_QUERY_LENGTH:
            raise ValidationFailed(
                f"Search text is limited to {MAX_QUERY_LENGTH} characters", field=[*field, "query"]
            )
        for word in search.query.split():
            skill_match = Subquery(
                FreelancerSkill.filter(skill__name__icontains=word).values("profile_id")
            )
            queryset = queryset.filter(
                Q(title__icontains=word) | Q(overview__icontains=word) | Q(id__in=skill_match)
            )
    if search.skills:
        slugs = [
            slug
            for slug in (slugify(name) for name in search.skills[:50])
            if len(slug) <= SLUG_MAX_LENGTH
        ]
        queryset = queryset.filter(
            id__in=Subquery(FreelancerSkill.filter(skill__slug__in=slugs).values("profile_id"))
        )
    for name, bound, operator in (
        ("minHourlyRate", search.min_hourly_rate, "gte"),
        ("maxHourlyRate", search.max_hourly_rate, "lte"),
    ):
        if bound is not None:
            if not bound.is_finite() or bound < 0:
                raise ValidationFailed(
                    "Rate bounds must be non-negative numbers", field=[*field, name]
                )
            # Stored rates are at most MAX_HOURLY_RATE_CENTS, so every larger bound filters
            # alike; capping it keeps "1e30" inside a 64-bit column and "1e999999" cheap.
            cents = (
                to_cents(bound)
                if bound <= from_cents(MAX_HOURLY_RATE_CENTS)
                else MAX_HOURLY_RATE_CENTS + 1
            )
            queryset = queryset.filter(**{f"hourly_rate_cents__{operator}": cents})
    if search.min_rating is not None:
        if not 1.0 <= search.min_rating <= 5.0:
            raise ValidationFailed("minRating must be between 1 and 5", field=[*field, "minRating"])
        # Compared as sums so the database never divides: sum >= min * count.
        queryset = queryset.filter(
            rating_count__gt=0, rating_overall_sum__gte=F("rating_count") * search.min_rating
        )
    if search.availability is not None:
        queryset = queryset.filter(availability=search.availability)
    return queryset
