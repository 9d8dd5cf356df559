"""Submitting proposals (paid in connects) and the moves either side makes on them."""

from decimal import Decimal

import pytest

from models.errors import (
    AlreadyExists,
    DomainError,
    ErrorCode,
    InvalidState,
    NotFound,
    ValidationFailed,
)
from models.events import user_channel
from models.jobs import actions as jobs
from models.jobs.orm import Invitation, InvitationStatus, Job
from models.notifications.orm import Notification, NotificationKind
from models.proposals import actions as proposals
from models.proposals.connects import InsufficientConnects
from models.proposals.orm import ConnectsEntry, ConnectsReason, Proposal, ProposalStatus
from tests.models.marketplace import (
    assert_connects_invariant,
    balance_of,
    both_actor,
    client_actor,
    freelancer_actor,
    post,
    set_connects,
)


@pytest.fixture(autouse=True)
async def _connects_invariant(db):
    yield
    await assert_connects_invariant()


async def submit(freelancer, job, *, cover_letter="I can do this.", amount="300.00", days=10):
    return await proposals.submit_proposal(
        freelancer,
        job.id,
        cover_letter=cover_letter,
        bid_amount=Decimal(amount),
        estimated_duration_days=days,
    )


async def test_submit_spends_the_jobs_connects_and_notifies_the_client(db):
    client = await client_actor()
    job = await post(client, budget=Decimal("5000.01"))  # 12 connects
    freelancer = await freelancer_actor(connects=20)

    proposal, events = await submit(freelancer, job, amount="4800.50", days=30)

    assert proposal.status == ProposalStatus.SUBMITTED
    assert proposal.bid_amount_cents == 480_050 and proposal.estimated_duration_days == 30
    assert proposal.connects_spent == 12
    assert await balance_of(freelancer.freelancer_profile_id) == 8
    entry = await ConnectsEntry.get(proposal_id=proposal.id)
    assert (entry.delta, entry.reason) == (-12, ConnectsReason.PROPOSAL)
    assert (await Job.get(id=job.id)).proposal_count == 1
    notification = await Notification.get(user_id=client.user_id)
    assert notification.kind == NotificationKind.PROPOSAL_RECEIVED
    assert (notification.subject_type, notification.subject_id) == ("Proposal", proposal.id)
    [event] = events
    assert event.channel == user_channel(client.user_id)
    assert event.payload["id"] == str(notification.public_id)


async def test_one_proposal_per_freelancer_and_job(db):
    client = await client_actor()
    job = await post(client)  # 4 connects
    freelancer = await freelancer_actor()
    await submit(freelancer, job)
    with pytest.raises(AlreadyExists):
        await submit(freelancer, job, cover_letter="Once more")
    assert await Proposal.filter(job_id=job.id).count() == 1
    assert await balance_of(freelancer.freelancer_profile_id) == 6
    assert (await Job.get(id=job.id)).proposal_count == 1


async def test_insufficient_connects_change_nothing(db):
    client = await client_actor()
    job = await post(client, budget=Decimal("1000.00"))  # 6 connects
    freelancer = await freelancer_actor(connects=5)
    with pytest.raises(InsufficientConnects) as error:
        await submit(freelancer, job)
    assert error.value.code == ErrorCode.INSUFFICIENT_CONNECTS
    assert not await Proposal.exists()
    assert await balance_of(freelancer.freelancer_profile_id) == 5
    assert await ConnectsEntry.filter(reason=ConnectsReason.PROPOSAL).count() == 0
    assert (await Job.get(id=job.id)).proposal_count == 0
    assert not await Notification.exists()
    # exactly enough is enough, down to zero
    await set_connects(freelancer.freelancer_profile_id, 6)
    await submit(freelancer, job)
    assert await balance_of(freelancer.freelancer_profile_id) == 0


