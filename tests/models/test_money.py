from decimal import Decimal

import pytest

from models.errors import ValidationFailed
from models.money import from_cents, parse_amount, round_cents, to_cents


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1250.00", 125000),
        ("0.01", 1),
        ("5", 500),
        ("999999999999.99", 99999999999999),
    ],
)
def test_plain_amounts_become_exact_cents(text, cents):
    assert parse_amount(Decimal(text), field=["amount"]) == cents


@pytest.mark.parametrize(
    "text", ["0", "-1", "1.005", "1e3", "12345678901234567890", "NaN", "Infinity", "-0.01"]
)
def test_amounts_a_person_would_not_type_are_refused(text):
    with pytest.raises(ValidationFailed) as error:
        parse_amount(Decimal(text), field=["input", "amount"])
    assert error.value.field == ["input", "amount"]


def test_zero_is_allowed_only_when_asked():
    assert parse_amount(Decimal("0.00"), field=["x"], allow_zero=True) == 0


def test_cents_round_trip_with_two_places():
    assert str(from_cents(to_cents(Decimal("12.5")))) == "12.50"
    assert str(from_cents(7)) == "0.07"


def test_fee_rounding_is_half_up_to_the_cent():
    assert round_cents(Decimal("0.125")) == Decimal("0.13")
    assert round_cents(Decimal("0.124")) == Decimal("0.12")
