"""Job rules: the status machine, what a job costs to bid on, and what a posting must contain."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

from models.errors import InvalidState, ValidationFailed
from models.jobs.orm import BudgetType, JobStatus
from models.money import parse_amount, to_cents


class JobAction(StrEnum):
    UPDATE = "UPDATE"
    PUBLISH = "PUBLISH"
    CLOSE = "CLOSE"
    FILL = "FILL"
    RECEIVE_PROPOSAL = "RECEIVE_PROPOSAL"


# (status, action) -> status after. Anything absent is refused.
TRANSITIONS: dict[tuple[JobStatus, JobAction], JobStatus] = {
    (JobStatus.DRAFT, JobAction.UPDATE): JobStatus.DRAFT,
    (JobStatus.DRAFT, JobAction.PUBLISH): JobStatus.OPEN,
    (JobStatus.DRAFT, JobAction.CLOSE): JobStatus.CANCELLED,
    (JobStatus.OPEN, JobAction.UPDATE): JobStatus.OPEN,
    (JobStatus.OPEN, JobAction.CLOSE): JobStatus.CLOSED,
    (JobStatus.OPEN, JobAction.FILL): JobStatus.FILLED,
    (JobStatus.OPEN, JobAction.RECEIVE_PROPOSAL): JobStatus.OPEN,
    (JobStatus.FILLED, JobAction.CLOSE): JobStatus.CLOSED,
}


def transition(status: JobStatus, action: JobAction) -> JobStatus:
    try:
        return TRANSITIONS[(JobStatus(status), action)]
    except KeyError:
        raise InvalidState(
            f"A {JobStatus(status).value.lower()} job cannot "
            f"{action.value.lower().replace('_', ' ')}"
        ) from None


# Connects a proposal costs, by the job's budget value (see budget_value_cents): 2 for small
# jobs, up to 16 for the largest, so bidding costs grow with what is at stake.
CONNECT_TIERS_CENTS: list[tuple[int, int]] = [
    (10_000, 2),
    (50_000, 4),
    (100_000, 6),
    (250_000, 8),
    (500_000, 10),
    (1_000_000, 12),
    (2_500_000, 14),
]
MAX_CONNECTS = 16
HOURS_IN_A_WEEK = 40


def budget_value_cents(
    budget_type: BudgetType, budget: int | None, rate_min: int | None, rate_max: int | None
) -> int:
    """The fixed budget, or a 40-hour week at the top of the hourly range."""
    if budget_type == BudgetType.FIXED:
        return budget or 0
    return (rate_max or rate_min or 0) * HOURS_IN_A_WEEK


def connects_required(value_cents: int) -> int:
    for ceiling, connects in CONNECT_TIERS_CENTS:
        if value_cents <= ceiling:
            return connects
    return MAX_CONNECTS


TITLE_MAX = 150
DESCRIPTION_MAX = 20_000
MAX_SKILLS = 15
MAX_BUDGET_CENTS = to_cents(Decimal(10000000))
MAX_RATE_CENTS = to_cents(Decimal("999.99"))


def check_budget(
    budget_type: BudgetType,
    budget: Decimal | None,
    rate_min: Decimal | None,
    rate_max: Decimal | None,
) -> tuple[int | None, int | None, int | None]:
    """Cents for (budget, rate min, rate max), matching the budget type."""
    if budget_type == BudgetType.FIXED:
        if budget is None:
            raise ValidationFailed("A fixed-price job needs a budget", field=["input", "budget"])
        if rate_min is not None or rate_max is not None:
            raise ValidationFailed(
                "A fixed-price job has no hourly rates", field=["input", "hourlyRateMin"]
            )
        cents = parse_amount(budget, field=["input", "budget"])
        if cents < 500 or cents > MAX_BUDGET_CENTS:
            raise ValidationFailed(
                "Budget must be between 5.00 and 10,000,000.00", field=["input", "budget"]
            )
        return cents, None, None
    if budget is not None:
        raise ValidationFailed("An hourly job has rates, not a budget", field=["input", "budget"])
    if rate_min is None and rate_max is None:
        raise ValidationFailed(
            "An hourly job needs hourlyRateMin or hourlyRateMax", field=["input", "hourlyRateMin"]
        )
    low = parse_amount(rate_min, field=["input", "hourlyRateMin"]) if rate_min is not None else None
    high = (
        parse_amount(rate_max, field=["input", "hourlyRateMax"]) if rate_max is not None else None
    )
    for rate, name in ((low, "hourlyRateMin"), (high, "hourlyRateMax")):
        if rate is not None and rate > MAX_RATE_CENTS:
            raise ValidationFailed("Hourly rates are at most 999.99", field=["input", name])
    if low is not None and high is not None and low > high:
        raise ValidationFailed(
            "hourlyRateMin must not exceed hourlyRateMax", field=["input", "hourlyRateMax"]
        )
    return None, low, high


def check_deadline(deadline: date | None, today: date) -> date | None:
    if deadline is not None and deadline < today:
        raise ValidationFailed("The deadline is in the past", field=["input", "deadline"])
    return deadline
