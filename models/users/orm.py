from __future__ import annotations

from uuid import UUID

from tortoise import fields
from tortoise.models import Model

from models.base import Entity, utc_now


class User(Entity):
    email = fields.CharField(max_length=254, unique=True)
    display_name = fields.CharField(max_length=80)
    password_hash = fields.CharField(max_length=255)
    is_staff = fields.BooleanField(default=False)

    class Meta:
        table = "users"


class AuthToken(Model):
    """A bearer token. Only its SHA-256 is stored, so a database leak reveals no usable token."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="tokens", on_delete=fields.CASCADE
    )
    user_id: UUID
    created_at = fields.DatetimeField(default=utc_now)
    expires_at = fields.DatetimeField()
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "auth_tokens"


class LoginFailure(Model):
    """One failed log-in, counted per email and per client address to rate-limit guessing."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    email = fields.CharField(max_length=254, db_index=True)
    address = fields.CharField(max_length=64, db_index=True)
    created_at = fields.DatetimeField(default=utc_now, db_index=True)

    class Meta:
        table = "login_failures"
