"""What makes an email, a password and a display name acceptable."""

from __future__ import annotations

import re

from models.errors import ValidationFailed

EMAIL_PATTERN = re.compile(
    r"^[^@\s]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$"
)
PASSWORD_MIN_LENGTH = 10
PASSWORD_MAX_LENGTH = 128
DISPLAY_NAME_MAX_LENGTH = 80
COMMON_PASSWORDS = frozenset(
    {
        "password",
        "password1",
        "password12",
        "password123",
        "1234567890",
        "0123456789",
        "qwertyuiop",
        "iloveyou12",
        "letmein123",
        "welcome123",
        "abcdefghij",
        "passw0rd12",
    }
)


def normalize_email(email: str, *, field: list[str]) -> str:
    email = email.strip()
    if len(email) > 254 or not EMAIL_PATTERN.match(email):
        raise ValidationFailed("Enter a valid email address", field=field)
    local, _, domain = email.rpartition("@")
    return f"{local}@{domain.lower()}".lower()


def check_password(password: str, *, email: str, field: list[str]) -> None:
    """At least 10 characters, not a well-known password, not built from the email."""
    if len(password) < PASSWORD_MIN_LENGTH:
        raise ValidationFailed(
            f"Password must have at least {PASSWORD_MIN_LENGTH} characters", field=field
        )
    if len(password) > PASSWORD_MAX_LENGTH:
        raise ValidationFailed(
            f"Password must have at most {PASSWORD_MAX_LENGTH} characters", field=field
        )
    lowered = password.lower()
    if lowered in COMMON_PASSWORDS or len(set(lowered)) < 4:
        raise ValidationFailed("Password is too easy to guess", field=field)
    local_part = email.partition("@")[0].lower()
    if len(local_part) >= 4 and local_part in lowered:
        raise ValidationFailed("Password must not contain your email address", field=field)


def clean_display_name(name: str, *, field: list[str]) -> str:
    name = " ".join(name.split())
    if not name:
        raise ValidationFailed("Display name must not be empty", field=field)
    if len(name) > DISPLAY_NAME_MAX_LENGTH:
        raise ValidationFailed(
            f"Display name must have at most {DISPLAY_NAME_MAX_LENGTH} characters", field=field
        )
    return name
