"""Reviews: submitting one at the end of a contract."""

from __future__ import annotations

from resolvers.context import Info
from resolvers.reviews import resolvers as reviews
from schema.core import user_errors
from schema.reviews import Review, ReviewPayload, SubmitReviewInput


async def submit_review(info: Info, input: SubmitReviewInput) -> ReviewPayload:
    row, problems = await reviews.submit_review(
        info,
        input.contract_id,
        input.overall,
        input.communication,
        input.quality,
        input.deadlines,
        input.comment,
    )
    return ReviewPayload(
        review=Review.from_row(row) if row else None, user_errors=user_errors(problems)
    )
