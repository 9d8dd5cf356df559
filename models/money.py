"""Money is stored as integer cents and exposed as Decimal with two places.

Integers are exact on SQLite and PostgreSQL alike, and atomic `F()` updates on them stay exact.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from models.errors import ValidationFailed

CENT = Decimal("0.01")
# 10^12 dollars is far past any real payment and well inside a signed 64-bit count of cents.
MAX_DIGITS_BEFORE_POINT = 12


def to_cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_cents(cents: int) -> Decimal:
    return (Decimal(cents) / 100).quantize(CENT)


def round_cents(amount: Decimal) -> Decimal:
    """Half-up to the cent, the single rounding rule for fees."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def parse_amount(value: Decimal, *, field: list[str], allow_zero: bool = False) -> int:
    """Validate a client-given amount and return it in cents.

    Refuses what a person would not type as a price: exponents ("1e3"), fractions of a cent
    ("1.005"), more than 12 digits before the point, negatives and (unless allowed) zero.
    """
    try:
        sign, digits, exponent = value.as_tuple()
    except (AttributeError, InvalidOperation) as error:
        raise ValidationFailed("Not a decimal amount", field=field) from error
    if not value.is_finite() or not isinstance(exponent, int):
        raise ValidationFailed("Amount must be a finite number", field=field)
    if exponent > 0:
        raise ValidationFailed("Write the amount in plain digits, without an exponent", field=field)
    if exponent < -2:
        raise ValidationFailed("Amount has more than two decimal places", field=field)
    if len(digits) + exponent > MAX_DIGITS_BEFORE_POINT:
        raise ValidationFailed("Amount is too large", field=field)
    if sign:
        raise ValidationFailed("Amount must not be negative", field=field)
    cents = to_cents(value)
    if cents == 0 and not allow_zero:
        raise ValidationFailed("Amount must be greater than zero", field=field)
    return cents
