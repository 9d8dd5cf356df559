"""Plain async factories: `await make_freelancer(skills=["python"])`."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from models.jobs.orm import BudgetType, ExperienceLevel, JobStatus
from models.profiles import actions as profiles
from models.profiles.orm import ClientProfile, FreelancerProfile
from models.users import actions as users
from models.users.actions import Session

PASSWORD = "correct-horse-battery"
_sequence = itertools.count(1)


async def make_user(
    *, email: str | None = None, display_name: str | None = None, is_staff: bool = False
) -> Session:
    number = next(_sequence)
    return await users.sign_up(
        email=email or f"user{number}@example.com",
        password=PASSWORD,
        display_name=display_name or f"User {number}",
        is_staff=is_staff,
    )


async def make_freelancer(
    *,
    skills: list[str] | None = None,
    hourly_rate: str | None = "50.00",
    title: str = "Python developer",
    overview: str = "I build APIs.",
    **fields: Any,
) -> tuple[Session, FreelancerProfile]:
    session = await make_user()
    profile = await profiles.create_freelancer_profile(
        session.user,
        {
            "title": title,
            "overview": overview,
            "skills": skills or ["python"],
            "hourly_rate": Decimal(hourly_rate) if hourly_rate is not None else None,
            **fields,
        },
    )
    return session, profile


async def make_client(*, company_name: str = "Acme") -> tuple[Session, ClientProfile]:
    session = await make_user()
    profile = await profiles.create_client_profile(
        session.user, {"company_name": company_name, "description": "We hire."}
    )
    return session, profile


def job_fields(client_id: object, title: str, **fields: Any) -> dict[str, Any]:
    """The columns of an open fixed-price job, for rows made without the posting rules (many at
    once, or in states posting never makes); `fields` override them."""
    return {
        "client_id": client_id,
        "title": title,
        "description": "d",
        "budget_type": BudgetType.FIXED,
        "budget_cents": 10_000,
        "budget_sort_cents": 10_000,
        "experience_level": ExperienceLevel.ENTRY,
        "status": JobStatus.OPEN,
        "connects_required": 2,
        **fields,
    }
