"""Proposal rules: who may do what to a proposal in which status, as one table."""

from __future__ import annotations

from enum import StrEnum

from models.errors import InvalidState, ValidationFailed
from models.proposals.orm import ProposalStatus


class Role(StrEnum):
    CLIENT = "CLIENT"
    FREELANCER = "FREELANCER"
    SYSTEM = "SYSTEM"


class ProposalAction(StrEnum):
    WITHDRAW = "WITHDRAW"
    SHORTLIST = "SHORTLIST"
    DECLINE = "DECLINE"
    START_INTERVIEW = "START_INTERVIEW"
    SEND_OFFER = "SEND_OFFER"
    HIRE = "HIRE"
    CLOSE_JOB = "CLOSE_JOB"


S = ProposalStatus
A = ProposalAction
OPEN_STATUSES = (S.SUBMITTED, S.SHORTLISTED, S.INTERVIEWING)

# (status, action) -> (who may, status after)
TRANSITIONS: dict[tuple[ProposalStatus, ProposalAction], tuple[Role, ProposalStatus]] = {
    (S.SUBMITTED, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.SUBMITTED, A.SHORTLIST): (Role.CLIENT, S.SHORTLISTED),
    (S.SUBMITTED, A.DECLINE): (Role.CLIENT, S.DECLINED),
    (S.SUBMITTED, A.START_INTERVIEW): (Role.CLIENT, S.INTERVIEWING),
    (S.SHORTLISTED, A.START_INTERVIEW): (Role.CLIENT, S.INTERVIEWING),
    (S.SHORTLISTED, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.SHORTLISTED, A.DECLINE): (Role.CLIENT, S.DECLINED),
    (S.INTERVIEWING, A.WITHDRAW): (Role.FREELANCER, S.WITHDRAWN),
    (S.INTERVIEWING, A.DECLINE): (Role.CLIENT, S.DECLINED),
    **{(status, A.SEND_OFFER): (Role.CLIENT, status) for status in OPEN_STATUSES},
    **{(status, A.HIRE): (Role.SYSTEM, S.HIRED) for status in OPEN_STATUSES},
    **{(status, A.CLOSE_JOB): (Role.SYSTEM, S.DECLINED) for status in OPEN_STATUSES},
}

DONE = {
    A.WITHDRAW: "withdrawn",
    A.SHORTLIST: "shortlisted",
    A.DECLINE: "declined",
    A.START_INTERVIEW: "interviewed",
    A.SEND_OFFER: "sent an offer",
    A.HIRE: "hired",
    A.CLOSE_JOB: "closed with its job",
}

# Actions the API offers in `allowedActions` (the others are taken by the system).
PUBLIC_ACTIONS = (A.WITHDRAW, A.SHORTLIST, A.DECLINE, A.START_INTERVIEW, A.SEND_OFFER)


def transition(status: ProposalStatus, action: ProposalAction, role: Role) -> ProposalStatus:
    entry = TRANSITIONS.get((ProposalStatus(status), action))
    if entry is None or entry[0] != role:
        raise InvalidState(
            f"A {ProposalStatus(status).value.lower()} proposal cannot be "
            f"{DONE[action]} by the {role.value.lower()}"
        )
    return entry[1]


def allowed_actions(status: ProposalStatus, role: Role | None) -> list[ProposalAction]:
    if role is None:
        return []
    return [
        action
        for action in PUBLIC_ACTIONS
        if TRANSITIONS.get((ProposalStatus(status), action), (None,))[0] == role
    ]


COVER_LETTER_MAX = 10_000
MAX_DURATION_DAYS = 730


def check_duration(days: int | None) -> int | None:
    if days is not None and not 1 <= days <= MAX_DURATION_DAYS:
        raise ValidationFailed(
            f"Estimated duration must be 1 to {MAX_DURATION_DAYS} days",
            field=["input", "estimatedDurationDays"],
        )
    return days