async def test_who_may_bid_on_what(db):
    client = await client_actor()
    job = await post(client)
    draft = await post(client, draft=True)
    hidden = await post(client, visibility="INVITE_ONLY")
    closed = await post(client)
    await jobs.close_job(client, closed.id)
    freelancer = await freelancer_actor()
    for target in (draft, hidden):
        with pytest.raises(NotFound):
            await submit(freelancer, target)
    with pytest.raises(InvalidState):
        await submit(freelancer, closed)
    with pytest.raises(DomainError) as error:
        await submit(client, job)  # no freelancer profile
    assert error.value.code == ErrorCode.FORBIDDEN
    owner = await both_actor()
    own = await post(owner)
    with pytest.raises(DomainError) as error:
        await submit(owner, own)
    assert error.value.code == ErrorCode.FORBIDDEN
    assert not await Proposal.exists()
    assert await balance_of(freelancer.freelancer_profile_id) == 10


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"cover_letter": "  "}, "coverLetter"),
        ({"cover_letter": "x" * 10_001}, "coverLetter"),
        ({"amount": "0"}, "bidAmount"),
        ({"amount": "10.001"}, "bidAmount"),
        ({"amount": "10000000.01"}, "bidAmount"),
        ({"days": 0}, "estimatedDurationDays"),
        ({"days": 731}, "estimatedDurationDays"),
    ],
)
async def test_invalid_proposals_are_refused_before_paying(db, overrides, field):
    client = await client_actor()
    job = await post(client)
    freelancer = await freelancer_actor()
    with pytest.raises(ValidationFailed) as error:
        await submit(freelancer, job, **overrides)
    assert error.value.field == ["input", field]
    assert await balance_of(freelancer.freelancer_profile_id) == 10


async def test_an_invited_freelancer_pays_nothing(db):
    client = await client_actor()
    job = await post(client, visibility="INVITE_ONLY", budget=Decimal("30000.00"))  # 16
    invited = await freelancer_actor(connects=0)
    invitation, events = await jobs.invite_freelancer(
        client, job.id, invited.freelancer_profile_id, "Join us"
    )
    assert events[0].channel == user_channel(invited.user_id)

    proposal, _ = await submit(invited, job)

    assert proposal.connects_spent == 0
    assert await balance_of(invited.freelancer_profile_id) == 0
    assert not await ConnectsEntry.filter(proposal_id=proposal.id).exists()
    stored = await Invitation.get(id=invitation.id)
    assert stored.status == InvitationStatus.ACCEPTED and stored.responded_at is not None
    assert (await Job.get(id=job.id)).proposal_count == 1
    # an accepted invitation still bids for free
    other_job = await post(client)
    await jobs.invite_freelancer(client, other_job.id, invited.freelancer_profile_id, "Also")
    accepted = await Invitation.get(job_id=other_job.id)
    await jobs.respond_to_invitation(invited, accepted.id, accept=True)
    assert (await submit(invited, other_job))[0].connects_spent == 0


async def test_a_declined_invitation_no_longer_pays(db):
    client = await client_actor()
    job = await post(client)  # public, 4 connects
    freelancer = await freelancer_actor()
    invitation, _ = await jobs.invite_freelancer(
        client, job.id, freelancer.freelancer_profile_id, "Join us"
    )
    await jobs.respond_to_invitation(freelancer, invitation.id, accept=False)
    proposal, _ = await submit(freelancer, job)
    assert proposal.connects_spent == 4
    assert await balance_of(freelancer.freelancer_profile_id) == 6
    assert (await Invitation.get(id=invitation.id)).status == InvitationStatus.DECLINED


async def test_invitations_once_per_freelancer_and_never_to_yourself(db):
    owner = await both_actor()
    job = await post(owner)
    freelancer = await freelancer_actor()
    await jobs.invite_freelancer(owner, job.id, freelancer.freelancer_profile_id, "Hi")
    with pytest.raises(AlreadyExists):
        await jobs.invite_freelancer(owner, job.id, freelancer.freelancer_profile_id, "Hi")
    with pytest.raises(ValidationFailed):
        await jobs.invite_freelancer(owner, job.id, owner.freelancer_profile_id, "Me")
    assert await Invitation.filter(job_id=job.id).count() == 1


