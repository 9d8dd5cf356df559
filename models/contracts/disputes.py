"""Disputes: either party freezes a contract's escrow (or one milestone's); staff split it.

The split must account for every frozen cent: release + refund == frozen. The freelancer's
part pays the service fee like any other payment; the client's part takes back the marketplace
fee pro rata, milestone by milestone (so a contract-wide split never returns more than each
milestone was charged).
"""

from __future__ import annotations

from decimal import Decimal
from uuid import UUID

from tortoise.transactions import in_transaction

from models.actors import Actor
from models.base import utc_now
from models.contracts import rules
from models.contracts.access import locked_contract, party_of
from models.contracts.events import record_event
from models.contracts.milestones import return_client_fee, settle_key
from models.contracts.orm import (
    Contract,
    ContractEventKind,
    ContractStatus,
    ContractType,
    Dispute,
    DisputeStatus,
    Milestone,
    MilestoneStatus,
)
from models.contracts.rules import ContractAction, Party
from models.errors import DomainError, ErrorCode, InvalidState, NotFound, ValidationFailed
from models.events import Published
from models.money import from_cents, parse_amount
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.payments import accounts, journal
from models.payments.journal import platform_account
from models.payments.ledger import fee_cents
from models.payments.orm import TransactionKind
from models.profiles.rules import required_text
from settings import get_settings

IN_ESCROW = (MilestoneStatus.FUNDED, MilestoneStatus.SUBMITTED, MilestoneStatus.CHANGES_REQUESTED)


async def _notify_both(contract: Contract, dispute: Dispute, title: str) -> list[Published]:
    events = []
    for user_id in (contract.client_user_id, contract.freelancer_user_id):
        _, event = await notify(
            user_id,
            NotificationKind.DISPUTE_UPDATED,
            f"{contract.title}: {title}",
            subject_type="Dispute",
            subject_id=dispute.id,
        )
        events.append(event)
    return events


async def open_dispute(
    actor: Actor, contract_id: UUID, milestone_id: UUID | None, reason: str
) -> tuple[Dispute, list[Published]]:
    reason = required_text(reason, field=["input", "reason"], max_length=5000)
    async with in_transaction():
        contract, party = await locked_contract(actor, contract_id)
        status = rules.contract_transition(
            ContractStatus(contract.status),
            ContractAction.OPEN_DISPUTE,
            party,
            ContractType(contract.contract_type),
        )
        if milestone_id is not None:
            milestone = (
                await Milestone.filter(id=milestone_id, contract_id=contract.id)
                .select_for_update()
                .first()
            )
            if milestone is None:
                raise NotFound("Milestone", field=["input", "milestoneId"])
            if milestone.status not in IN_ESCROW:
                raise InvalidState("Only a funded milestone can be disputed")
            frozen = milestone.amount_cents
        else:
            frozen = contract.funded_cents - contract.paid_cents - contract.refunded_cents
        if frozen <= 0:
            raise InvalidState("There is no money in escrow to dispute")
        dispute = await Dispute.create(
            contract_id=contract.id,
            milestone_id=milestone_id,
            opened_by_id=actor.user_id,
            reason=reason,
            frozen_cents=frozen,
        )
        contract.status = status
        contract.updated_at = utc_now()
        await contract.save(update_fields=["status", "updated_at"])
        events = await record_event(
            contract, ContractEventKind.DISPUTE_OPENED, actor_id=actor.user_id
        )
        events += await _notify_both(contract, dispute, "dispute opened")
    return dispute, events


def split(milestones: list[Milestone], release_cents: int) -> list[tuple[Milestone, int, int]]:
    """(milestone, released, refunded) per milestone: the release goes to the earliest
    milestones first, the rest of each is refunded."""
    parts = []
    remaining = release_cents
    for milestone in milestones:
        released = min(milestone.amount_cents, remaining)
        remaining -= released
        parts.append((milestone, released, milestone.amount_cents - released))
    return parts


