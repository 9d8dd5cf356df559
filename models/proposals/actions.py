"""Submitting proposals (which spends connects) and the client's and freelancer's moves on them."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.actors import Actor
from models.attachments import actions as attachments
from models.attachments.rules import PROPOSAL_MAX_FILES
from models.attachments.storage import IncomingFile
from models.base import utc_now
from models.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from models.events import Published
from models.jobs import rules as job_rules
from models.jobs.orm import Invitation, InvitationStatus, Job, JobStatus, JobVisibility
from models.money import parse_amount, to_cents
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.profiles.rules import optional_text, required_text
from models.proposals import connects, rules
from models.proposals.orm import Proposal, ProposalStatus
from models.proposals.rules import ProposalAction, Role

MAX_BID_CENTS = to_cents(Decimal(10000000))


async def submit_proposal(
    actor: Actor,
    job_id: UUID,
    *,
    cover_letter: str,
    bid_amount: Decimal,
    estimated_duration_days: int | None,
    files: Sequence[IncomingFile] = (),
) -> tuple[Proposal, list[Published]]:
    freelancer_id = actor.require_freelancer()
    cover_letter = required_text(
        cover_letter, field=["input", "coverLetter"], max_length=rules.COVER_LETTER_MAX
    )
    bid_cents = parse_amount(bid_amount, field=["input", "bidAmount"])
    if bid_cents > MAX_BID_CENTS:
        raise ValidationFailed("Bid is too large", field=["input", "bidAmount"])
    duration = rules.check_duration(estimated_duration_days)
    accepted = attachments.accept(files, limit=PROPOSAL_MAX_FILES, field=["input", "attachments"])
    try:
        async with attachments.Placing(accepted) as placing, in_transaction():
            job = await Job.get_or_none(id=job_id).select_related("client")
            invitation = await Invitation.get_or_none(job_id=job_id, freelancer_id=freelancer_id)
            if (
                job is None
                or job.status == JobStatus.DRAFT
                or (job.visibility == JobVisibility.INVITE_ONLY and invitation is None)
            ):
                raise NotFound("Job", field=["input", "jobId"])
            if job.client.user_id == actor.user_id:
                raise DomainError("You cannot bid on your own job", code=ErrorCode.FORBIDDEN)
            job_rules.transition(JobStatus(job.status), job_rules.JobAction.RECEIVE_PROPOSAL)
            if await Proposal.filter(job_id=job.id, freelancer_id=freelancer_id).exists():
                raise AlreadyExists("You already sent a proposal for this job")
            # An invited freelancer bids for free.
            invited = invitation is not None and invitation.status != InvitationStatus.DECLINED
            cost = 0 if invited else job.connects_required
            proposal = await Proposal.create(
                job_id=job.id,
                freelancer_id=freelancer_id,
                cover_letter=cover_letter,
                bid_amount_cents=bid_cents,
                estimated_duration_days=duration,
                connects_spent=cost,
            )
            await connects.spend(freelancer_id, cost, proposal_id=proposal.id)
            await placing.store(uploader_id=actor.user_id, proposal_id=proposal.id)
            if invitation is not None and invitation.status == InvitationStatus.PENDING:
                await Invitation.filter(id=invitation.id).update(
                    status=InvitationStatus.ACCEPTED, responded_at=utc_now()
                )
            # Still open? The job was read without a lock; a close that committed since then
            # did not see (nor refund) this proposal. The UPDATE waits for any close in
            # progress and re-checks the status; a close that starts later waits for this
            # transaction, through the job row, and then declines and refunds the proposal.
            if not await Job.filter(id=job.id, status=JobStatus.OPEN).update(
                proposal_count=F("proposal_count") + 1
            ):
                raise InvalidState("This job closed while the proposal was being sent")
            _, event = await notify(
                job.client.user_id,
                NotificationKind.PROPOSAL_RECEIVED,
                f"New proposal on {job.title}",
                subject_type="Proposal",
                subject_id=proposal.id,
            )
    except IntegrityError as error:
        # A concurrent submission of the same freelancer won the unique (job, freelancer) index;
        # this transaction rolled back, connects included.
        raise AlreadyExists("You already sent a proposal for this job") from error
    return proposal, [event]


async def _proposal_as(actor: Actor, proposal_id: UUID) -> tuple[Proposal, Role]:
    # Lock the proposal row only: PostgreSQL refuses FOR UPDATE on the nullable side of the
    # LEFT JOIN select_related makes, and the job (whose client never changes) needs no lock.
    proposal = (
        await Proposal.filter(id=proposal_id)
        .select_related("job")
        .select_for_update(of=("proposals",))
        .first()
    )
    if proposal is not None:
        if proposal.freelancer_id == actor.freelancer_profile_id:
            return proposal, Role.FREELANCER
        if proposal.job.client_id == actor.client_profile_id:
            return proposal, Role.CLIENT
    raise NotFound("Proposal", field=["input", "proposalId"])


async def _move(
    actor: Actor, proposal_id: UUID, action: ProposalAction, *, reason: str | None = None
) -> Proposal:
    async with in_transaction():
        proposal, role = await _proposal_as(actor, proposal_id)
        entry = rules.TRANSITIONS.get((ProposalStatus(proposal.status), action))
        if entry is not None and entry[0] != role:
            raise DomainError(
                f"Only the {entry[0].value.lower()} may do this", code=ErrorCode.FORBIDDEN
            )
        proposal.status = rules.transition(ProposalStatus(proposal.status), action, role)
        proposal.updated_at = utc_now()
        if reason is not None:
            proposal.decline_reason = reason
        await proposal.save(update_fields=["status", "updated_at", "decline_reason"])
    return proposal


async def withdraw_proposal(actor: Actor, proposal_id: UUID) -> Proposal:
    """By the freelancer. The connects spent are not returned."""
    return await _move(actor, proposal_id, ProposalAction.WITHDRAW)


async def shortlist_proposal(actor: Actor, proposal_id: UUID) -> Proposal:
    return await _move(actor, proposal_id, ProposalAction.SHORTLIST)


async def decline_proposal(actor: Actor, proposal_id: UUID, reason: str | None) -> Proposal:
    reason = optional_text(reason, field=["input", "reason"], max_length=2000)
    return await _move(actor, proposal_id, ProposalAction.DECLINE, reason=reason)
