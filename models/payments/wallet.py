"""Money in and out of wallets: deposits and payouts through the provider, connects purchases."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from models.actors import Actor
from models.contracts.orm import Contract
from models.errors import ValidationFailed
from models.money import parse_amount, to_cents
from models.payments import accounts, journal
from models.payments.idempotency import once
from models.payments.journal import external_account, platform_account
from models.payments.orm import TransactionKind
from models.payments.provider import provider
from models.proposals import connects
from models.proposals.orm import ConnectsReason
from settings import get_settings

MAX_DEPOSIT_CENTS = to_cents(Decimal(100000))


@dataclass(frozen=True, slots=True)
class WalletBalance:
    """A user's wallet as read now; `account_id` is None until money first moved through it."""

    available: Decimal
    in_escrow: Decimal
    currency: str
    account_id: int | None


async def add_funds(actor: Actor, amount: Decimal, idempotency_key: str | None = None) -> int:
    """Charge the user's card (sandbox) and credit the wallet. Returns the entry id."""
    cents = parse_amount(amount, field=["input", "amount"])
    if cents > MAX_DEPOSIT_CENTS:
        raise ValidationFailed("At most 100,000.00 per deposit", field=["input", "amount"])

    async def run() -> int:
        reference = await provider.charge(actor.user_id, cents, idempotency_key or "")
        entry = await journal.record(
            TransactionKind.DEPOSIT,
            [(await external_account(), -cents), (await accounts.wallet(actor.user_id), cents)],
            memo="Deposit",
            provider_reference=reference,
        )
        return entry.id

    result, _ = await once(actor.user_id, idempotency_key, "addFunds", run, str, _entry_id)
    return result


async def withdraw_funds(actor: Actor, amount: Decimal, idempotency_key: str | None = None) -> int:
    """Debit the wallet (never below zero) and pay out (sandbox), in one transaction."""
    cents = parse_amount(amount, field=["input", "amount"])

    async def run() -> int:
        entry = await journal.record(
            TransactionKind.WITHDRAWAL,
            [(await accounts.wallet(actor.user_id), -cents), (await external_account(), cents)],
            memo="Withdrawal",
        )
        entry.provider_reference = await provider.payout(
            actor.user_id, cents, idempotency_key or ""
        )
        await entry.save(update_fields=["provider_reference"])
        return entry.id

    result, _ = await once(actor.user_id, idempotency_key, "withdrawFunds", run, str, _entry_id)
    return result


async def purchase_connects(actor: Actor, quantity: int, idempotency_key: str | None = None) -> int:
    """Connects at the configured price each, paid from the wallet. Returns the new balance."""
    freelancer_id = actor.require_freelancer()
    if not 1 <= quantity <= 1000:
        raise ValidationFailed("Buy between 1 and 1000 connects", field=["input", "quantity"])
    price = to_cents(get_settings().connect_price * quantity)

    async def run() -> int:
        await journal.record(
            TransactionKind.CONNECTS_PURCHASE,
            [(await accounts.wallet(actor.user_id), -price), (await platform_account(), price)],
            memo=f"{quantity} connects",
        )
        await connects.credit(freelancer_id, quantity, ConnectsReason.PURCHASE)
        return await connects.balance(freelancer_id)

    async def replay(_: str) -> int:
        return await connects.balance(freelancer_id)

    result, _ = await once(actor.user_id, idempotency_key, "purchaseConnects", run, str, replay)
    return result


async def _entry_id(value: str) -> int:
    return int(value)


async def in_escrow_for_client(user_id: UUID) -> int:
    """What the user's contracts as a client hold in escrow."""
    rows = await Contract.filter(client_user_id=user_id).values_list(
        "funded_cents", "paid_cents", "refunded_cents"
    )
    return sum(funded - paid - refunded for funded, paid, refunded in rows)
