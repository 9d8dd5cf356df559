"""Milestone escrow: fund, submit, request changes, approve (release), refund, auto-release.

Money moves in the same transaction as the status change it pays for. The contract and the
milestone are row-locked first; the ledger's `settle:<milestone>` unique key makes a second
release or refund impossible even if every check above it were wrong.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import cast
from uuid import UUID

from tortoise.transactions import in_transaction

from models.actors import Actor
from models.attachments import actions as attachments
from models.attachments.rules import SUBMISSION_MAX_FILES
from models.attachments.storage import IncomingFile
from models.base import utc_now
from models.contracts import rules
from models.contracts.access import locked_milestone
from models.contracts.events import record_event
from models.contracts.orm import (
    Contract,
    ContractEventKind,
    ContractStatus,
    Milestone,
    MilestoneStatus,
    MilestoneSubmission,
)
from models.contracts.rules import MilestoneAction, Party
from models.errors import InvalidState, ValidationFailed
from models.events import Published
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.payments import accounts, journal
from models.payments.idempotency import once
from models.payments.journal import AlreadyRecorded, platform_account
from models.payments.ledger import fee_cents, fee_returned_cents
from models.payments.orm import Account, Posting, TransactionKind
from models.profiles.rules import optional_url, required_text
from settings import get_settings

AUTO_RELEASE_AFTER = timedelta(days=14)
MAX_ATTACHMENTS = 10


def settle_key(milestone_id: UUID) -> str:
    return f"settle:{milestone_id}"


def client_fee_key(milestone_id: UUID) -> str:
    return f"client-fee:{milestone_id}"


def fee_return_key(milestone_id: UUID) -> str:
    return f"fee-return:{milestone_id}"


async def _client_fee_charged(milestone: Milestone, client_wallet: Account) -> int:
    """What the client paid in marketplace fee on this milestone, read from the ledger rather
    than recomputed, so a change of `CLIENT_FEE_RATE` after funding returns what was taken."""
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    postings = cast(
        list[int],
        await Posting.filter(
            account_id=client_wallet.id,
            entry__milestone_id=milestone.id,
            entry__kind=TransactionKind.SERVICE_FEE,
        ).values_list("amount_cents", flat=True),
    )
    return -sum(int(cents) for cents in postings)


async def return_client_fee(
    contract: Contract, milestone: Milestone, client_wallet: Account, refunded_cents: int
) -> int:
    """The client's marketplace fee back, pro rata to the part of the escrow refunded. Inside
    the refund's transaction, after the refund's own entry holds the milestone's settle key;
    the fee return has a unique key of its own, so it too happens at most once."""
    charged = await _client_fee_charged(milestone, client_wallet)
    returned = fee_returned_cents(charged, refunded_cents, milestone.amount_cents)
    if returned:
        try:
            await journal.record(
                TransactionKind.FEE_REFUND,
                [(await platform_account(), -returned), (client_wallet, returned)],
                memo=f"Marketplace fee returned for {milestone.title}",
                contract_id=contract.id,
                milestone_id=milestone.id,
                unique_key=fee_return_key(milestone.id),
            )
        except AlreadyRecorded as error:
            raise InvalidState("This milestone's fee was already returned") from error
    return returned


async def _announce(
    contract: Contract,
    milestone: Milestone,
    kind: ContractEventKind,
    actor_id: UUID | None,
    notify_user: UUID,
    title: str,
) -> list[Published]:
    events = await record_event(contract, kind, actor_id=actor_id, milestone=milestone)
    _, notification = await notify(
        notify_user,
        NotificationKind.MILESTONE_UPDATED,
        f"{contract.title}: {title}",
        subject_type="Milestone",
        subject_id=milestone.id,
    )
    return [*events, notification]


async def _move(
    actor: Actor | None,
    milestone_id: UUID,
    action: MilestoneAction,
    party_override: Party | None = None,
) -> tuple[Contract, Milestone, Party]:
    contract, milestone, party = await locked_milestone(actor, milestone_id)
    party = party_override or party
    assert party is not None
    milestone.status = rules.milestone_transition(
        MilestoneStatus(milestone.status), action, party, ContractStatus(contract.status)
    )
    milestone.updated_at = utc_now()
    return contract, milestone, party


async def _fund(actor: Actor, milestone_id: UUID) -> tuple[Milestone, list[Published]]:
    """The milestone's amount into escrow, and the client's marketplace fee to the platform,
    both from the client's wallet."""
    contract, milestone, _ = await _move(actor, milestone_id, MilestoneAction.FUND)
    client_wallet = await accounts.wallet(contract.client_user_id)
    escrow = await accounts.escrow(contract.id)
    fee = fee_cents(milestone.amount_cents, get_settings().client_fee_rate)
    await journal.record(
        TransactionKind.ESCROW_FUND,
        [(client_wallet, -milestone.amount_cents), (escrow, milestone.amount_cents)],
        memo=f"Escrow for {milestone.title}",
        contract_id=contract.id,
        milestone_id=milestone.id,
        unique_key=f"fund:{milestone.id}",
    )
    if fee:
        await journal.record(
            TransactionKind.SERVICE_FEE,
            [(client_wallet, -fee), (await platform_account(), fee)],
            memo=f"Marketplace fee for {milestone.title}",
            contract_id=contract.id,
            milestone_id=milestone.id,
            unique_key=client_fee_key(milestone.id),
        )
    milestone.funded_at = utc_now()
    await milestone.save()
    contract.funded_cents += milestone.amount_cents
    await contract.save(update_fields=["funded_cents"])
    events = await _announce(
        contract,
        milestone,
        ContractEventKind.MILESTONE_FUNDED,
        actor.user_id,
        contract.freelancer_user_id,
        f"{milestone.title} is funded",
    )
    return milestone, events