async def test_withdraw_keeps_the_connects(db):
    client = await client_actor()
    job = await post(client)
    freelancer = await freelancer_actor()
    proposal, _ = await submit(freelancer, job)
    with pytest.raises(DomainError) as error:
        await proposals.withdraw_proposal(client, proposal.id)
    assert error.value.code == ErrorCode.FORBIDDEN
    withdrawn = await proposals.withdraw_proposal(freelancer, proposal.id)
    assert withdrawn.status == ProposalStatus.WITHDRAWN
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.WITHDRAWN
    assert await balance_of(freelancer.freelancer_profile_id) == 6
    assert not await ConnectsEntry.filter(reason=ConnectsReason.REFUND).exists()
    with pytest.raises(InvalidState):
        await proposals.withdraw_proposal(freelancer, proposal.id)
    # and the freelancer cannot bid again on the same job
    with pytest.raises(AlreadyExists):
        await submit(freelancer, job)


async def test_shortlist_then_withdraw_or_decline(db):
    client = await client_actor()
    job = await post(client)
    first, second = await freelancer_actor(), await freelancer_actor()
    one, _ = await submit(first, job)
    two, _ = await submit(second, job)
    with pytest.raises(DomainError) as error:
        await proposals.shortlist_proposal(first, one.id)
    assert error.value.code == ErrorCode.FORBIDDEN
    for proposal in (one, two):
        shortlisted = await proposals.shortlist_proposal(client, proposal.id)
        assert shortlisted.status == ProposalStatus.SHORTLISTED
    with pytest.raises(InvalidState):
        await proposals.shortlist_proposal(client, one.id)
    assert (await proposals.withdraw_proposal(first, one.id)).status == ProposalStatus.WITHDRAWN
    declined = await proposals.decline_proposal(client, two.id, "  Went another way  ")
    assert declined.status == ProposalStatus.DECLINED
    stored = await Proposal.get(id=two.id)
    assert stored.status == ProposalStatus.DECLINED and stored.decline_reason
    assert "Went another way" in stored.decline_reason
    for move in (proposals.shortlist_proposal, proposals.withdraw_proposal):
        with pytest.raises(DomainError):
            await move(client, two.id)
    assert await balance_of(first.freelancer_profile_id) == 6
    assert await balance_of(second.freelancer_profile_id) == 6


async def test_decline_is_the_clients_and_takes_an_optional_reason(db):
    client = await client_actor()
    job = await post(client)
    freelancer = await freelancer_actor()
    proposal, _ = await submit(freelancer, job)
    with pytest.raises(DomainError) as error:
        await proposals.decline_proposal(freelancer, proposal.id, None)
    assert error.value.code == ErrorCode.FORBIDDEN
    with pytest.raises(ValidationFailed) as failure:
        await proposals.decline_proposal(client, proposal.id, "x" * 2001)
    assert failure.value.field == ["input", "reason"]
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.SUBMITTED
    declined = await proposals.decline_proposal(client, proposal.id, None)
    assert declined.status == ProposalStatus.DECLINED and declined.decline_reason is None
    with pytest.raises(InvalidState):
        await proposals.decline_proposal(client, proposal.id, None)
    with pytest.raises(InvalidState):
        await proposals.withdraw_proposal(freelancer, proposal.id)


async def test_strangers_see_no_proposal(db):
    client = await client_actor()
    job = await post(client)
    freelancer = await freelancer_actor()
    proposal, _ = await submit(freelancer, job)
    stranger_client, stranger_freelancer = await client_actor(), await freelancer_actor()
    for actor in (stranger_client, stranger_freelancer):
        for move in (proposals.withdraw_proposal, proposals.shortlist_proposal):
            with pytest.raises(NotFound):
                await move(actor, proposal.id)
        with pytest.raises(NotFound):
            await proposals.decline_proposal(actor, proposal.id, None)
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.SUBMITTED
