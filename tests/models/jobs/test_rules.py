"""The job status machine, what bidding on a job costs, and what a budget must look like."""

from decimal import Decimal

import pytest

from models.errors import InvalidState, ValidationFailed
from models.jobs import rules
from models.jobs.orm import BudgetType, JobStatus
from models.jobs.rules import JobAction

S = JobStatus
A = JobAction

# The status machine as specified, written out independently of the implementation's table.
EXPECTED_EDGES = {
    (S.DRAFT, A.UPDATE): S.DRAFT,
    (S.DRAFT, A.PUBLISH): S.OPEN,
    (S.DRAFT, A.CLOSE): S.CANCELLED,
    (S.OPEN, A.UPDATE): S.OPEN,
    (S.OPEN, A.CLOSE): S.CLOSED,
    (S.OPEN, A.FILL): S.FILLED,
    (S.OPEN, A.RECEIVE_PROPOSAL): S.OPEN,
    (S.FILLED, A.CLOSE): S.CLOSED,
}


def test_the_table_holds_exactly_the_specified_edges():
    assert rules.TRANSITIONS == EXPECTED_EDGES


@pytest.mark.parametrize("action", list(JobAction), ids=str)
@pytest.mark.parametrize("status", list(JobStatus), ids=str)
def test_every_status_and_action(status, action):
    expected = EXPECTED_EDGES.get((status, action))
    if expected is not None:
        assert rules.transition(status, action) == expected
        # the stored value (a plain string) works as well as the enum
        assert rules.transition(status.value, action) == expected
    else:
        with pytest.raises(InvalidState) as error:
            rules.transition(status, action)
        assert error.value.code == "INVALID_STATE"
        assert status.value.lower() in error.value.message


@pytest.mark.parametrize("status", [S.CLOSED, S.CANCELLED])
def test_closed_and_cancelled_jobs_are_final(status):
    for action in JobAction:
        with pytest.raises(InvalidState):
            rules.transition(status, action)


# (value in cents, connects): each tier's ceiling is still that tier, one cent more is the next.
TIERS = [
    (0, 2),
    (1, 2),
    (10_000, 2),
    (10_001, 4),
    (50_000, 4),
    (50_001, 6),
    (100_000, 6),
    (100_001, 8),
    (250_000, 8),
    (250_001, 10),
    (500_000, 10),
    (500_001, 12),
    (1_000_000, 12),
    (1_000_001, 14),
    (2_500_000, 14),
    (2_500_001, 16),
    (1_000_000_000, 16),
]


@pytest.mark.parametrize(("cents", "connects"), TIERS)
def test_connects_required_at_each_tier_boundary(cents, connects):
    assert rules.connects_required(cents) == connects


@pytest.mark.parametrize(
    ("budget", "connects"),
    [
        ("100.00", 2),
        ("100.01", 4),
        ("500.00", 4),
        ("500.01", 6),
        ("1000.00", 6),
        ("1000.01", 8),
        ("2500.00", 8),
        ("2500.01", 10),
        ("5000.00", 10),
        ("5000.01", 12),
        ("10000.00", 12),
        ("10000.01", 14),
        ("25000.00", 14),
        ("25000.01", 16),
        ("10000000.00", 16),
    ],
)
def test_connects_required_for_fixed_budgets_in_dollars(budget, connects):
    cents, _, _ = rules.check_budget(BudgetType.FIXED, Decimal(budget), None, None)
    value = rules.budget_value_cents(BudgetType.FIXED, cents, None, None)
    assert value == cents
    assert rules.connects_required(value) == connects


@pytest.mark.parametrize(
    ("rate_min", "rate_max", "value"),
    [
        (2_000, 5_000, 40 * 5_000),  # a week at the top of the range
        (2_000, None, 40 * 2_000),  # no maximum: a week at the minimum
        (None, 7_500, 40 * 7_500),
        (3_000, 3_000, 40 * 3_000),
        (None, None, 0),
    ],
)
def test_hourly_budget_value_is_forty_hours_at_the_top_rate(rate_min, rate_max, value):
    assert rules.budget_value_cents(BudgetType.HOURLY, None, rate_min, rate_max) == value