async def submit(
    actor: Actor,
    milestone_id: UUID,
    message: str,
    attachment_urls: list[str],
    *,
    files: Sequence[IncomingFile] = (),
    now: datetime | None = None,
) -> tuple[Milestone, list[Published]]:
    """Work handed in for review: a message, links and uploaded deliverables."""
    now = now or utc_now()
    message = required_text(message, field=["input", "message"], max_length=10_000)
    if len(attachment_urls) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"At most {MAX_ATTACHMENTS} attachments", field=["input", "attachmentUrls"]
        )
    urls = [
        optional_url(url, field=["input", "attachmentUrls", str(i)])
        for i, url in enumerate(attachment_urls)
    ]
    accepted = attachments.accept(files, limit=SUBMISSION_MAX_FILES, field=["input", "attachments"])
    async with attachments.Placing(accepted) as placing, in_transaction():
        contract, milestone, _ = await _move(actor, milestone_id, MilestoneAction.SUBMIT)
        milestone.submitted_at = now
        milestone.auto_release_at = now + AUTO_RELEASE_AFTER
        await milestone.save()
        submission = await MilestoneSubmission.create(
            milestone_id=milestone.id, message=message, attachment_urls=[url for url in urls if url]
        )
        await placing.store(uploader_id=actor.user_id, submission_id=submission.id)
        events = await _announce(
            contract,
            milestone,
            ContractEventKind.MILESTONE_SUBMITTED,
            actor.user_id,
            contract.client_user_id,
            f"{milestone.title} was submitted for review",
        )
    return milestone, events


async def request_changes(
    actor: Actor, milestone_id: UUID, message: str
) -> tuple[Milestone, list[Published]]:
    message = required_text(message, field=["input", "message"], max_length=10_000)
    async with in_transaction():
        contract, milestone, _ = await _move(actor, milestone_id, MilestoneAction.REQUEST_CHANGES)
        milestone.auto_release_at = None
        await milestone.save()
        events = await _announce(
            contract,
            milestone,
            ContractEventKind.MILESTONE_CHANGES_REQUESTED,
            actor.user_id,
            contract.freelancer_user_id,
            f"changes requested on {milestone.title}: {message[:80]}",
        )
    return milestone, events


async def _settle_escrow(
    kind: TransactionKind,
    contract: Contract,
    milestone: Milestone,
    to_wallet: Account,
    *,
    memo: str,
) -> None:
    """The milestone's whole escrow to `to_wallet`, once: release and refund share the
    milestone's settle key, so a second settlement of either kind fails in the database."""
    escrow = await accounts.escrow(contract.id)
    try:
        await journal.record(
            kind,
            [(escrow, -milestone.amount_cents), (to_wallet, milestone.amount_cents)],
            memo=memo,
            contract_id=contract.id,
            milestone_id=milestone.id,
            unique_key=settle_key(milestone.id),
        )
    except AlreadyRecorded as error:
        raise InvalidState("This milestone's escrow was already settled") from error


