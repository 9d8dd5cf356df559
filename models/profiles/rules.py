"""Limits on profile text and the shape of URLs and rates."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlparse

from models.errors import ValidationFailed
from models.money import parse_amount, to_cents

TITLE_MAX = 120
LONG_TEXT_MAX = 5000
LOCATION_MAX = 120
COMPANY_MAX = 120
URL_MAX = 2048
MAX_SKILLS = 15
MAX_HOURLY_RATE_CENTS = to_cents(Decimal("999.99"))


def required_text(value: str | None, *, field: list[str], max_length: int) -> str:
    if value is None:
        raise ValidationFailed("This field must not be null", field=field)
    value = value.strip()
    if not value:
        raise ValidationFailed("This field must not be empty", field=field)
    if len(value) > max_length:
        raise ValidationFailed(f"At most {max_length} characters", field=field)
    return value


def optional_text(value: str | None, *, field: list[str], max_length: int) -> str | None:
    if value is None:
        return None
    value = value.strip()
    if len(value) > max_length:
        raise ValidationFailed(f"At most {max_length} characters", field=field)
    return value or None


def optional_url(value: str | None, *, field: list[str]) -> str | None:
    value = optional_text(value, field=field, max_length=URL_MAX)
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc or " " in value:
        raise ValidationFailed("Enter a full http(s) URL", field=field)
    return value


def hourly_rate_cents(value: Decimal | None, *, field: list[str]) -> int | None:
    if value is None:
        return None
    cents = parse_amount(value, field=field)
    if cents > MAX_HOURLY_RATE_CENTS:
        raise ValidationFailed("Hourly rate must be at most 999.99", field=field)
    return cents
