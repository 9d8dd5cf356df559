from __future__ import annotations

from uuid import UUID

from models.events import Published
from models.reviews import actions
from models.reviews.orm import Review as ReviewRow
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.errors import Outcome, attempt
from resolvers.ids import decode_id
from resolvers.publish import publish


async def visible_review(info: Info, pk: UUID) -> ReviewRow | None:
    """Revealed reviews are public; a hidden one exists only for its author."""
    row = await info.context.loaders.review.load(pk)
    user = info.context.user
    if row is None or (row.revealed_at is None and (user is None or row.author_id != user.id)):
        return None
    return row


async def submit_review(
    info: Info,
    contract_id: str,
    overall: int,
    communication: int,
    quality: int,
    deadlines: int,
    comment: str,
) -> Outcome[ReviewRow]:
    async def run() -> tuple[ReviewRow, list[Published]]:
        contract = decode_id(contract_id, "Contract", field=["input", "contractId"])
        return await actions.submit_review(
            await signed_in_actor(info),
            contract,
            {
                "overall": overall,
                "communication": communication,
                "quality": quality,
                "deadlines": deadlines,
            },
            comment,
        )

    result, problems = await attempt(run())
    if result is None:
        return None, problems
    review, events = result
    await publish(info, events)
    return review, []
