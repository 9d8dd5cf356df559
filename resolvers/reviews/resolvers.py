from __future__ import annotations

from uuid import UUID

from models.events import Published
from models.reviews import actions
from models.reviews.orm import Review as ReviewRow
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.ids import decode_id
from resolvers.publish import publish
from schema.compat import attempt
from schema.reviews import Review, ReviewPayload, SubmitReviewInput


async def visible_review(info: Info, pk: UUID) -> ReviewRow | None:
    """Revealed reviews are public; a hidden one exists only for its author."""
    row = await info.context.loaders.review.load(pk)
    user = info.context.user
    if row is None or (row.revealed_at is None and (user is None or row.author_id != user.id)):
        return None
    return row


async def submit_review(info: Info, input: SubmitReviewInput) -> ReviewPayload:
    async def run() -> tuple[ReviewRow, list[Published]]:
        contract_id = decode_id(input.contract_id, "Contract", field=["input", "contractId"])
        return await actions.submit_review(
            await signed_in_actor(info),
            contract_id,
            {
                "overall": input.overall,
                "communication": input.communication,
                "quality": input.quality,
                "deadlines": input.deadlines,
            },
            input.comment,
        )

    result, errors = await attempt(run())
    if result is None:
        return ReviewPayload(review=None, user_errors=errors)
    review, events = result
    await publish(info, events)
    return ReviewPayload(review=Review.from_row(review), user_errors=[])