async def release(
    contract: Contract, milestone: Milestone, actor_id: UUID | None
) -> list[Published]:
    """Escrow to the freelancer, less the service fee to the platform. Inside a transaction,
    with the milestone already moved to PAID."""
    freelancer_wallet = await accounts.wallet(contract.freelancer_user_id)
    await _settle_escrow(
        TransactionKind.ESCROW_RELEASE,
        contract,
        milestone,
        freelancer_wallet,
        memo=f"Payment for {milestone.title}",
    )
    fee = fee_cents(milestone.amount_cents, get_settings().freelancer_fee_rate)
    if fee:
        await journal.record(
            TransactionKind.SERVICE_FEE,
            [(freelancer_wallet, -fee), (await platform_account(), fee)],
            memo=f"Service fee on {milestone.title}",
            contract_id=contract.id,
            milestone_id=milestone.id,
        )
    milestone.released_cents = milestone.amount_cents
    milestone.paid_at = utc_now()
    milestone.auto_release_at = None
    await milestone.save()
    contract.paid_cents += milestone.amount_cents
    await contract.save(update_fields=["paid_cents"])
    return await _announce(
        contract,
        milestone,
        ContractEventKind.MILESTONE_PAID,
        actor_id,
        contract.freelancer_user_id,
        f"{milestone.title} is paid",
    )


async def _approve(actor: Actor, milestone_id: UUID) -> tuple[Milestone, list[Published]]:
    contract, milestone, _ = await _move(actor, milestone_id, MilestoneAction.APPROVE)
    return milestone, await release(contract, milestone, actor.user_id)


async def _refund(actor: Actor, milestone_id: UUID) -> tuple[Milestone, list[Published]]:
    """By the freelancer: the escrow goes back to the client's wallet, and with it the
    marketplace fee the client paid on funding."""
    contract, milestone, _ = await _move(actor, milestone_id, MilestoneAction.REFUND)
    client_wallet = await accounts.wallet(contract.client_user_id)
    await _settle_escrow(
        TransactionKind.ESCROW_REFUND,
        contract,
        milestone,
        client_wallet,
        memo=f"Refund of {milestone.title}",
    )
    await return_client_fee(contract, milestone, client_wallet, milestone.amount_cents)
    milestone.refunded_cents = milestone.amount_cents
    milestone.auto_release_at = None
    await milestone.save()
    contract.refunded_cents += milestone.amount_cents
    await contract.save(update_fields=["refunded_cents"])
    events = await _announce(
        contract,
        milestone,
        ContractEventKind.MILESTONE_REFUNDED,
        actor.user_id,
        contract.client_user_id,
        f"{milestone.title} was refunded",
    )
    return milestone, events


async def auto_release_due(now: datetime | None = None) -> list[Published]:
    """Scheduler rule: a submitted milestone the client neither approved nor sent back within
    14 days is released. Safe in every process at once (row locks, then the status check)."""
    now = now or utc_now()
    events: list[Published] = []
    due = cast(
        list[UUID],
        await Milestone.filter(
            status=MilestoneStatus.SUBMITTED, auto_release_at__lte=now
        ).values_list("id", flat=True),
    )
    for milestone_id in due:
        async with in_transaction():
            contract, milestone, _ = await locked_milestone(None, milestone_id)
            if (
                milestone.status != MilestoneStatus.SUBMITTED
                or not milestone.auto_release_at
                or milestone.auto_release_at > now
                or contract.status
                not in rules.MILESTONE_ACTIONS_WHILE[MilestoneAction.AUTO_RELEASE]
            ):
                continue
            milestone.status = rules.milestone_transition(
                MilestoneStatus.SUBMITTED,
                MilestoneAction.AUTO_RELEASE,
                Party.SYSTEM,
                ContractStatus(contract.status),
            )
            events += await release(contract, milestone, None)
    return events


MilestoneResult = tuple[Milestone, list[Published]]


async def _once(
    actor: Actor, key: str | None, operation: str, run: Callable[[], Awaitable[MilestoneResult]]
) -> MilestoneResult:
    async def replay(milestone_id: str) -> MilestoneResult:
        return await Milestone.get(id=milestone_id), []

    result, _ = await once(
        actor.user_id, key, operation, run, lambda result: str(result[0].id), replay
    )
    return result


async def fund_milestone(
    actor: Actor, milestone_id: UUID, idempotency_key: str | None = None
) -> MilestoneResult:
    return await _once(actor, idempotency_key, "fundMilestone", lambda: _fund(actor, milestone_id))


async def approve_milestone(
    actor: Actor, milestone_id: UUID, idempotency_key: str | None = None
) -> MilestoneResult:
    return await _once(
        actor, idempotency_key, "approveMilestone", lambda: _approve(actor, milestone_id)
    )


async def refund_milestone(
    actor: Actor, milestone_id: UUID, idempotency_key: str | None = None
) -> MilestoneResult:
    return await _once(
        actor, idempotency_key, "refundMilestone", lambda: _refund(actor, milestone_id)
    )
