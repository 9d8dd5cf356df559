from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any
from uuid import UUID

from models.actors import Actor
from models.events import Published
from models.proposals import actions
from models.proposals.orm import Proposal as ProposalRow
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.ids import decode_id
from resolvers.publish import publish
from resolvers.uploads import incoming_files
from schema.compat import attempt
from schema.core import UserError
from schema.proposals import (
    DeclineProposalInput,
    Proposal,
    ProposalIdInput,
    ProposalPayload,
    SubmitProposalInput,
)


def _payload(row: ProposalRow | None, errors: list[UserError]) -> ProposalPayload:
    return ProposalPayload(proposal=Proposal.from_row(row) if row else None, user_errors=errors)


async def submit_proposal(info: Info, input: SubmitProposalInput) -> ProposalPayload:
    async def run() -> tuple[ProposalRow, list[Published]]:
        job_id = decode_id(input.job_id, "Job", field=["input", "jobId"])
        return await actions.submit_proposal(
            await signed_in_actor(info),
            job_id,
            cover_letter=input.cover_letter,
            bid_amount=input.bid_amount,
            estimated_duration_days=input.estimated_duration_days,
            files=incoming_files(input.attachments, ["input", "attachments"]),
        )

    result, errors = await attempt(run())
    if result is None:
        return _payload(None, errors)
    proposal, events = result
    await publish(info, events)
    return _payload(proposal, [])


def _move(
    action: Callable[[Actor, UUID], Awaitable[ProposalRow]],
) -> Callable[[Info, ProposalIdInput], Coroutine[Any, Any, ProposalPayload]]:
    async def resolve(info: Info, input: ProposalIdInput) -> ProposalPayload:
        async def run() -> ProposalRow:
            proposal_id = decode_id(input.proposal_id, "Proposal", field=["input", "proposalId"])
            return await action(await signed_in_actor(info), proposal_id)

        return _payload(*await attempt(run()))

    return resolve


withdraw_proposal = _move(actions.withdraw_proposal)
shortlist_proposal = _move(actions.shortlist_proposal)


async def decline_proposal(info: Info, input: DeclineProposalInput) -> ProposalPayload:
    async def run() -> ProposalRow:
        proposal_id = decode_id(input.proposal_id, "Proposal", field=["input", "proposalId"])
        return await actions.decline_proposal(
            await signed_in_actor(info), proposal_id, input.reason
        )

    return _payload(*await attempt(run()))
