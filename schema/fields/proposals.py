"""Proposals: submitting one, moving it along, and the viewer's list."""

from __future__ import annotations

from models.errors import DomainError
from models.proposals.orm import Proposal as ProposalRow
from resolvers.context import Info
from resolvers.pages import page_request
from resolvers.proposals import mutations, queries
from schema.core import Connection, connection_of, user_errors
from schema.proposals import (
    DeclineProposalInput,
    Proposal,
    ProposalIdInput,
    ProposalPayload,
    ProposalStatus,
    SubmitProposalInput,
)


def _payload(row: ProposalRow | None, problems: list[DomainError]) -> ProposalPayload:
    return ProposalPayload(
        proposal=Proposal.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def submit_proposal(info: Info, input: SubmitProposalInput) -> ProposalPayload:
    return _payload(
        *await mutations.submit_proposal(
            info,
            input.job_id,
            input.cover_letter,
            input.bid_amount,
            input.estimated_duration_days,
            input.attachments,
        )
    )


async def withdraw_proposal(info: Info, input: ProposalIdInput) -> ProposalPayload:
    return _payload(*await mutations.withdraw_proposal(info, input.proposal_id))


async def shortlist_proposal(info: Info, input: ProposalIdInput) -> ProposalPayload:
    return _payload(*await mutations.shortlist_proposal(info, input.proposal_id))


async def decline_proposal(info: Info, input: DeclineProposalInput) -> ProposalPayload:
    return _payload(*await mutations.decline_proposal(info, input.proposal_id, input.reason))


async def viewer_proposals(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: ProposalStatus | None = None,
) -> Connection[Proposal]:
    found = await queries.viewer_proposals(info, page_request(first, after, last, before), status)
    return connection_of(found, Proposal.from_row)
