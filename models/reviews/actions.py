"""Double-blind reviews: either party, once, after the contract ended, within its window.

A review stays hidden from the other party (and everyone else) until both have reviewed or the
window has closed; revealing it adds it to the subject's rating sums in the same transaction,
under the contract's row lock, so each review counts exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast
from uuid import UUID

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from models.actors import Actor
from models.base import utc_now
from models.contracts.access import locked_contract
from models.contracts.events import record_event
from models.contracts.orm import Contract, ContractEventKind, ContractStatus
from models.contracts.rules import Party
from models.errors import AlreadyExists, InvalidState, ValidationFailed
from models.events import Published
from models.notifications.actions import notify
from models.notifications.orm import NotificationKind
from models.profiles.orm import ClientProfile, FreelancerProfile
from models.profiles.rules import required_text
from models.reviews.orm import Review, ReviewerRole

COMMENT_MAX = 5000
SCORES = ("overall", "communication", "quality", "deadlines")


def reviewable(contract: Contract, now: datetime) -> bool:
    """Ended with money moved (completed, or cancelled after funding), window still open."""
    ended = contract.status == ContractStatus.COMPLETED or (
        contract.status == ContractStatus.CANCELLED and contract.funded_cents > 0
    )
    return ended and contract.review_deadline is not None and now < contract.review_deadline


def check_scores(scores: dict[str, int]) -> None:
    for name in SCORES:
        if not 1 <= scores[name] <= 5:
            raise ValidationFailed("Scores are whole numbers from 1 to 5", field=["input", name])


async def submit_review(
    actor: Actor,
    contract_id: UUID,
    scores: dict[str, int],
    comment: str,
    *,
    now: datetime | None = None,
) -> tuple[Review, list[Published]]:
    now = now or utc_now()
    check_scores(scores)
    comment = required_text(comment, field=["input", "comment"], max_length=COMMENT_MAX)
    try:
        async with in_transaction():
            contract, party = await locked_contract(actor, contract_id)
            if not reviewable(contract, now):
                raise InvalidState("This contract cannot be reviewed now")
            if await Review.filter(contract_id=contract.id, author_id=actor.user_id).exists():
                raise AlreadyExists("You already reviewed this contract")
            by_client = party == Party.CLIENT
            # Any: typed as ints, mypy would match these keywords against create()'s `using_db`.
            score_columns: dict[str, Any] = {name: scores[name] for name in SCORES}
            review = await Review.create(
                contract_id=contract.id,
                author_id=actor.user_id,
                subject_id=contract.freelancer_user_id if by_client else contract.client_user_id,
                author_role=ReviewerRole.CLIENT if by_client else ReviewerRole.FREELANCER,
                comment=comment,
                **score_columns,
            )
            events = await record_event(
                contract, ContractEventKind.REVIEW_SUBMITTED, actor_id=actor.user_id
            )
            if await Review.filter(contract_id=contract.id).count() == 2:
                events += await _reveal(contract, now)
                review.revealed_at = now
    except IntegrityError as error:
        raise AlreadyExists("You already reviewed this contract") from error
    return review, events


async def _reveal(contract: Contract, now: datetime) -> list[Published]:
    """Reveal the contract's hidden reviews and count them into the subjects' ratings."""
    events: list[Published] = []
    for review in await Review.filter(contract_id=contract.id, revealed_at=None):
        updated = await Review.filter(id=review.id, revealed_at=None).update(revealed_at=now)
        if not updated:
            continue
        profile = FreelancerProfile if review.author_role == ReviewerRole.CLIENT else ClientProfile
        await profile.filter(user_id=review.subject_id).update(
            rating_count=F("rating_count") + 1,
            **{
                f"rating_{name}_sum": F(f"rating_{name}_sum") + getattr(review, name)
                for name in SCORES
            },
        )
        _, event = await notify(
            review.subject_id,
            NotificationKind.REVIEW_RECEIVED,
            f"{contract.title}: you have a new review",
            subject_type="Review",
            subject_id=review.id,
        )
        events.append(event)
    return events


async def reveal_due(now: datetime | None = None) -> list[Published]:
    """Scheduler rule: when a review window closes, its hidden reviews are revealed."""
    now = now or utc_now()
    events: list[Published] = []
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    contract_ids = cast(
        list[UUID],
        await Review.filter(revealed_at=None, contract__review_deadline__lte=now)
        .distinct()
        .values_list("contract_id", flat=True),
    )
    for contract_id in contract_ids:
        async with in_transaction():
            contract = await Contract.filter(id=contract_id).select_for_update().first()
            if contract is not None:
                events += await _reveal(contract, now)
    return events
