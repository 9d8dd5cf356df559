"""Posting, editing, publishing and closing jobs, with the search index kept in step."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.errors import ErrorCode, InvalidState, NotFound, ValidationFailed
from models.jobs import actions as jobs
from models.jobs.orm import Job, JobSkill, JobStatus
from models.jobs.search import JobSearch, search_jobs
from models.proposals import actions as proposals
from models.proposals.orm import ConnectsEntry, ConnectsReason, Proposal, ProposalStatus
from tests.models.marketplace import (
    assert_connects_invariant,
    balance_of,
    client_actor,
    freelancer_actor,
    post,
)


@pytest.fixture(autouse=True)
async def _connects_invariant(db):
    yield
    await assert_connects_invariant()


async def found(query, actor=None, status=None):
    listing = search_jobs(actor, JobSearch(query=query, status=status), None)
    return set(await listing.queryset.values_list("id", flat=True))


async def bid(freelancer, job, amount="300.00"):
    proposal, _ = await proposals.submit_proposal(
        freelancer,
        job.id,
        cover_letter="I can do this.",
        bid_amount=Decimal(amount),
        estimated_duration_days=10,
    )
    return proposal


async def test_post_an_open_fixed_job(db):
    client = await client_actor()
    job = await post(client, budget=Decimal("1000.01"))
    stored = await Job.get(id=job.id)
    assert stored.status == JobStatus.OPEN and stored.published_at is not None
    assert stored.client_id == client.client_profile_id
    assert stored.budget_cents == 100_001 and stored.hourly_rate_min_cents is None
    assert stored.budget_sort_cents == 100_001 and stored.connects_required == 8
    assert stored.skill_names == "Python GraphQL"
    assert [
        link.skill.slug
        for link in await JobSkill.filter(job_id=job.id)
        .order_by("position")
        .prefetch_related("skill")
    ] == ["python", "graphql"]
    assert stored.proposal_count == 0


async def test_post_an_hourly_job_prices_a_week_at_the_top_rate(db):
    client = await client_actor()
    job = await post(
        client,
        budget_type="HOURLY",
        budget=None,
        hourly_rate_min=Decimal("20.00"),
        hourly_rate_max=Decimal("65.00"),
    )
    assert (job.budget_cents, job.hourly_rate_min_cents, job.hourly_rate_max_cents) == (
        None,
        2_000,
        6_500,
    )
    assert job.budget_sort_cents == 40 * 6_500 and job.connects_required == 10
    only_min = await post(
        client, budget_type="HOURLY", budget=None, hourly_rate_min=Decimal("20.00")
    )
    assert only_min.budget_sort_cents == 40 * 2_000 and only_min.connects_required == 6


async def test_a_draft_is_unpublished_and_invisible_to_others(db):
    client = await client_actor()
    freelancer = await freelancer_actor()
    job = await post(client, draft=True, title="Secret zeppelin project")
    assert job.status == JobStatus.DRAFT and job.published_at is None
    assert await found("zeppelin", client, JobStatus.DRAFT) == {job.id}
    assert await found("zeppelin", freelancer, JobStatus.DRAFT) == set()
    assert await found("zeppelin", None, JobStatus.DRAFT) == set()
    assert await found("zeppelin", client) == set()  # lists are of open jobs by default
    with pytest.raises(NotFound):
        await bid(freelancer, job)


async def test_posting_needs_a_client_profile_and_valid_input(db):
    freelancer = await freelancer_actor()
    with pytest.raises(Exception) as error:
        await post(freelancer)
    assert error.value.code == ErrorCode.FORBIDDEN
    client = await client_actor()
    for overrides, field in [
        ({"title": "   "}, ["input", "title"]),
        ({"skills": []}, ["input", "skills"]),
        ({"skills": ["python", "underwater basket weaving"]}, ["input", "skills", "1"]),
        ({"budget": None}, ["input", "budget"]),
        ({"deadline": date.today() - timedelta(days=1)}, ["input", "deadline"]),
    ]:
        with pytest.raises(ValidationFailed) as failure:
            await post(client, **overrides)
        assert failure.value.field == field, overrides
    assert await Job.all().count() == 0


async def test_update_reprices_and_reindexes(db):
    client = await client_actor()
    job = await post(client, title="Zeppelin dashboard", description="Charts for airships.")
    assert await found("zeppelin") == {job.id}
    updated = await jobs.update_job(
        client,
        job.id,
        {"title": "Walrus dashboard", "budget": Decimal("30000.00"), "skills": ["rust"]},
    )
    assert updated.title == "Walrus dashboard"
    stored = await Job.get(id=job.id)
    assert stored.budget_cents == 3_000_000 and stored.connects_required == 16
    assert stored.budget_sort_cents == 3_000_000
    assert stored.skill_names == "Rust"
    # the index follows the row: the new words match, the removed ones no longer do
    assert await found("walrus") == {job.id}
    assert await found("zeppelin") == set()
    assert await found("rust") == {job.id}
    assert await found("python") == set() and await found("graphql") == set()
    assert await found("airships") == {job.id}
    await jobs.update_job(client, job.id, {"description": "Charts for submarines."})
    assert await found("submarine") == {job.id}
    assert await found("airships") == set()


async def test_update_keeps_what_is_not_given(db):
    client = await client_actor()
    job = await post(
        client,
        budget_type="HOURLY",
        budget=None,
        hourly_rate_min=Decimal("20.00"),
        hourly_rate_max=Decimal("30.00"),
    )
    await jobs.update_job(client, job.id, {"hourly_rate_max": Decimal("80.00")})
    stored = await Job.get(id=job.id)
    assert (stored.hourly_rate_min_cents, stored.hourly_rate_max_cents) == (2_000, 8_000)
    assert stored.connects_required == 10 and stored.title == "Build a GraphQL API"
    with pytest.raises(ValidationFailed) as error:
        await jobs.update_job(client, job.id, {"hourly_rate_min": Decimal("90.00")})
    assert error.value.field == ["input", "hourlyRateMax"]
    with pytest.raises(ValidationFailed):
        await jobs.update_job(client, job.id, {"budget": Decimal("100.00")})
    with pytest.raises(ValidationFailed) as error:
        await jobs.update_job(client, job.id, {"experience_level": None})
    assert error.value.field == ["input", "experienceLevel"]
    assert (await Job.get(id=job.id)).hourly_rate_max_cents == 8_000


async def test_a_failed_update_changes_nothing(db):
    client = await client_actor()
    job = await post(client, title="Zeppelin dashboard")
    with pytest.raises(ValidationFailed):
        await jobs.update_job(client, job.id, {"title": "Walrus dashboard", "skills": ["nope"]})
    stored = await Job.get(id=job.id)
    assert stored.title == "Zeppelin dashboard"
    assert await found("zeppelin") == {job.id} and await found("walrus") == set()


async def test_only_the_owner_may_change_a_job(db):
    owner = await client_actor()
    other = await client_actor()
    job = await post(owner)
    draft = await post(owner, draft=True)
    hidden = await post(owner, visibility="INVITE_ONLY")
    with pytest.raises(Exception) as error:
        await jobs.update_job(other, job.id, {"title": "Mine now"})
    assert error.value.code == ErrorCode.FORBIDDEN
    for unseen in (draft, hidden):
        with pytest.raises(NotFound):
            await jobs.update_job(other, unseen.id, {"title": "Mine now"})
    with pytest.raises(NotFound):
        await jobs.publish_job(other, draft.id)
    with pytest.raises(Exception) as error:
        await jobs.close_job(other, job.id)
    assert error.value.code == ErrorCode.FORBIDDEN
    assert (await Job.get(id=job.id)).status == JobStatus.OPEN


async def test_publish_a_draft_once(db):
    client = await client_actor()
    job = await post(client, draft=True, title="Zeppelin dashboard")
    published = await jobs.publish_job(client, job.id)
    assert published.status == JobStatus.OPEN and published.published_at is not None
    assert await found("zeppelin") == {job.id}
    with pytest.raises(InvalidState):
        await jobs.publish_job(client, job.id)


async def test_close_a_draft_cancels_it(db):
    client = await client_actor()
    job = await post(client, draft=True)
    assert (await jobs.close_job(client, job.id)).status == JobStatus.CANCELLED
    for action in (jobs.publish_job, jobs.close_job):
        with pytest.raises(InvalidState):
            await action(client, job.id)
    with pytest.raises(InvalidState):
        await jobs.update_job(client, job.id, {"title": "Again"})


async def test_closing_without_a_hire_declines_and_refunds_open_proposals(db):
    client = await client_actor()
    job = await post(client)  # 400.00: 4 connects
    first, second, withdrawn, declined = [await freelancer_actor(connects=10) for _ in range(4)]
    one, two = await bid(first, job), await bid(second, job)
    await proposals.shortlist_proposal(client, two.id)
    gone = await bid(withdrawn, job)
    await proposals.withdraw_proposal(withdrawn, gone.id)
    refused = await bid(declined, job)
    await proposals.decline_proposal(client, refused.id, "Not a fit")

    closed = await jobs.close_job(client, job.id)

    assert closed.status == JobStatus.CLOSED
    assert (await Job.get(id=job.id)).status == JobStatus.CLOSED
    for proposal in (one, two):
        assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.DECLINED
        refund = await ConnectsEntry.get(proposal_id=proposal.id, reason=ConnectsReason.REFUND)
        assert refund.delta == 4
    assert await balance_of(first.freelancer_profile_id) == 10
    assert await balance_of(second.freelancer_profile_id) == 10
    # a withdrawal and a client's decline before the close keep what they cost
    assert (await Proposal.get(id=gone.id)).status == ProposalStatus.WITHDRAWN
    assert (await Proposal.get(id=refused.id)).decline_reason == "Not a fit"
    assert await balance_of(withdrawn.freelancer_profile_id) == 6
    assert await balance_of(declined.freelancer_profile_id) == 6
    assert await ConnectsEntry.filter(reason=ConnectsReason.REFUND).count() == 2
    with pytest.raises(InvalidState):
        await jobs.close_job(client, job.id)
    with pytest.raises(InvalidState):
        await bid(await freelancer_actor(), job)


async def test_closing_after_a_hire_refunds_nobody(db):
    client = await client_actor()
    job = await post(client)
    hired_one, other = await freelancer_actor(), await freelancer_actor()
    hired, pending = await bid(hired_one, job), await bid(other, job)
    # hiring is not an action yet: put the proposal in HIRED directly
    await Proposal.filter(id=hired.id).update(status=ProposalStatus.HIRED)

    await jobs.close_job(client, job.id)

    assert (await Proposal.get(id=hired.id)).status == ProposalStatus.HIRED
    assert (await Proposal.get(id=pending.id)).status == ProposalStatus.DECLINED
    assert not await ConnectsEntry.filter(reason=ConnectsReason.REFUND).exists()
    assert await balance_of(hired_one.freelancer_profile_id) == 6
    assert await balance_of(other.freelancer_profile_id) == 6


async def test_closing_a_filled_job(db):
    client = await client_actor()
    job = await post(client)
    freelancer = await freelancer_actor()
    proposal = await bid(freelancer, job)
    await Proposal.filter(id=proposal.id).update(status=ProposalStatus.HIRED)
    await Job.filter(id=job.id).update(status=JobStatus.FILLED)
    with pytest.raises(InvalidState):
        await jobs.update_job(client, job.id, {"title": "Changed"})
    assert (await jobs.close_job(client, job.id)).status == JobStatus.CLOSED
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.HIRED
    assert await balance_of(freelancer.freelancer_profile_id) == 6


async def test_an_invited_freelancer_gets_nothing_back_because_they_paid_nothing(db):
    client = await client_actor()
    job = await post(client)
    invited = await freelancer_actor()
    await jobs.invite_freelancer(client, job.id, invited.freelancer_profile_id, "Join us")
    proposal = await bid(invited, job)
    assert proposal.connects_spent == 0
    await jobs.close_job(client, job.id)
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.DECLINED
    assert not await ConnectsEntry.filter(reason=ConnectsReason.REFUND).exists()
    assert await balance_of(invited.freelancer_profile_id) == 10


async def test_search_filters_by_the_index_and_the_row(db):
    client = await client_actor()
    small = await post(client, title="Zeppelin logo", budget=Decimal("50.00"))
    large = await post(client, title="Zeppelin platform", budget=Decimal("50000.00"))
    await post(client, title="Zeppelin draft", draft=True)
    assert await found("zeppelin") == {small.id, large.id}
    assert await found("zeppelin platform") == {large.id}
    assert await found("zepp") == {small.id, large.id}  # prefix match
    listing = search_jobs(None, JobSearch(query="zeppelin", min_budget=Decimal(1000)), None)
    assert await listing.queryset.values_list("id", flat=True) == [large.id]
    await jobs.close_job(client, large.id)
    assert await found("zeppelin") == {small.id}
    # punctuation is not syntax
    assert await found("zeppelin' OR 1=1 --") == set()
    assert await found('"zeppelin*') == {small.id}
