"""Reputation figures for many profiles at once: one query per figure, not per profile.

Job success score: of a freelancer's ended contracts (completed, or cancelled after money was
funded), the share that went well: completed, with nothing refunded, no dispute, and, if the
client's review is revealed, an overall score of 4 or 5. Null until 3 contracts have ended.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast
from uuid import UUID

from tortoise.expressions import Q
from tortoise.functions import Count, Sum
from tortoise.queryset import QuerySet

from models.contracts.orm import Contract, ContractStatus, Dispute
from models.jobs.orm import Job, JobStatus
from models.reviews.orm import Review, ReviewerRole

MIN_ENDED_FOR_SCORE = 3
GOOD_OVERALL = 4


def rating_average(total: int, count: int) -> float | None:
    """The mean of `count` scores summing to `total`, half up to the hundredth, exactly:
    rounding the float quotient would round 2.675 down (its binary value is 2.67499...), and
    PostgreSQL computes the same figure with integers (schema/execution/sql_types.py)."""
    if not count:
        return None
    return (total * 200 + count) // (2 * count) / 100


def _ended() -> Q:
    return Q(status=ContractStatus.COMPLETED) | Q(
        status=ContractStatus.CANCELLED, funded_cents__gt=0
    )


async def job_success_scores(freelancer_ids: Sequence[UUID]) -> dict[UUID, int | None]:
    contracts = await Contract.filter(_ended(), freelancer_id__in=list(freelancer_ids)).values(
        "id", "freelancer_id", "status", "refunded_cents"
    )
    ids = [row["id"] for row in contracts]
    # flat=True yields the values themselves; Tortoise types them as tuples (tortoise-orm#1112).
    disputed = set(
        cast(
            list[UUID],
            await Dispute.filter(contract_id__in=ids).values_list("contract_id", flat=True),
        )
    )
    scores = dict(
        await Review.filter(
            contract_id__in=ids, author_role=ReviewerRole.CLIENT, revealed_at__isnull=False
        ).values_list("contract_id", "overall")
    )
    ended: dict[UUID, int] = defaultdict(int)
    well: dict[UUID, int] = defaultdict(int)
    for row in contracts:
        owner = UUID(str(row["freelancer_id"]))
        ended[owner] += 1
        went_well = (
            row["status"] == ContractStatus.COMPLETED
            and row["refunded_cents"] == 0
            and row["id"] not in disputed
            and scores.get(row["id"], GOOD_OVERALL) >= GOOD_OVERALL
        )
        well[owner] += went_well
    return {
        freelancer_id: int(
            (Decimal(100) * well[freelancer_id] / ended[freelancer_id]).quantize(
                Decimal(1), ROUND_HALF_UP
            )
        )
        if ended[freelancer_id] >= MIN_ENDED_FOR_SCORE
        else None
        for freelancer_id in (UUID(str(i)) for i in freelancer_ids)
    }


async def _grouped(queryset: QuerySet[Any], column: str, value: Count | Sum) -> dict[UUID, int]:
    rows = await queryset.annotate(value=value).group_by(column).values(column, "value")
    return {UUID(str(row[column])): int(row["value"] or 0) for row in rows}


async def freelancer_counters(ids: Sequence[UUID]) -> dict[UUID, tuple[int, int]]:
    """(completed contracts, total earned in cents, before the service fee) per freelancer."""
    completed = await _grouped(
        Contract.filter(freelancer_id__in=list(ids), status=ContractStatus.COMPLETED),
        "freelancer_id",
        Count("id"),
    )
    earned = await _grouped(
        Contract.filter(freelancer_id__in=list(ids)), "freelancer_id", Sum("paid_cents")
    )
    return {
        UUID(str(i)): (completed.get(UUID(str(i)), 0), earned.get(UUID(str(i)), 0)) for i in ids
    }


async def client_counters(ids: Sequence[UUID]) -> dict[UUID, tuple[int, int, int, bool]]:
    """(jobs posted, hires, total spent in cents, payment verified) per client profile.

    Payment verified: the client has funded escrow or paid a timesheet at least once."""
    jobs = await _grouped(
        Job.filter(client_id__in=list(ids)).exclude(status=JobStatus.DRAFT),
        "client_id",
        Count("id"),
    )
    hires = await _grouped(
        Contract.filter(client_id__in=list(ids), started_at__isnull=False), "client_id", Count("id")
    )
    spent = await _grouped(Contract.filter(client_id__in=list(ids)), "client_id", Sum("paid_cents"))
    funded = await _grouped(
        Contract.filter(client_id__in=list(ids)), "client_id", Sum("funded_cents")
    )
    result = {}
    for raw in ids:
        key = UUID(str(raw))
        result[key] = (
            jobs.get(key, 0),
            hires.get(key, 0),
            spent.get(key, 0),
            funded.get(key, 0) > 0 or spent.get(key, 0) > 0,
        )
    return result
