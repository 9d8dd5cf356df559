from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from tortoise import fields
from tortoise.models import Model

from models.base import utc_now

if TYPE_CHECKING:
    from models.contracts.orm import Contract, Milestone
    from models.users.orm import User


class AccountKind(StrEnum):
    WALLET = "WALLET"
    ESCROW = "ESCROW"
    PLATFORM = "PLATFORM"
    EXTERNAL = "EXTERNAL"


class TransactionKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    ESCROW_FUND = "ESCROW_FUND"
    ESCROW_RELEASE = "ESCROW_RELEASE"
    ESCROW_REFUND = "ESCROW_REFUND"
    SERVICE_FEE = "SERVICE_FEE"
    HOURLY_PAYMENT = "HOURLY_PAYMENT"
    CONNECTS_PURCHASE = "CONNECTS_PURCHASE"
    FEE_REFUND = "FEE_REFUND"


class Account(Model):
    """A ledger account: a user's wallet, a contract's escrow, the platform's fee revenue, or
    the outside world. `balance_cents` caches the sum of its postings."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    key = fields.CharField(max_length=80, unique=True)
    kind = fields.CharEnumField(AccountKind, max_length=16)
    user: fields.ForeignKeyNullableRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    user_id: UUID | None
    contract: fields.ForeignKeyNullableRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="accounts", null=True, on_delete=fields.RESTRICT
    )
    contract_id: UUID | None
    balance_cents: fields.Field[int] = fields.BigIntField(default=0)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "accounts"


class JournalEntry(Model):
    """One money movement. Its postings sum to zero. `unique_key` makes a movement that must
    happen once (a milestone's release, say) impossible to record twice."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    kind = fields.CharEnumField(TransactionKind, max_length=24)
    unique_key = fields.CharField(max_length=120, unique=True, null=True)
    contract: fields.ForeignKeyNullableRelation[Contract] = fields.ForeignKeyField(
        "models.Contract", related_name="journal_entries", null=True, on_delete=fields.RESTRICT
    )
    contract_id: UUID | None
    milestone: fields.ForeignKeyNullableRelation[Milestone] = fields.ForeignKeyField(
        "models.Milestone", related_name="journal_entries", null=True, on_delete=fields.RESTRICT
    )
    milestone_id: UUID | None
    memo = fields.CharField(max_length=200, default="")
    provider_reference = fields.CharField(max_length=80, null=True)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "journal_entries"


class Posting(Model):
    """One line of an entry: a signed amount on one account, and that account's balance after."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    public_id = fields.UUIDField(unique=True, default=uuid4)
    entry: fields.ForeignKeyRelation[JournalEntry] = fields.ForeignKeyField(
        "models.JournalEntry", related_name="postings", on_delete=fields.RESTRICT
    )
    entry_id: int
    account: fields.ForeignKeyRelation[Account] = fields.ForeignKeyField(
        "models.Account", related_name="postings", on_delete=fields.RESTRICT
    )
    account_id: int
    amount_cents: fields.Field[int] = fields.BigIntField()
    balance_after_cents: fields.Field[int] = fields.BigIntField()
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "postings"
        indexes = (("account_id", "id"),)


class IdempotencyRecord(Model):
    """The first result of a money-moving request made with an idempotency key."""

    id: fields.Field[int] = fields.BigIntField(primary_key=True)
    user: fields.ForeignKeyRelation[User] = fields.ForeignKeyField(
        "models.User", related_name="idempotency_records", on_delete=fields.CASCADE
    )
    user_id: UUID
    key = fields.CharField(max_length=100)
    operation = fields.CharField(max_length=60)
    result_id = fields.CharField(max_length=60, null=True)
    created_at = fields.DatetimeField(default=utc_now)

    class Meta:
        table = "idempotency_records"
        unique_together = (("user", "key"),)
