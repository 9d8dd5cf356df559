"""Signing up, logging in and out, and resolving a bearer token to its user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from auth.crypto.passwords import burn_verification_time, hash_password, verify_password
from auth.crypto.tokens import new_token, token_digest
from models.base import utc_now
from models.database import sql
from models.errors import AlreadyExists, RateLimited, ValidationFailed
from models.rows import instances
from models.users import rules
from models.users.orm import AuthToken, LoginFailure, User
from settings import get_settings


@dataclass(frozen=True)
class Session:
    user: User
    token: str


async def sign_up(
    *, email: str, password: str, display_name: str, is_staff: bool = False
) -> Session:
    email = rules.normalize_email(email, field=["input", "email"])
    rules.check_password(password, email=email, field=["input", "password"])
    display_name = rules.clean_display_name(display_name, field=["input", "displayName"])
    if await User.filter(email=email).exists():
        raise AlreadyExists("An account with this email already exists", field=["input", "email"])
    password_hash = await hash_password(password)
    try:
        async with in_transaction():
            user = await User.create(
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                is_staff=is_staff,
            )
            token = await _issue_token(user)
    except IntegrityError as error:
        # Two sign-ups with one email raced past the check above; the unique index decided.
        raise AlreadyExists(
            "An account with this email already exists", field=["input", "email"]
        ) from error
    return Session(user=user, token=token)


async def log_in(*, email: str, password: str, address: str) -> Session:
    settings = get_settings()
    normalized = email.strip().lower()[:254]
    await _refuse_when_rate_limited(normalized, address)
    user = await User.get_or_none(email=normalized)
    if user is None:
        await burn_verification_time(password)
    if user is None or not await verify_password(user.password_hash, password):
        await LoginFailure.create(email=normalized, address=address[:64])
        raise ValidationFailed("Email or password is incorrect")
    # A successful log-in forgives earlier mistakes for this email, not for the address.
    await LoginFailure.filter(
        email=normalized,
        created_at__gte=utc_now() - timedelta(seconds=settings.login_window_seconds),
    ).delete()
    return Session(user=user, token=await _issue_token(user))


async def _refuse_when_rate_limited(email: str, address: str) -> None:
    settings = get_settings()
    since = utc_now() - timedelta(seconds=settings.login_window_seconds)
    by_email = await LoginFailure.filter(email=email, created_at__gte=since).count()
    by_address = await LoginFailure.filter(address=address, created_at__gte=since).count()
    if (
        by_email >= settings.login_max_failures_per_email
        or by_address >= settings.login_max_failures_per_address
    ):
        raise RateLimited("Too many failed log-in attempts; try again later")


async def log_out(token: str) -> None:
    await AuthToken.filter(token_hash=token_digest(token), revoked_at=None).update(
        revoked_at=utc_now()
    )


# Every authenticated request asks this: written by hand, since building it with the ORM's
# query builder cost more server CPU than the database took to answer.
_USER_FOR_TOKEN = (
    "SELECT u.* FROM auth_tokens t JOIN users u ON u.id = t.user_id "
    "WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND t.expires_at > $2 LIMIT 1"
)


async def user_for_token(token: str | None) -> User | None:
    """The user a bearer token signs in, or None when it is unknown, expired or revoked."""
    if not token:
        return None
    client = connections.get("default")
    rows = await client.execute_query_dict(
        sql(client, _USER_FOR_TOKEN), [token_digest(token), utc_now()]
    )
    # Every request with a token makes this instance: the per-model maker, not _init_from_db.
    return instances(User, rows[:1], client)[0] if rows else None


async def token_is_live(token: str) -> bool:
    return await AuthToken.filter(
        token_hash=token_digest(token), revoked_at=None, expires_at__gt=utc_now()
    ).exists()


async def _issue_token(user: User) -> str:
    token = new_token()
    await AuthToken.create(
        token_hash=token_digest(token),
        user=user,
        expires_at=utc_now() + timedelta(hours=get_settings().token_ttl_hours),
    )
    return token


async def make_staff(email: str) -> User:
    """Promote an existing account to staff (`marketplace create-staff`)."""
    normalized = rules.normalize_email(email, field=["email"])
    updated = await User.filter(email=normalized).update(is_staff=True)
    if not updated:
        raise ValidationFailed(f"No account with email {normalized}", field=["email"])
    return await User.get(email=normalized)