async def resolve_dispute(
    actor: Actor, dispute_id: UUID, *, release: Decimal, refund: Decimal, note: str
) -> tuple[Dispute, list[Published]]:
    note = required_text(note, field=["input", "note"], max_length=5000)
    release_cents = parse_amount(release, field=["input", "releaseToFreelancer"], allow_zero=True)
    refund_cents = parse_amount(refund, field=["input", "refundToClient"], allow_zero=True)
    async with in_transaction():
        found = await Dispute.get_or_none(id=dispute_id)
        contract = (
            await Contract.filter(id=found.contract_id).select_for_update().first()
            if found
            else None
        )
        if (
            found is None
            or contract is None
            or (not actor.is_staff and party_of(actor, contract) is None)
        ):
            raise NotFound("Dispute", field=["input", "disputeId"])
        if not actor.is_staff:
            raise DomainError("Only staff resolve disputes", code=ErrorCode.FORBIDDEN)
        dispute = await Dispute.filter(id=dispute_id).select_for_update().first()
        assert dispute is not None
        if dispute.status != DisputeStatus.OPEN:
            raise InvalidState("This dispute is already resolved")
        if release_cents + refund_cents != dispute.frozen_cents:
            raise ValidationFailed(
                f"The parts must add up to the frozen {from_cents(dispute.frozen_cents)}",
                field=["input", "releaseToFreelancer"],
            )
        status = rules.contract_transition(
            ContractStatus(contract.status),
            ContractAction.RESOLVE_DISPUTE,
            Party.STAFF,
            ContractType(contract.contract_type),
        )
        query = Milestone.filter(contract_id=contract.id, status__in=list(IN_ESCROW))
        if dispute.milestone_id:
            query = query.filter(id=dispute.milestone_id)
        milestones = list(await query.order_by("position").select_for_update())
        escrow = await accounts.escrow(contract.id)
        client_wallet = await accounts.wallet(contract.client_user_id)
        freelancer_wallet = await accounts.wallet(contract.freelancer_user_id)
        # The refunds below reach the client's wallet after a fee has locked the platform
        # account: take all three accounts now, in lock order, so nothing waits in reverse.
        await journal.lock([escrow, client_wallet, freelancer_wallet])
        events: list[Published] = []
        for milestone, released, refunded in split(milestones, release_cents):
            first_key = settle_key(milestone.id)
            if released:
                await journal.record(
                    TransactionKind.ESCROW_RELEASE,
                    [(escrow, -released), (freelancer_wallet, released)],
                    memo=f"Dispute: payment for {milestone.title}",
                    contract_id=contract.id,
                    milestone_id=milestone.id,
                    unique_key=first_key,
                )
                fee = fee_cents(released, get_settings().freelancer_fee_rate)
                if fee:
                    await journal.record(
                        TransactionKind.SERVICE_FEE,
                        [(freelancer_wallet, -fee), (await platform_account(), fee)],
                        memo=f"Service fee on {milestone.title}",
                        contract_id=contract.id,
                        milestone_id=milestone.id,
                    )
            if refunded:
                await journal.record(
                    TransactionKind.ESCROW_REFUND,
                    [(escrow, -refunded), (client_wallet, refunded)],
                    memo=f"Dispute: refund of {milestone.title}",
                    contract_id=contract.id,
                    milestone_id=milestone.id,
                    unique_key=f"{first_key}:split" if released else first_key,
                )
                await return_client_fee(contract, milestone, client_wallet, refunded)
            milestone.status = MilestoneStatus.PAID if released else MilestoneStatus.REFUNDED
            milestone.released_cents, milestone.refunded_cents = released, refunded
            milestone.paid_at = utc_now() if released else None
            milestone.auto_release_at = None
            milestone.updated_at = utc_now()
            await milestone.save()
            events += await record_event(
                contract,
                ContractEventKind.MILESTONE_PAID
                if released
                else ContractEventKind.MILESTONE_REFUNDED,
                actor_id=actor.user_id,
                milestone=milestone,
            )
        contract.paid_cents += release_cents
        contract.refunded_cents += refund_cents
        contract.status = status
        contract.updated_at = utc_now()
        await contract.save()
        dispute.status = DisputeStatus.RESOLVED
        dispute.released_cents, dispute.refunded_cents = release_cents, refund_cents
        dispute.resolution_note = note
        dispute.resolved_by_id = actor.user_id
        dispute.resolved_at = utc_now()
        await dispute.save()
        events += await record_event(
            contract, ContractEventKind.DISPUTE_RESOLVED, actor_id=actor.user_id
        )
        events += await _notify_both(contract, dispute, "dispute resolved")
    return dispute, events
