"""Posting, editing, publishing and closing jobs; inviting freelancers to them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from models.actors import Actor
from models.base import utc_now
from models.errors import AlreadyExists, DomainError, ErrorCode, NotFound, ValidationFailed
from models.events import Published
from models.jobs import rules, search_index
from models.jobs.orm import (
    BudgetType,
    ExperienceLevel,
    Invitation,
    InvitationStatus,
    Job,
    JobSkill,
    JobStatus,
    JobVisibility,
)
from models.jobs.rules import JobAction
from models.money import from_cents
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.profiles.actions import resolve_skills
from models.profiles.orm import FreelancerProfile, Skill
from models.profiles.rules import required_text
from models.proposals import connects
from models.proposals.orm import ConnectsReason, Proposal, ProposalStatus
from models.proposals.rules import OPEN_STATUSES, ProposalAction, Role
from models.proposals.rules import transition as proposal_transition


async def _set_skills(job: Job, skills: list[Skill]) -> None:
    await JobSkill.filter(job_id=job.id).delete()
    await JobSkill.bulk_create(
        [
            JobSkill(job_id=job.id, skill_id=skill.id, position=index)
            for index, skill in enumerate(skills)
        ]
    )


def _priced(job: Job) -> None:
    value = rules.budget_value_cents(
        BudgetType(job.budget_type),
        job.budget_cents,
        job.hourly_rate_min_cents,
        job.hourly_rate_max_cents,
    )
    job.budget_sort_cents = value
    job.connects_required = rules.connects_required(value)


async def post_job(actor: Actor, data: Mapping[str, Any], *, today: date | None = None) -> Job:
    client_id = actor.require_client()
    title = required_text(data.get("title"), field=["input", "title"], max_length=rules.TITLE_MAX)
    description = required_text(
        data.get("description"), field=["input", "description"], max_length=rules.DESCRIPTION_MAX
    )
    if not data.get("skills"):
        raise ValidationFailed("Name at least one skill", field=["input", "skills"])
    skills = await resolve_skills(data["skills"], field=["input", "skills"])
    budget_type = BudgetType(data["budget_type"])
    budget, rate_min, rate_max = rules.check_budget(
        budget_type, data.get("budget"), data.get("hourly_rate_min"), data.get("hourly_rate_max")
    )
    deadline = rules.check_deadline(data.get("deadline"), today or utc_now().date())
    draft = bool(data.get("draft"))
    job = Job(
        client_id=client_id,
        title=title,
        description=description,
        budget_type=budget_type,
        budget_cents=budget,
        hourly_rate_min_cents=rate_min,
        hourly_rate_max_cents=rate_max,
        deadline=deadline,
        experience_level=ExperienceLevel(data["experience_level"]),
        visibility=JobVisibility(data.get("visibility") or JobVisibility.PUBLIC),
        status=JobStatus.DRAFT if draft else JobStatus.OPEN,
        skill_names=" ".join(skill.name for skill in skills),
        published_at=None if draft else utc_now(),
    )
    _priced(job)
    async with in_transaction():
        await job.save()
        await _set_skills(job, skills)
        await search_index.reindex(job.id)
    return job


async def _own_job(actor: Actor, job_id: UUID, *, lock: bool = False) -> Job:
    """The actor's job; anyone else's is NOT_FOUND (or FORBIDDEN when they can see it)."""
    query = Job.filter(id=job_id)
    job = await (query.select_for_update() if lock else query).first()
    if job is None or (job.status == JobStatus.DRAFT and job.client_id != actor.client_profile_id):
        raise NotFound("Job", field=["input", "jobId"])
    if job.client_id != actor.client_profile_id:
        # Invitees see an invite-only job, so for them it is forbidden, not missing.
        if job.visibility == JobVisibility.INVITE_ONLY and not (
            actor.freelancer_profile_id is not None
            and await Invitation.filter(
                job_id=job.id, freelancer_id=actor.freelancer_profile_id
            ).exists()
        ):
            raise NotFound("Job", field=["input", "jobId"])
        raise DomainError("Only the job's client may do this", code=ErrorCode.FORBIDDEN)
    return job


async def update_job(
    actor: Actor, job_id: UUID, data: Mapping[str, Any], *, today: date | None = None
) -> Job:
    async with in_transaction():
        job = await _own_job(actor, job_id, lock=True)
        rules.transition(JobStatus(job.status), JobAction.UPDATE)
        for name, limit in (("title", rules.TITLE_MAX), ("description", rules.DESCRIPTION_MAX)):
            if name in data:
                setattr(
                    job, name, required_text(data[name], field=["input", name], max_length=limit)
                )
        if any(name in data for name in ("budget", "hourly_rate_min", "hourly_rate_max")):
            budget, rate_min, rate_max = rules.check_budget(
                BudgetType(job.budget_type),
                data.get("budget", _dollars(job.budget_cents)),
                data.get("hourly_rate_min", _dollars(job.hourly_rate_min_cents)),
                data.get("hourly_rate_max", _dollars(job.hourly_rate_max_cents)),
            )
            job.budget_cents, job.hourly_rate_min_cents, job.hourly_rate_max_cents = (
                budget,
                rate_min,
                rate_max,
            )
            _priced(job)
        if "deadline" in data:
            job.deadline = rules.check_deadline(data["deadline"], today or utc_now().date())
        for name, kind in (("experience_level", ExperienceLevel), ("visibility", JobVisibility)):
            if name in data:
                if data[name] is None:
                    raise ValidationFailed(
                        "This field must not be null", field=["input", _camel(name)]
                    )
                setattr(job, name, kind(data[name]))
        if "skills" in data:
            if not data["skills"]:
                raise ValidationFailed("Name at least one skill", field=["input", "skills"])
            skills = await resolve_skills(data["skills"], field=["input", "skills"])
            job.skill_names = " ".join(skill.name for skill in skills)
            await _set_skills(job, skills)
        job.updated_at = utc_now()
        await job.save()
        await search_index.reindex(job.id)
    return job


def _dollars(cents: int | None) -> Any:
    return from_cents(cents) if cents is not None else None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


async def publish_job(actor: Actor, job_id: UUID) -> Job:
    async with in_transaction():
        job = await _own_job(actor, job_id, lock=True)
        job.status = rules.transition(JobStatus(job.status), JobAction.PUBLISH)
        job.published_at = job.updated_at = utc_now()
        await job.save(update_fields=["status", "published_at", "updated_at"])
    return job


async def close_job(actor: Actor, job_id: UUID) -> Job:
    """Close to new proposals. Open proposals are declined; when nobody was hired their
    connects go back to the freelancers, who bid on a job that never hired anyone."""
    async with in_transaction():
        job = await _own_job(actor, job_id, lock=True)
        job.status = rules.transition(JobStatus(job.status), JobAction.CLOSE)
        job.updated_at = utc_now()
        await job.save(update_fields=["status", "updated_at"])
        hired = await Proposal.filter(job_id=job.id, status=ProposalStatus.HIRED).exists()
        # In freelancer order, so that closes refunding the same freelancers lock their
        # balances in the same order and cannot deadlock.
        pending = (
            await Proposal.filter(job_id=job.id, status__in=list(OPEN_STATUSES))
            .order_by("freelancer_id")
            .select_for_update()
        )
        for proposal in pending:
            proposal.status = proposal_transition(
                ProposalStatus(proposal.status), ProposalAction.CLOSE_JOB, Role.SYSTEM
            )
            proposal.updated_at = utc_now()
            await proposal.save(update_fields=["status", "updated_at"])
            if not hired:
                await connects.credit(
                    proposal.freelancer_id,
                    proposal.connects_spent,
                    ConnectsReason.REFUND,
                    proposal_id=proposal.id,
                )
    return job


async def invite_freelancer(
    actor: Actor, job_id: UUID, freelancer_id: UUID, message: str
) -> tuple[Invitation, list[Published]]:
    message = required_text(message, field=["input", "message"], max_length=5000)
    async with in_transaction():
        job = await _own_job(actor, job_id)
        if job.status != JobStatus.OPEN:
            raise DomainError("Only open jobs take invitations", code=ErrorCode.INVALID_STATE)
        freelancer = await FreelancerProfile.get_or_none(id=freelancer_id)
        if freelancer is None:
            raise NotFound("Freelancer profile", field=["input", "freelancerId"])
        if freelancer.user_id == actor.user_id:
            raise ValidationFailed("You cannot invite yourself", field=["input", "freelancerId"])
        if await Invitation.filter(job_id=job.id, freelancer_id=freelancer.id).exists():
            raise AlreadyExists(
                "This freelancer is already invited", field=["input", "freelancerId"]
            )
        try:
            async with in_transaction():
                invitation = await Invitation.create(
                    job_id=job.id, freelancer_id=freelancer.id, message=message
                )
        except IntegrityError as error:
            raise AlreadyExists(
                "This freelancer is already invited", field=["input", "freelancerId"]
            ) from error
        _, event = await notify(
            freelancer.user_id,
            NotificationKind.INVITATION_RECEIVED,
            f"You are invited to apply: {job.title}",
            subject_type="Job",
            subject_id=job.id,
        )
    return invitation, [event]


async def respond_to_invitation(actor: Actor, invitation_id: UUID, accept: bool) -> Invitation:
    async with in_transaction():
        invitation = await Invitation.filter(id=invitation_id).select_for_update().first()
        if invitation is None or invitation.freelancer_id != actor.freelancer_profile_id:
            # The job's client sees the invitation they sent: forbidden, not missing.
            sent_by_actor = (
                invitation is not None
                and actor.client_profile_id is not None
                and await Job.filter(
                    id=invitation.job_id,
                    client_id=actor.client_profile_id,
                ).exists()
            )
            if sent_by_actor:
                raise DomainError(
                    "Only the invited freelancer may answer", code=ErrorCode.FORBIDDEN
                )
            raise NotFound("Invitation", field=["input", "invitationId"])
        if invitation.status != InvitationStatus.PENDING:
            raise DomainError("This invitation was already answered", code=ErrorCode.INVALID_STATE)
        if (
            accept
            and not await Job.filter(
                id=invitation.job_id,
                status=JobStatus.OPEN,
            ).exists()
        ):
            raise DomainError("The job is no longer open", code=ErrorCode.INVALID_STATE)
        invitation.status = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
        invitation.responded_at = utc_now()
        await invitation.save(update_fields=["status", "responded_at"])
    return invitation