def test_hourly_tiers_follow_the_weekly_value():
    # 2.50/h for 40 h is exactly 100.00: the cheapest tier; 2.51/h is past it.
    assert (
        rules.connects_required(rules.budget_value_cents(BudgetType.HOURLY, None, None, 250)) == 2
    )
    assert (
        rules.connects_required(rules.budget_value_cents(BudgetType.HOURLY, None, None, 251)) == 4
    )
    # the maximum rate, 999.99/h, is a 39,999.60 week
    assert (
        rules.connects_required(rules.budget_value_cents(BudgetType.HOURLY, None, 100, 99_999))
        == 16
    )


def test_fixed_budget_value_ignores_rates():
    assert rules.budget_value_cents(BudgetType.FIXED, 12_345, 1, 2) == 12_345
    assert rules.budget_value_cents(BudgetType.FIXED, None, None, None) == 0


def D(text):
    return Decimal(text) if text is not None else None


@pytest.mark.parametrize(
    ("budget_type", "budget", "low", "high", "cents"),
    [
        (BudgetType.FIXED, "5.00", None, None, (500, None, None)),
        (BudgetType.FIXED, "5", None, None, (500, None, None)),
        (BudgetType.FIXED, "1234.5", None, None, (123_450, None, None)),
        (BudgetType.FIXED, "10000000.00", None, None, (1_000_000_000, None, None)),
        (BudgetType.HOURLY, None, "20.00", "50.00", (None, 2_000, 5_000)),
        (BudgetType.HOURLY, None, "20.00", None, (None, 2_000, None)),
        (BudgetType.HOURLY, None, None, "50.00", (None, None, 5_000)),
        (BudgetType.HOURLY, None, "30.00", "30.00", (None, 3_000, 3_000)),
        (BudgetType.HOURLY, None, "0.01", "999.99", (None, 1, 99_999)),
    ],
)
def test_valid_budgets_in_cents(budget_type, budget, low, high, cents):
    assert rules.check_budget(budget_type, D(budget), D(low), D(high)) == cents


@pytest.mark.parametrize(
    ("budget_type", "budget", "low", "high", "field"),
    [
        # fixed: a budget, within bounds, and no rates
        (BudgetType.FIXED, None, None, None, "budget"),
        (BudgetType.FIXED, "4.99", None, None, "budget"),
        (BudgetType.FIXED, "10000000.01", None, None, "budget"),
        (BudgetType.FIXED, "0", None, None, "budget"),
        (BudgetType.FIXED, "-10.00", None, None, "budget"),
        (BudgetType.FIXED, "10.001", None, None, "budget"),
        (BudgetType.FIXED, "1E+3", None, None, "budget"),
        (BudgetType.FIXED, "NaN", None, None, "budget"),
        (BudgetType.FIXED, "100.00", "10.00", None, "hourlyRateMin"),
        (BudgetType.FIXED, "100.00", None, "10.00", "hourlyRateMin"),
        # hourly: rates, not a budget; at most 999.99; min <= max
        (BudgetType.HOURLY, "100.00", "10.00", None, "budget"),
        (BudgetType.HOURLY, None, None, None, "hourlyRateMin"),
        (BudgetType.HOURLY, None, "1000.00", None, "hourlyRateMin"),
        (BudgetType.HOURLY, None, None, "1000.00", "hourlyRateMax"),
        (BudgetType.HOURLY, None, "50.00", "49.99", "hourlyRateMax"),
        (BudgetType.HOURLY, None, "0", "10.00", "hourlyRateMin"),
        (BudgetType.HOURLY, None, "-1.00", None, "hourlyRateMin"),
        (BudgetType.HOURLY, None, "10.00", "20.005", "hourlyRateMax"),
    ],
)
def test_invalid_budgets_are_refused_on_their_field(budget_type, budget, low, high, field):
    with pytest.raises(ValidationFailed) as error:
        rules.check_budget(budget_type, D(budget), D(low), D(high))
    assert error.value.field == ["input", field]
