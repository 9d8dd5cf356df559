"""Offers and the contract's life: send, accept, decline, withdraw, expire, pause, resume, end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast
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
    Milestone,
)
from models.contracts.rules import ContractAction, Party
from models.errors import DomainError, ErrorCode, InvalidState, NotFound, ValidationFailed
from models.events import Published
from models.interviews.orm import Interview
from models.jobs import rules as job_rules
from models.jobs.orm import Job, JobStatus
from models.money import parse_amount
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.profiles.rules import optional_text, required_text
from models.proposals import rules as proposal_rules
from models.proposals.orm import Proposal, ProposalStatus
from models.proposals.rules import OPEN_STATUSES, ProposalAction, Role
from settings import get_settings

OFFER_LIFETIME = timedelta(days=7)
REVIEW_WINDOW = timedelta(days=14)
MIN_MILESTONE_CENTS = 500
MAX_MILESTONES = 20
MAX_WEEKLY_HOURS = 80


@dataclass(frozen=True)
class MilestoneDraft:
    title: str
    amount: Decimal
    description: str | None = None
    due_date: date | None = None


def check_milestone(draft: MilestoneDraft, field: list[str]) -> dict[str, Any]:
    cents = parse_amount(draft.amount, field=[*field, "amount"])
    if cents < MIN_MILESTONE_CENTS:
        raise ValidationFailed("A milestone is at least 5.00", field=[*field, "amount"])
    return {
        "title": required_text(draft.title, field=[*field, "title"], max_length=150),
        "description": optional_text(
            draft.description, field=[*field, "description"], max_length=5000
        )
        or "",
        "amount_cents": cents,
        "due_date": draft.due_date,
    }


async def _notify(
    user_id: UUID, kind: NotificationKind, title: str, contract: Contract
) -> list[Published]:
    _, event = await notify(user_id, kind, title, subject_type="Contract", subject_id=contract.id)
    return [event]


async def send_offer(
    actor: Actor,
    proposal_id: UUID,
    *,
    title: str,
    terms: str,
    contract_type: ContractType,
    milestones: list[MilestoneDraft] | None,
    hourly_rate: Decimal | None,
    weekly_limit_hours: int | None,
    deadline: date | None,
    now: datetime | None = None,
) -> tuple[Contract, list[Published]]:
    now = now or utc_now()
    title = required_text(title, field=["input", "title"], max_length=150)
    terms = required_text(terms, field=["input", "terms"], max_length=20_000)
    contract_type = ContractType(contract_type)
    drafts: list[dict[str, Any]] = []
    rate_cents = None
    if contract_type == ContractType.FIXED:
        if hourly_rate is not None or weekly_limit_hours is not None:
            raise ValidationFailed(
                "A fixed-price offer has milestones, not an hourly rate",
                field=["input", "hourlyRate"],
            )
        if not milestones:
            raise ValidationFailed(
                "A fixed-price offer needs at least one milestone", field=["input", "milestones"]
            )
        if len(milestones) > MAX_MILESTONES:
            raise ValidationFailed(
                f"At most {MAX_MILESTONES} milestones", field=["input", "milestones"]
            )
        drafts = [
            check_milestone(m, ["input", "milestones", str(i)]) for i, m in enumerate(milestones)
        ]
    else:
        if milestones:
            raise ValidationFailed(
                "An hourly offer has no milestones", field=["input", "milestones"]
            )
        if hourly_rate is None:
            raise ValidationFailed(
                "An hourly offer needs an hourly rate", field=["input", "hourlyRate"]
            )
        rate_cents = parse_amount(hourly_rate, field=["input", "hourlyRate"])
        if weekly_limit_hours is None or not 1 <= weekly_limit_hours <= MAX_WEEKLY_HOURS:
            raise ValidationFailed(
                f"The weekly limit is 1 to {MAX_WEEKLY_HOURS} hours",
                field=["input", "weeklyLimitHours"],
            )
    if deadline is not None and deadline < now.date():
        raise ValidationFailed("The deadline is in the past", field=["input", "deadline"])
    async with in_transaction():
        proposal = (
            await Proposal.filter(id=proposal_id)
            .select_for_update(of=("proposals",))
            .select_related("job", "freelancer")
            .first()
        )
        if proposal is None or proposal.job.client_id != actor.client_profile_id:
            raise NotFound("Proposal", field=["input", "proposalId"])
        if proposal.status not in OPEN_STATUSES:
            raise InvalidState(
                f"Offers go to open proposals, not "
                f"{ProposalStatus(proposal.status).value.lower()} ones"
            )
        if proposal.job.status != JobStatus.OPEN:
            raise InvalidState("The job is no longer open")
        if await Contract.filter(
            proposal_id=proposal.id,
            status__in=[
                ContractStatus.OFFERED,
                ContractStatus.ACTIVE,
                ContractStatus.PAUSED,
                ContractStatus.DISPUTED,
            ],
        ).exists():
            raise DomainError(
                "This proposal already has a live offer or contract", code=ErrorCode.ALREADY_EXISTS
            )
        interview = await Interview.get_or_none(proposal_id=proposal.id)
        contract = await Contract.create(
            job_id=proposal.job_id,
            proposal_id=proposal.id,
            interview_id=interview.id if interview else None,
            client_id=actor.client_profile_id,
            freelancer_id=proposal.freelancer_id,
            client_user_id=actor.user_id,
            freelancer_user_id=proposal.freelancer.user_id,
            title=title,
            terms=terms,
            contract_type=contract_type,
            currency=get_settings().currency,
            hourly_rate_cents=rate_cents,
            weekly_limit_hours=weekly_limit_hours,
            deadline=deadline,
            status=ContractStatus.OFFERED,
            offer_expires_at=now + OFFER_LIFETIME,
        )
        await Milestone.bulk_create(
            [
                Milestone(contract_id=contract.id, position=index + 1, **draft)
                for index, draft in enumerate(drafts)
            ]
        )
        events = await record_event(contract, ContractEventKind.OFFER_SENT, actor_id=actor.user_id)
        events += await _notify(
            contract.freelancer_user_id,
            NotificationKind.OFFER_RECEIVED,
            f"Offer: {title}",
            contract,
        )
    return contract, events


async def _transition(
    actor: Actor,
    contract_id: UUID,
    action: ContractAction,
    kind: ContractEventKind,
    *,
    now: datetime | None = None,
    notify_title: str,
    reason: str | None = None,
) -> tuple[Contract, list[Published]]:
    now = now or utc_now()
    async with in_transaction():
        contract, party = await locked_contract(actor, contract_id)
        if (
            contract.status == ContractStatus.OFFERED
            and contract.offer_expires_at
            and contract.offer_expires_at <= now
        ):
            raise InvalidState("This offer has expired")
        new_status = rules.contract_transition(
            ContractStatus(contract.status), action, party, ContractType(contract.contract_type)
        )
        if action == ContractAction.END:
            escrow = contract.funded_cents - contract.paid_cents - contract.refunded_cents
            if escrow:
                raise InvalidState(
                    "Settle the escrow first: approve or refund every funded milestone"
                )
            new_status = rules.end_status(contract.paid_cents)
            kind = (
                ContractEventKind.CONTRACT_COMPLETED
                if new_status == ContractStatus.COMPLETED
                else ContractEventKind.CONTRACT_CANCELLED
            )
            contract.ended_at = now
            contract.review_deadline = now + REVIEW_WINDOW
        if action == ContractAction.ACCEPT_OFFER:
            contract.started_at = now
            await _hire(contract)
        contract.status = new_status
        contract.updated_at = now
        await contract.save()
        events = await record_event(contract, kind, actor_id=actor.user_id)
        other = contract.freelancer_user_id if party == Party.CLIENT else contract.client_user_id
        events += await _notify(
            other, NotificationKind.CONTRACT_UPDATED, f"{contract.title}: {notify_title}", contract
        )
    return contract, events


async def _hire(contract: Contract) -> None:
    """Accepting an offer hires the proposal and fills the job. Not once the proposal was
    declined or withdrawn, or the job closed (which declines its open proposals and refunds
    their connects when nobody was hired)."""
    if contract.proposal_id:
        proposal = await Proposal.filter(id=contract.proposal_id).select_for_update().first()
        if proposal is not None and proposal.status not in OPEN_STATUSES:
            raise InvalidState("The proposal behind this offer is no longer open")
        if proposal is not None:
            proposal.status = proposal_rules.transition(
                ProposalStatus(proposal.status), ProposalAction.HIRE, Role.SYSTEM
            )
            proposal.updated_at = utc_now()
            await proposal.save(update_fields=["status", "updated_at"])
    job = await Job.filter(id=contract.job_id).select_for_update().first()
    if job is not None and job.status == JobStatus.OPEN:
        job.status = job_rules.transition(JobStatus(job.status), job_rules.JobAction.FILL)
        job.updated_at = utc_now()
        await job.save(update_fields=["status", "updated_at"])


async def accept_offer(
    actor: Actor, contract_id: UUID, *, now: datetime | None = None
) -> tuple[Contract, list[Published]]:
    return await _transition(
        actor,
        contract_id,
        ContractAction.ACCEPT_OFFER,
        ContractEventKind.OFFER_ACCEPTED,
        now=now,
        notify_title="offer accepted",
    )


async def decline_offer(actor: Actor, contract_id: UUID) -> tuple[Contract, list[Published]]:
    return await _transition(
        actor,
        contract_id,
        ContractAction.DECLINE_OFFER,
        ContractEventKind.OFFER_DECLINED,
        notify_title="offer declined",
    )


async def withdraw_offer(actor: Actor, contract_id: UUID) -> tuple[Contract, list[Published]]:
    return await _transition(
        actor,
        contract_id,
        ContractAction.WITHDRAW_OFFER,
        ContractEventKind.OFFER_WITHDRAWN,
        notify_title="offer withdrawn",
    )


async def pause_contract(actor: Actor, contract_id: UUID) -> tuple[Contract, list[Published]]:
    return await _transition(
        actor,
        contract_id,
        ContractAction.PAUSE,
        ContractEventKind.CONTRACT_PAUSED,
        notify_title="paused",
    )


async def resume_contract(actor: Actor, contract_id: UUID) -> tuple[Contract, list[Published]]:
    return await _transition(
        actor,
        contract_id,
        ContractAction.RESUME,
        ContractEventKind.CONTRACT_RESUMED,
        notify_title="resumed",
    )


async def end_contract(
    actor: Actor, contract_id: UUID, reason: str | None = None
) -> tuple[Contract, list[Published]]:
    optional_text(reason, field=["input", "reason"], max_length=2000)
    return await _transition(
        actor,
        contract_id,
        ContractAction.END,
        ContractEventKind.CONTRACT_COMPLETED,
        notify_title="ended",
    )


async def add_milestone(
    actor: Actor, contract_id: UUID, draft: MilestoneDraft
) -> tuple[Milestone, list[Published]]:
    values = check_milestone(draft, ["input", "milestone"])
    async with in_transaction():
        contract, party = await locked_contract(actor, contract_id)
        rules.contract_transition(
            ContractStatus(contract.status),
            ContractAction.ADD_MILESTONE,
            party,
            ContractType(contract.contract_type),
        )
        last = await Milestone.filter(contract_id=contract.id).order_by("-position").first()
        milestone = await Milestone.create(
            contract_id=contract.id, position=(last.position if last else 0) + 1, **values
        )
        events = await record_event(
            contract, ContractEventKind.MILESTONE_ADDED, actor_id=actor.user_id, milestone=milestone
        )
        events += await _notify(
            contract.freelancer_user_id,
            NotificationKind.MILESTONE_UPDATED,
            f"{contract.title}: milestone added",
            contract,
        )
    return milestone, events


async def expire_offers(now: datetime | None = None) -> list[Published]:
    """Scheduler rule: offers not accepted within 7 days expire. Safe to run in every process
    at once: each offer is re-checked under its row lock."""
    now = now or utc_now()
    events: list[Published] = []
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    due = cast(
        list[UUID],
        await Contract.filter(status=ContractStatus.OFFERED, offer_expires_at__lte=now).values_list(
            "id", flat=True
        ),
    )
    for contract_id in due:
        async with in_transaction():
            contract = await Contract.filter(id=contract_id).select_for_update().first()
            if contract is None or contract.status != ContractStatus.OFFERED:
                continue
            contract.status = rules.contract_transition(
                ContractStatus.OFFERED,
                ContractAction.EXPIRE_OFFER,
                Party.SYSTEM,
                ContractType(contract.contract_type),
            )
            contract.updated_at = now
            await contract.save(update_fields=["status", "updated_at"])
            events += await record_event(contract, ContractEventKind.OFFER_EXPIRED, actor_id=None)
            for user_id in (
                contract.client_user_id,
                contract.freelancer_user_id,
            ):
                events += await _notify(
                    user_id,
                    NotificationKind.CONTRACT_UPDATED,
                    f"{contract.title}: offer expired",
                    contract,
                )
    return events
