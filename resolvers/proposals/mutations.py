from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from decimal import Decimal
from typing import Any
from uuid import UUID

from models.actors import Actor
from models.events import Published
from models.proposals import actions
from models.proposals.orm import Proposal as ProposalRow
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.errors import Outcome, attempt
from resolvers.ids import decode_id
from resolvers.publish import publish
from resolvers.uploads import incoming_files


async def submit_proposal(
    info: Info,
    job_id: str,
    cover_letter: str,
    bid_amount: Decimal,
    estimated_duration_days: int | None,
    attachments: Sequence[object] | None,
) -> Outcome[ProposalRow]:
    async def run() -> tuple[ProposalRow, list[Published]]:
        job = decode_id(job_id, "Job", field=["input", "jobId"])
        return await actions.submit_proposal(
            await signed_in_actor(info),
            job,
            cover_letter=cover_letter,
            bid_amount=bid_amount,
            estimated_duration_days=estimated_duration_days,
            files=incoming_files(attachments, ["input", "attachments"]),
        )

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    proposal, events = result
    await publish(info, events)
    return proposal, []


def _move(
    action: Callable[[Actor, UUID], Awaitable[ProposalRow]],
) -> Callable[[Info, str], Coroutine[Any, Any, Outcome[ProposalRow]]]:
    async def resolve(info: Info, proposal_id: str) -> Outcome[ProposalRow]:
        async def run() -> ProposalRow:
            proposal = decode_id(proposal_id, "Proposal", field=["input", "proposalId"])
            return await action(await signed_in_actor(info), proposal)

        return await attempt(run())

    return resolve


withdraw_proposal = _move(actions.withdraw_proposal)
shortlist_proposal = _move(actions.shortlist_proposal)


async def decline_proposal(
    info: Info, proposal_id: str, reason: str | None
) -> Outcome[ProposalRow]:
    async def run() -> ProposalRow:
        proposal = decode_id(proposal_id, "Proposal", field=["input", "proposalId"])
        return await actions.decline_proposal(await signed_in_actor(info), proposal, reason)

    return await attempt(run())
