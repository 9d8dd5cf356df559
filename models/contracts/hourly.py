"""Hourly contracts: the freelancer logs hours within the weekly limit; the client approves a
week's timesheet, which pays it from the client's wallet, less the service fee."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import cast
from uuid import UUID

from tortoise.transactions import in_transaction

from models.actors import Actor
from models.base import utc_now
from models.contracts import rules
from models.contracts.access import locked_contract
from models.contracts.events import record_event
from models.contracts.orm import (
    Contract,
    ContractEventKind,
    ContractStatus,
    ContractType,
    TimeEntry,
    TimeEntryStatus,
)
from models.contracts.rules import ContractAction
from models.errors import InvalidState, ValidationFailed
from models.events import Published
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.payments import accounts, journal
from models.payments.idempotency import once
from models.payments.journal import AlreadyRecorded, platform_account
from models.payments.ledger import fee_cents
from models.payments.orm import JournalEntry, TransactionKind
from models.profiles.rules import required_text
from settings import get_settings

MAX_HOURS_PER_ENTRY = Decimal(24)


def week_start(day: date) -> date:
    """The Monday of the day's week (weeks run Monday to Sunday, UTC)."""
    return day - timedelta(days=day.weekday())


def centihours(hours: Decimal) -> int:
    sign, _digits, exponent = hours.as_tuple()
    if not hours.is_finite() or not isinstance(exponent, int) or exponent < -2 or exponent > 0:
        raise ValidationFailed(
            "Hours are a plain number with at most two decimals", field=["input", "hours"]
        )
    if sign or hours == 0 or hours > MAX_HOURS_PER_ENTRY:
        raise ValidationFailed("Log between 0.01 and 24 hours", field=["input", "hours"])
    return int(hours * 100)


def amount_cents(centihours_: int, rate_cents: int) -> int:
    return int((Decimal(centihours_) * rate_cents / 100).quantize(Decimal(1), ROUND_HALF_UP))


def timesheet_key(contract_id: UUID, monday: date) -> str:
    return f"timesheet:{contract_id}:{monday.isoformat()}"


async def log_time(
    actor: Actor,
    contract_id: UUID,
    day: date,
    hours: Decimal,
    memo: str,
    *,
    today: date | None = None,
) -> tuple[TimeEntry, list[Published]]:
    today = today or utc_now().date()
    memo = required_text(memo, field=["input", "memo"], max_length=2000)
    logged = centihours(hours)
    if day > today:
        raise ValidationFailed("Hours cannot be logged in advance", field=["input", "date"])
    monday = week_start(day)
    async with in_transaction():
        # The contract lock serializes logs, so two at once cannot both pass the weekly limit.
        contract, party = await locked_contract(actor, contract_id)
        rules.contract_transition(
            ContractStatus(contract.status),
            ContractAction.LOG_TIME,
            party,
            ContractType(contract.contract_type),
        )
        if await JournalEntry.filter(unique_key=timesheet_key(contract.id, monday)).exists():
            raise InvalidState("That week's timesheet is already paid")
        # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
        week = cast(
            list[int],
            await TimeEntry.filter(contract_id=contract.id, week_start=monday).values_list(
                "centihours", flat=True
            ),
        )
        limit = (contract.weekly_limit_hours or 0) * 100
        if sum(week) + logged > limit:
            raise ValidationFailed(
                f"This week would reach {(sum(week) + logged) / 100:.2f} h; the limit is "
                f"{contract.weekly_limit_hours} h",
                field=["input", "hours"],
            )
        entry = await TimeEntry.create(
            contract_id=contract.id,
            date=day,
            week_start=monday,
            centihours=logged,
            memo=memo,
            amount_cents=amount_cents(logged, contract.hourly_rate_cents or 0),
        )
        events = await record_event(contract, ContractEventKind.TIME_LOGGED, actor_id=actor.user_id)
    return entry, events


async def _approve_week(
    actor: Actor, contract_id: UUID, monday: date
) -> tuple[Contract, list[Published]]:
    contract, party = await locked_contract(actor, contract_id)
    rules.contract_transition(
        ContractStatus(contract.status),
        ContractAction.APPROVE_TIMESHEET,
        party,
        ContractType(contract.contract_type),
    )
    entries = await TimeEntry.filter(
        contract_id=contract.id, week_start=monday, status=TimeEntryStatus.LOGGED
    ).select_for_update()
    total = sum(entry.amount_cents for entry in entries)
    if not total:
        raise InvalidState("There are no unpaid hours in that week")
    client_wallet = await accounts.wallet(contract.client_user_id)
    freelancer_wallet = await accounts.wallet(contract.freelancer_user_id)
    platform = await platform_account()
    settings = get_settings()
    try:
        await journal.record(
            TransactionKind.HOURLY_PAYMENT,
            [(client_wallet, -total), (freelancer_wallet, total)],
            memo=f"Hours for the week of {monday.isoformat()}",
            contract_id=contract.id,
            unique_key=timesheet_key(contract.id, monday),
        )
    except AlreadyRecorded as error:
        raise InvalidState("That week's timesheet is already paid") from error
    client_fee = fee_cents(total, settings.client_fee_rate)
    if client_fee:
        await journal.record(
            TransactionKind.SERVICE_FEE,
            [(client_wallet, -client_fee), (platform, client_fee)],
            memo="Marketplace fee on hours",
            contract_id=contract.id,
        )
    service_fee = fee_cents(total, settings.freelancer_fee_rate)
    if service_fee:
        await journal.record(
            TransactionKind.SERVICE_FEE,
            [(freelancer_wallet, -service_fee), (platform, service_fee)],
            memo="Service fee on hours",
            contract_id=contract.id,
        )
    await TimeEntry.filter(id__in=[entry.id for entry in entries]).update(
        status=TimeEntryStatus.PAID
    )
    # Hours are paid wallet to wallet, never through escrow: they count as funded and paid at
    # once, so funded - paid - refunded stays the escrow balance (and ending is not refused).
    contract.funded_cents += total
    contract.paid_cents += total
    contract.updated_at = utc_now()
    await contract.save(update_fields=["funded_cents", "paid_cents", "updated_at"])
    events = await record_event(contract, ContractEventKind.TIMESHEET_PAID, actor_id=actor.user_id)
    _, notification = await notify(
        contract.freelancer_user_id,
        NotificationKind.CONTRACT_UPDATED,
        f"{contract.title}: hours of {monday.isoformat()} paid",
        subject_type="Contract",
        subject_id=contract.id,
    )
    return contract, [*events, notification]


async def approve_timesheet(
    actor: Actor, contract_id: UUID, monday: date, idempotency_key: str | None = None
) -> tuple[Contract, list[Published]]:
    if monday.weekday() != 0:
        raise ValidationFailed("weekStart must be a Monday", field=["input", "weekStart"])

    async def replay(contract_id_: str) -> tuple[Contract, list[Published]]:
        return await Contract.get(id=contract_id_), []

    run: Callable[[], Awaitable[tuple[Contract, list[Published]]]] = lambda: _approve_week(
        actor, contract_id, monday
    )
    result, _ = await once(
        actor.user_id,
        idempotency_key,
        "approveTimesheet",
        run,
        lambda result: str(result[0].id),
        replay,
    )
    return result
