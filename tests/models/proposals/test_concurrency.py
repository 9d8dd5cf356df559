"""Concurrent submissions and closes on PostgreSQL, in truly overlapping transactions.

Tortoise runs each `in_transaction()` on its own connection from the asyncpg pool, so the
gathered actions below hold several open transactions at once. A tracker around the actions'
`in_transaction` records how many were open together and on which server backends, so each
test also proves that its transactions did overlap rather than run one after another.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from tortoise.transactions import in_transaction

from models.errors import AlreadyExists, DomainError, ErrorCode
from models.jobs import actions as jobs
from models.jobs.orm import Job, JobStatus
from models.notifications.orm import Notification
from models.proposals import actions as proposals
from models.proposals.connects import InsufficientConnects
from models.proposals.orm import ConnectsEntry, ConnectsReason, Proposal, ProposalStatus
from models.proposals.rules import OPEN_STATUSES
from tests.models.marketplace import (
    assert_connects_invariant,
    balance_of,
    client_actor,
    freelancer_actor,
    post,
)
from tests.services import require_concurrent_postgres


@pytest.fixture
async def postgres(db):
    require_concurrent_postgres(db.backend)
    yield db
    await assert_connects_invariant()


@dataclass
class Overlap:
    open: int = 0
    peak: int = 0
    backends: set[int] = field(default_factory=set)


@pytest.fixture
def overlap(monkeypatch: pytest.MonkeyPatch) -> Overlap:
    """Track the transactions of the proposal and job actions, and slow each proposal insert
    a little so that checks and writes of concurrent submissions interleave."""
    seen = Overlap()

    @contextlib.asynccontextmanager
    async def tracked(connection_name: str | None = None) -> AsyncIterator[object]:
        async with in_transaction(connection_name) as connection:
            row = await connection.execute_query_dict("SELECT pg_backend_pid() AS pid")
            seen.backends.add(row[0]["pid"])
            seen.open += 1
            seen.peak = max(seen.peak, seen.open)
            try:
                yield connection
            finally:
                seen.open -= 1

    real_create = Proposal.create

    async def slow_create(**values: object) -> Proposal:
        await asyncio.sleep(0.02)
        return await real_create(**values)

    monkeypatch.setattr(proposals, "in_transaction", tracked)
    monkeypatch.setattr(jobs, "in_transaction", tracked)
    monkeypatch.setattr(Proposal, "create", slow_create)
    return seen


async def submit(freelancer, job_id, letter="I can do this."):
    proposal, _ = await proposals.submit_proposal(
        freelancer,
        job_id,
        cover_letter=letter,
        bid_amount=Decimal("80.00"),
        estimated_duration_days=5,
    )
    return proposal


def outcomes(results: list[object]) -> tuple[list[Proposal], list[BaseException]]:
    done = [result for result in results if isinstance(result, Proposal)]
    failed = [result for result in results if isinstance(result, BaseException)]
    assert len(done) + len(failed) == len(results)
    return done, failed


async def test_twenty_bids_with_connects_for_three(postgres, overlap):
    client = await client_actor()
    job_ids = [
        (await post(client, title=f"Logo {index}", budget=Decimal("80.00"))).id
        for index in range(20)
    ]
    assert set(await Job.filter(id__in=job_ids).values_list("connects_required", flat=True)) == {2}
    freelancer = await freelancer_actor(connects=6)

    results = await asyncio.gather(
        *(submit(freelancer, job_id) for job_id in job_ids), return_exceptions=True
    )

    assert overlap.peak > 1 and len(overlap.backends) > 1, overlap
    done, failed = outcomes(results)
    assert len(done) == 3
    assert len(failed) == 17
    assert all(isinstance(error, InsufficientConnects) for error in failed), failed
    assert {error.code for error in failed} == {ErrorCode.INSUFFICIENT_CONNECTS}
    profile_id = freelancer.freelancer_profile_id
    assert await balance_of(profile_id) == 0
    spent = await ConnectsEntry.filter(
        freelancer_id=profile_id, reason=ConnectsReason.PROPOSAL
    ).values_list("delta", flat=True)
    assert sorted(spent) == [-2, -2, -2]
    # only the three winners exist and count
    assert await Proposal.filter(freelancer_id=profile_id).count() == 3
    won = {proposal.job_id for proposal in done}
    counts = dict(await Job.filter(id__in=job_ids).values_list("id", "proposal_count"))
    assert {job_id for job_id, count in counts.items() if count} == won
    assert set(counts.values()) == {0, 1}
    assert await Notification.filter(user_id=client.user_id).count() == 3


async def test_ten_bids_on_one_job_make_one_proposal(postgres, overlap):
    client = await client_actor()
    job = await post(client)  # 4 connects
    freelancer = await freelancer_actor(connects=10)

    results = await asyncio.gather(
        *(submit(freelancer, job.id, f"Letter {index}") for index in range(10)),
        return_exceptions=True,
    )

    assert overlap.peak > 1 and len(overlap.backends) > 1, overlap
    done, failed = outcomes(results)
    assert len(done) == 1
    assert len(failed) == 9
    assert all(isinstance(error, AlreadyExists) for error in failed), failed
    assert await Proposal.filter(job_id=job.id).count() == 1
    assert await balance_of(freelancer.freelancer_profile_id) == 6
    assert await ConnectsEntry.filter(reason=ConnectsReason.PROPOSAL).count() == 1
    assert (await Job.get(id=job.id)).proposal_count == 1
    assert await Notification.filter(user_id=client.user_id).count() == 1


async def test_a_bid_racing_a_close_is_refunded_or_refused(postgres, overlap, monkeypatch):
    """The submission has checked that the job is open when the client closes it: the
    proposal must not survive on the closed job with its connects gone."""
    client = await client_actor()
    job = await post(client)  # 4 connects
    freelancer = await freelancer_actor(connects=10)
    checked, closed = asyncio.Event(), asyncio.Event()
    slow_create = Proposal.create

    async def create_after_the_close(**values: object) -> Proposal:
        checked.set()
        # if the submission holds a lock the close needs, the close waits: don't deadlock
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closed.wait(), 2)
        return await slow_create(**values)

    monkeypatch.setattr(Proposal, "create", create_after_the_close)
    submitting = asyncio.create_task(submit(freelancer, job.id))
    await checked.wait()
    await jobs.close_job(client, job.id)
    closed.set()
    [result] = await asyncio.gather(submitting, return_exceptions=True)

    assert overlap.peak > 1, overlap
    assert (await Job.get(id=job.id)).status == JobStatus.CLOSED
    if isinstance(result, BaseException):
        assert isinstance(result, DomainError) and result.code == ErrorCode.INVALID_STATE
    open_left = await Proposal.filter(job_id=job.id, status__in=list(OPEN_STATUSES)).count()
    assert open_left == 0
    # whatever happened, the freelancer did not pay for a bid on a job that hired nobody
    assert await balance_of(freelancer.freelancer_profile_id) == 10
    assert (await Job.get(id=job.id)).proposal_count == await Proposal.filter(job_id=job.id).count()


async def test_closes_refunding_the_same_freelancers_do_not_deadlock(postgres, overlap):
    """Two jobs with the same bidders, who bid in opposite orders; both close at once and
    refund them all."""
    client = await client_actor()
    first, second = await post(client, title="First"), await post(client, title="Second")
    bidders = [await freelancer_actor(connects=10) for _ in range(6)]
    for freelancer in bidders:
        await submit(freelancer, first.id)
    for freelancer in reversed(bidders):
        await submit(freelancer, second.id)

    results = await asyncio.gather(
        jobs.close_job(client, first.id), jobs.close_job(client, second.id), return_exceptions=True
    )

    assert overlap.peak > 1, overlap
    assert [type(result).__name__ for result in results] == ["Job", "Job"], results
    for freelancer in bidders:
        assert await balance_of(freelancer.freelancer_profile_id) == 10
    assert await Proposal.filter(status=ProposalStatus.DECLINED).count() == 12
