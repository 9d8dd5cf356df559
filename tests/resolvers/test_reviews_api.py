"""Reviews and reputation through the API: double-blind reviews, the review window, rating
summaries, the job success score and the profile counters.

The scene (jobs, offers, escrow, disputes) is set through the model actions; what is under test
(submitReview and every way of reading a review or a reputation figure) goes through HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import pytest

from models.actors import Actor, actor_for
from models.base import utc_now
from models.contracts import actions as contract_actions
from models.contracts import disputes, milestones
from models.contracts.actions import MilestoneDraft
from models.contracts.orm import Contract, ContractType, Milestone
from models.jobs.actions import post_job
from models.payments import wallet
from models.proposals import connects
from models.proposals.actions import submit_proposal
from models.proposals.orm import ConnectsReason
from models.reviews.actions import COMMENT_MAX, submit_review
from models.scheduler import run_due
from models.users.actions import Session
from schema.core import encode_global_id
from tests.conftest import GraphQLClient, count_statements
from tests.factories import make_client, make_freelancer, make_user

pytestmark = pytest.mark.usefixtures("db")

SUBMIT_REVIEW = """
mutation($input: SubmitReviewInput!) {
  submitReview(input: $input) {
    review { id overall communication quality deadlines comment authorRole
             author { id } subject { id } contract { id } }
    userErrors { field code message }
  }
}"""
CONTRACT_VIEW = """
query($id: ID!) { node(id: $id) { ... on Contract {
  id status reviewDeadline canReview allowedActions
  myReview { id overall comment authorRole }
  reviews { id overall communication quality deadlines comment authorRole
            author { id } subject { id } }
} } }"""
PROFILES_VIEW = """
query($freelancer: ID!, $client: ID!) {
  freelancer: node(id: $freelancer) { ... on FreelancerProfile {
    rating { count overall communication quality deadlines }
    jobSuccessScore completedContracts totalEarned
    reviews(first: 10) { totalCount nodes { id overall comment authorRole } }
  } }
  client: node(id: $client) { ... on ClientProfile {
    rating { count overall communication quality deadlines }
    paymentVerified jobsPosted hires totalSpent
    reviews(first: 10) { totalCount nodes { id overall comment authorRole } }
  } }
}"""
REVIEW_NODE = """
query($id: ID!) {
  node(id: $id) { __typename ... on Review { id overall } }
  nodes(ids: [$id]) { __typename }
}"""
NOTIFICATIONS = """
{ viewer { notifications(first: 50) { nodes { kind subject { __typename id } } } } }"""
VIEWER_CONTRACT_REVIEWS = """
{ viewer { contracts(first: 20) { nodes { id reviews { id } } } } }"""
RATED_FREELANCERS = """
{ freelancers(first: 50, filter: {minRating: 1}) { nodes { id rating { count } } } }"""

GOOD = {"overall": 5, "communication": 4, "quality": 5, "deadlines": 3}
FAIR = {"overall": 4, "communication": 5, "quality": 3, "deadlines": 4}


def gid(type_name: str, pk: UUID) -> str:
    return str(encode_global_id(type_name, pk))


# --- the scene, through the model actions --------------------------------------------------


@dataclass
class Party:
    session: Session
    actor: Actor
    profile_id: UUID

    @property
    def token(self) -> str:
        return self.session.token

    @property
    def user_gid(self) -> str:
        return gid("User", self.session.user.id)


async def a_client(funds: str | None = "10000.00") -> Party:
    session, profile = await make_client()
    actor = await actor_for(session.user)
    if funds:
        await wallet.add_funds(actor, Decimal(funds))
    return Party(session, actor, profile.id)


async def a_freelancer(**fields: Any) -> Party:
    session, profile = await make_freelancer(**fields)
    await connects.credit(profile.id, 200, ConnectsReason.PURCHASE)
    return Party(session, await actor_for(session.user), profile.id)


async def offer(
    client: Party,
    freelancer: Party,
    amounts: list[str],
    *,
    title: str = "Work",
    accept: bool = True,
) -> tuple[UUID, list[UUID]]:
    """A job, a proposal and an offer with these milestones, accepted: (contract, milestones)."""
    job = await post_job(
        client.actor,
        {
            "title": title,
            "description": "Some work",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": Decimal(100),
            "experience_level": "ENTRY",
        },
    )
    proposal, _ = await submit_proposal(
        freelancer.actor,
        job.id,
        cover_letter="Hire me",
        bid_amount=Decimal(100),
        estimated_duration_days=5,
    )
    contract, _ = await contract_actions.send_offer(
        client.actor,
        proposal.id,
        title=title,
        terms="Milestones",
        contract_type=ContractType.FIXED,
        milestones=[
            MilestoneDraft(title=f"Part {i + 1}", amount=Decimal(amount))
            for i, amount in enumerate(amounts)
        ],
        hourly_rate=None,
        weekly_limit_hours=None,
        deadline=None,
    )
    if accept:
        await contract_actions.accept_offer(freelancer.actor, contract.id)
    ids = (
        await Milestone.filter(contract_id=contract.id)
        .order_by("position")
        .values_list("id", flat=True)
    )
    return contract.id, list(ids)


async def paid_and_ended(
    client: Party, freelancer: Party, amount: str = "100.00", *, title: str = "Work"
) -> UUID:
    contract_id, (milestone_id,) = await offer(client, freelancer, [amount], title=title)
    await milestones.fund_milestone(client.actor, milestone_id)
    await milestones.approve_milestone(client.actor, milestone_id)
    await contract_actions.end_contract(client.actor, contract_id)
    return contract_id


async def end(client: Party, contract_id: UUID) -> None:
    await contract_actions.end_contract(client.actor, contract_id)


# --- the API -------------------------------------------------------------------------------


async def submit(
    gql: GraphQLClient,
    party: Party | None,
    contract_id: UUID | str,
    scores: dict[str, int],
    comment: str = "Thanks",
) -> dict[str, Any]:
    contract_gid = contract_id if isinstance(contract_id, str) else gid("Contract", contract_id)
    data = await gql.execute(
        SUBMIT_REVIEW,
        {"input": {"contractId": contract_gid, **scores, "comment": comment}},
        token=party.token if party else None,
    )
    return data["submitReview"]


async def reviewed(
    gql: GraphQLClient,
    party: Party,
    contract_id: UUID,
    scores: dict[str, int],
    comment: str = "Thanks",
) -> dict[str, Any]:
    payload = await submit(gql, party, contract_id, scores, comment)
    assert payload["userErrors"] == [], payload
    return payload["review"]


def error_codes(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


async def contract_view(
    gql: GraphQLClient, party: Party | None, contract_id: UUID
) -> dict[str, Any] | None:
    data = await gql.execute(
        CONTRACT_VIEW, {"id": gid("Contract", contract_id)}, token=party.token if party else None
    )
    return data["node"]


async def profiles(
    gql: GraphQLClient, viewer: Party | None, freelancer: Party, client: Party
) -> dict[str, Any]:
    return await gql.execute(
        PROFILES_VIEW,
        {
            "freelancer": gid("FreelancerProfile", freelancer.profile_id),
            "client": gid("ClientProfile", client.profile_id),
        },
        token=viewer.token if viewer else None,
    )


async def review_node(gql: GraphQLClient, viewer: Party | None, review_id: str) -> dict[str, Any]:
    return await gql.execute(REVIEW_NODE, {"id": review_id}, token=viewer.token if viewer else None)


async def notifications(gql: GraphQLClient, party: Party) -> list[dict[str, Any]]:
    data = await gql.execute(NOTIFICATIONS, token=party.token)
    return data["viewer"]["notifications"]["nodes"]


async def review_notifications(gql: GraphQLClient, party: Party) -> list[dict[str, Any]]:
    return [n for n in await notifications(gql, party) if n["kind"] == "REVIEW_RECEIVED"]


def summary(
    count: int,
    overall: float | None = None,
    communication: float | None = None,
    quality: float | None = None,
    deadlines: float | None = None,
) -> dict[str, Any]:
    return {
        "count": count,
        "overall": overall,
        "communication": communication,
        "quality": quality,
        "deadlines": deadlines,
    }


def averages(*reviews: dict[str, int]) -> dict[str, Any]:
    """The rating summary of these reviews, as the API rounds it (2 decimals)."""
    return summary(
        len(reviews),
        *(
            round(sum(r[name] for r in reviews) / len(reviews), 2)
            for name in ("overall", "communication", "quality", "deadlines")
        ),
    )


async def assert_hidden_from(
    gql: GraphQLClient,
    viewer: Party | None,
    *,
    review_id: str,
    contract_id: UUID,
    freelancer: Party,
    client: Party,
) -> None:
    """A hidden review cannot be read by `viewer` through any path."""
    who = "anonymous" if viewer is None else viewer.user_gid
    contract = await contract_view(gql, viewer, contract_id)
    if contract is not None:  # the other party sees the contract, without the review
        assert contract["reviews"] == [], who
        assert contract["myReview"] is None or contract["myReview"]["id"] != review_id, who
    seen = await profiles(gql, viewer, freelancer, client)
    for side in ("freelancer", "client"):
        assert seen[side]["rating"] == summary(0), (who, side)
        assert seen[side]["reviews"] == {"totalCount": 0, "nodes": []}, (who, side)
    assert await review_node(gql, viewer, review_id) == {"node": None, "nodes": [None]}, who
    rated = await gql.execute(RATED_FREELANCERS, token=viewer.token if viewer else None)
    assert gid("FreelancerProfile", freelancer.profile_id) not in [
        node["id"] for node in rated["freelancers"]["nodes"]
    ], who
    if viewer is not None:
        assert await review_notifications(gql, viewer) == [], who
        listed = await gql.execute(VIEWER_CONTRACT_REVIEWS, token=viewer.token)
        assert all(node["reviews"] == [] for node in listed["viewer"]["contracts"]["nodes"]), who


# --- double-blind ----------------------------------------------------------------------------


async def test_a_review_is_hidden_from_everyone_but_its_author_until_the_other_party_reviews(gql):
    # given an ended contract, and a stranger with contracts of their own
    client, freelancer = await a_client(), await a_freelancer()
    contract_id = await paid_and_ended(client, freelancer)
    stranger = await a_freelancer()
    await paid_and_ended(await a_client(), stranger)
    before = await contract_view(gql, client, contract_id)
    assert before["canReview"] is True and before["myReview"] is None
    assert "REVIEW" in before["allowedActions"]

    # when the client reviews
    mine = await reviewed(gql, client, contract_id, GOOD, "Great work")

    # then the author sees it at once, and may not review again
    assert (mine["authorRole"], mine["author"]["id"], mine["subject"]["id"]) == (
        "CLIENT",
        client.user_gid,
        freelancer.user_gid,
    )
    own = await contract_view(gql, client, contract_id)
    assert own["myReview"] == {
        "id": mine["id"],
        "overall": 5,
        "comment": "Great work",
        "authorRole": "CLIENT",
    }
    assert own["canReview"] is False and own["allowedActions"] == []
    assert own["reviews"] == []  # revealed reviews only, even for the author
    assert (await review_node(gql, client, mine["id"]))["node"] == {
        "__typename": "Review",
        "id": mine["id"],
        "overall": 5,
    }
    # and nobody else can read it by any path
    for viewer in (freelancer, stranger, None):
        await assert_hidden_from(
            gql,
            viewer,
            review_id=mine["id"],
            contract_id=contract_id,
            freelancer=freelancer,
            client=client,
        )
    other = await contract_view(gql, freelancer, contract_id)
    assert other["canReview"] is True and other["myReview"] is None
    assert other["allowedActions"] == ["REVIEW"]

    # when the freelancer reviews too
    theirs = await reviewed(gql, freelancer, contract_id, FAIR, "Clear brief")

    # then both are revealed, to everyone, everywhere
    assert (theirs["authorRole"], theirs["subject"]["id"]) == ("FREELANCER", client.user_gid)
    for party in (client, freelancer):
        view = await contract_view(gql, party, contract_id)
        assert view["canReview"] is False
        assert {r["id"] for r in view["reviews"]} == {mine["id"], theirs["id"]}
    assert (await contract_view(gql, freelancer, contract_id))["myReview"]["id"] == theirs["id"]
    for viewer in (client, freelancer, stranger, None):
        seen = await profiles(gql, viewer, freelancer, client)
        assert seen["freelancer"]["rating"] == summary(1, 5.0, 4.0, 5.0, 3.0)
        assert seen["client"]["rating"] == summary(1, 4.0, 5.0, 3.0, 4.0)
        assert seen["freelancer"]["reviews"] == {
            "totalCount": 1,
            "nodes": [
                {"id": mine["id"], "overall": 5, "comment": "Great work", "authorRole": "CLIENT"}
            ],
        }
        assert seen["client"]["reviews"] == {
            "totalCount": 1,
            "nodes": [
                {
                    "id": theirs["id"],
                    "overall": 4,
                    "comment": "Clear brief",
                    "authorRole": "FREELANCER",
                }
            ],
        }
        for review_id in (mine["id"], theirs["id"]):
            assert (await review_node(gql, viewer, review_id))["nodes"] == [
                {"__typename": "Review"}
            ]
    # and each subject is told once, about the review of them
    assert await review_notifications(gql, freelancer) == [
        {"kind": "REVIEW_RECEIVED", "subject": {"__typename": "Review", "id": mine["id"]}}
    ]
    assert await review_notifications(gql, client) == [
        {"kind": "REVIEW_RECEIVED", "subject": {"__typename": "Review", "id": theirs["id"]}}
    ]
    assert await review_notifications(gql, stranger) == []


async def test_the_window_closing_reveals_a_lone_review_and_shuts_out_the_other_party(gql):
    # given an ended contract reviewed by the client only
    client, freelancer = await a_client(), await a_freelancer()
    contract_id = await paid_and_ended(client, freelancer)
    view = await contract_view(gql, client, contract_id)
    deadline = datetime.fromisoformat(view["reviewDeadline"])
    ended_at = (await Contract.get(id=contract_id)).ended_at
    assert deadline == ended_at + timedelta(days=14)
    mine = await reviewed(gql, client, contract_id, GOOD)
    # the scheduler just before the deadline reveals nothing
    assert await run_due(deadline - timedelta(seconds=1)) == []
    await assert_hidden_from(
        gql,
        freelancer,
        review_id=mine["id"],
        contract_id=contract_id,
        freelancer=freelancer,
        client=client,
    )

    # when the window has closed (the contract ended 15 days ago) ...
    await Contract.filter(id=contract_id).update(
        ended_at=ended_at - timedelta(days=15), review_deadline=ended_at - timedelta(days=1)
    )
    # ... the other party may no longer review
    late = await contract_view(gql, freelancer, contract_id)
    assert late["canReview"] is False and late["allowedActions"] == []
    assert error_codes(await submit(gql, freelancer, contract_id, FAIR)) == [
        (None, "INVALID_STATE")
    ]
    # and the lone review stays hidden until the scheduler reveals it
    await assert_hidden_from(
        gql,
        None,
        review_id=mine["id"],
        contract_id=contract_id,
        freelancer=freelancer,
        client=client,
    )
    events = await run_due(utc_now())

    # then it is revealed once, to everyone
    assert len(events) == 1
    assert await run_due(utc_now()) == []
    for viewer in (freelancer, None):
        seen = await profiles(gql, viewer, freelancer, client)
        assert seen["freelancer"]["rating"] == averages(GOOD)
        assert [n["id"] for n in seen["freelancer"]["reviews"]["nodes"]] == [mine["id"]]
        assert seen["client"]["rating"] == summary(0)
        assert (await review_node(gql, viewer, mine["id"]))["node"]["id"] == mine["id"]
    assert [r["id"] for r in (await contract_view(gql, freelancer, contract_id))["reviews"]] == [
        mine["id"]
    ]
    assert await review_notifications(gql, freelancer) == [
        {"kind": "REVIEW_RECEIVED", "subject": {"__typename": "Review", "id": mine["id"]}}
    ]


REVIEW_CONTRACT = """
query($id: ID!) { node(id: $id) { ... on Review { overall
  contract { id terms milestones { submissions { message } }
             interview { messages(first: 5) { nodes { body } } } }
} } }"""


async def test_a_public_review_does_not_open_its_private_contract(gql):
    # given a revealed review on a contract with a chat and a submitted deliverable
    client, freelancer = await a_client(), await a_freelancer()
    contract_id, (milestone_id,) = await offer(client, freelancer, ["100.00"])
    await milestones.fund_milestone(client.actor, milestone_id)
    await milestones.submit(freelancer.actor, milestone_id, "Private deliverable", [])
    await milestones.approve_milestone(client.actor, milestone_id)
    await end(client, contract_id)
    review = await reviewed(gql, client, contract_id, GOOD)
    await reviewed(gql, freelancer, contract_id, FAIR)
    stranger = await a_client()
    # the parties reach the contract through the review
    for party in (client, freelancer):
        data = await gql.execute(REVIEW_CONTRACT, {"id": review["id"]}, token=party.token)
        assert data["node"]["contract"]["milestones"] == [
            {"submissions": [{"message": "Private deliverable"}]}
        ]
    # nobody else does: the review is public, the contract is not (and `contract` is
    # non-null, so the denial is a NOT_FOUND field error, not data)
    for viewer in (stranger, None):
        body = await gql.execute_raw(
            REVIEW_CONTRACT, {"id": review["id"]}, token=viewer.token if viewer else None
        )
        assert body["data"] == {"node": None}
        assert [error["extensions"]["code"] for error in body["errors"]] == ["NOT_FOUND"]
        assert "Private deliverable" not in str(body)
    # the review itself stays public
    assert (await review_node(gql, None, review["id"]))["node"]["overall"] == 5


# --- the rules of submitting -----------------------------------------------------------------


async def test_once_per_party_parties_only_ended_contracts_only(gql):
    client, freelancer = await a_client(), await a_freelancer()
    contract_id = await paid_and_ended(client, freelancer)
    stranger = await a_client()
    staff_session = await make_user(is_staff=True)
    staff = Party(staff_session, await actor_for(staff_session.user), UUID(int=0))

    await reviewed(gql, client, contract_id, GOOD)
    assert error_codes(await submit(gql, client, contract_id, GOOD)) == [(None, "ALREADY_EXISTS")]
    # nobody but the parties, staff included: the contract does not exist for them
    for outsider in (stranger, staff):
        assert error_codes(await submit(gql, outsider, contract_id, GOOD)) == [
            (["input", "contractId"], "NOT_FOUND")
        ]
    assert error_codes(await submit(gql, client, gid("Job", contract_id), GOOD)) == [
        (["input", "contractId"], "NOT_FOUND")
    ]
    anonymous = await gql.execute_raw(
        SUBMIT_REVIEW,
        {"input": {"contractId": gid("Contract", contract_id), **GOOD, "comment": "x"}},
    )
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

    # not ended: offered, active (even with money paid), cancelled with nothing ever funded
    offered_id, _ = await offer(client, freelancer, ["50.00"], accept=False)
    active_id, (paid_milestone, _) = await offer(client, freelancer, ["50.00", "20.00"])
    await milestones.fund_milestone(client.actor, paid_milestone)
    await milestones.approve_milestone(client.actor, paid_milestone)
    unfunded_id, _ = await offer(client, freelancer, ["50.00"])
    await end(client, unfunded_id)
    for not_reviewable in (offered_id, active_id, unfunded_id):
        for party in (client, freelancer):
            assert error_codes(await submit(gql, party, not_reviewable, GOOD)) == [
                (None, "INVALID_STATE")
            ], not_reviewable
            view = await contract_view(gql, party, not_reviewable)
            assert view["canReview"] is False and view["myReview"] is None
            assert "REVIEW" not in view["allowedActions"]
    assert (await contract_view(gql, client, active_id))["reviewDeadline"] is None

    # out-of-range scores and an over-long comment are validation errors
    for name in ("overall", "communication", "quality", "deadlines"):
        for bad in (0, 6, -1):
            payload = await submit(gql, freelancer, contract_id, {**GOOD, name: bad})
            assert error_codes(payload) == [(["input", name], "VALIDATION")], (name, bad)
    for comment in ("x" * (COMMENT_MAX + 1), "   "):
        assert error_codes(await submit(gql, freelancer, contract_id, GOOD, comment)) == [
            (["input", "comment"], "VALIDATION")
        ]
    # nothing was stored by any of those: the freelancer may still review, at the limits
    assert (await contract_view(gql, freelancer, contract_id))["canReview"] is True
    review = await reviewed(
        gql,
        freelancer,
        contract_id,
        {"overall": 1, "communication": 5, "quality": 1, "deadlines": 5},
        "y" * COMMENT_MAX,
    )
    assert len(review["comment"]) == COMMENT_MAX
    assert (await profiles(gql, None, freelancer, client))["client"]["rating"] == summary(
        1, 1.0, 5.0, 1.0, 5.0
    )


# --- reputation on a seeded history ----------------------------------------------------------


async def test_rating_summaries_job_success_score_and_counters_on_a_seeded_history(gql):
    """One freelancer, one client, contracts ending every way a contract can end.

    Job success = contracts that went well / ended contracts, where ended = completed, or
    cancelled after funding; went well = completed, nothing refunded, no dispute, and the
    client's overall score (once revealed) 4 or 5."""
    client, freelancer = await a_client(funds=None), await a_freelancer()
    staff = await actor_for((await make_user(is_staff=True)).user)

    async def figures() -> tuple[dict[str, Any], dict[str, Any]]:
        seen = await profiles(gql, await a_freelancer(), freelancer, client)  # a stranger
        return seen["freelancer"], seen["client"]

    # a draft and a posted job, no contract yet: nothing is verified or earned
    await post_job(
        client.actor,
        {
            "title": "Draft",
            "description": "d",
            "skills": ["go"],
            "budget_type": "FIXED",
            "budget": Decimal(100),
            "experience_level": "ENTRY",
            "draft": True,
        },
    )
    await post_job(
        client.actor,
        {
            "title": "Posted",
            "description": "d",
            "skills": ["go"],
            "budget_type": "FIXED",
            "budget": Decimal(100),
            "experience_level": "ENTRY",
        },
    )
    jobs = 1  # the draft does not count
    f, c = await figures()
    assert (f["jobSuccessScore"], f["completedContracts"], f["totalEarned"]) == (None, 0, "0.00")
    assert (c["paymentVerified"], c["jobsPosted"], c["hires"], c["totalSpent"]) == (
        False,
        jobs,
        0,
        "0.00",
    )

    # an accepted offer and money in the wallet are not a payment yet
    first_id, (first_milestone,) = await offer(client, freelancer, ["300.00"], title="One")
    jobs += 1
    await wallet.add_funds(client.actor, Decimal("5000.00"))
    f, c = await figures()
    assert (c["paymentVerified"], c["jobsPosted"], c["hires"]) == (False, jobs, 1)
    await milestones.fund_milestone(client.actor, first_milestone)
    f, c = await figures()
    assert (c["paymentVerified"], c["totalSpent"]) == (True, "0.00")  # funded, not yet paid

    # 1. completed, good review from the client; the freelancer's review of the client
    await milestones.approve_milestone(client.actor, first_milestone)
    await end(client, first_id)
    one_c, one_f = (
        {"overall": 5, "communication": 5, "quality": 4, "deadlines": 5},
        {"overall": 5, "communication": 5, "quality": 5, "deadlines": 5},
    )
    await reviewed(gql, client, first_id, one_c)
    await reviewed(gql, freelancer, first_id, one_f)

    # 2. completed, bad review (overall 2)
    second_id = await paid_and_ended(client, freelancer, "200.00", title="Two")
    jobs += 1
    two_c, two_f = (
        {"overall": 2, "communication": 3, "quality": 2, "deadlines": 1},
        {"overall": 3, "communication": 4, "quality": 3, "deadlines": 2},
    )
    await reviewed(gql, client, second_id, two_c)
    await reviewed(gql, freelancer, second_id, two_f)
    f, c = await figures()
    assert f["jobSuccessScore"] is None  # 2 ended: too few for a score
    assert f["rating"] == averages(one_c, two_c)
    assert c["rating"] == averages(one_f, two_f)

    # 3. funded, refunded by the freelancer, then ended: cancelled after funding.
    #    Only the freelancer reviews; hidden until the window closes.
    third_id, (third_milestone,) = await offer(client, freelancer, ["150.00"], title="Three")
    jobs += 1
    await milestones.fund_milestone(client.actor, third_milestone)
    await milestones.refund_milestone(freelancer.actor, third_milestone)
    await end(client, third_id)
    assert (await contract_view(gql, client, third_id))["status"] == "CANCELLED"
    three_f = {"overall": 4, "communication": 3, "quality": 4, "deadlines": 4}
    await reviewed(gql, freelancer, third_id, three_f)
    f, c = await figures()
    # ended 3: went well only #1
    assert f["jobSuccessScore"] == round(100 * 1 / 3) == 33
    assert c["rating"] == averages(one_f, two_f)  # #3 still hidden

    # 4. disputed: staff release 100 of 400, refund 300; then ended, completed.
    #    A good score from the client does not make a disputed contract go well.
    fourth_id, (fourth_milestone,) = await offer(client, freelancer, ["400.00"], title="Four")
    jobs += 1
    await milestones.fund_milestone(client.actor, fourth_milestone)
    dispute, _ = await disputes.open_dispute(client.actor, fourth_id, None, "Not delivered")
    await disputes.resolve_dispute(
        staff,
        dispute.id,
        release=Decimal("100.00"),
        refund=Decimal("300.00"),
        note="Partly delivered",
    )
    await end(client, fourth_id)
    four_c, four_f = (
        {"overall": 4, "communication": 4, "quality": 5, "deadlines": 3},
        {"overall": 1, "communication": 2, "quality": 1, "deadlines": 1},
    )
    await reviewed(gql, client, fourth_id, four_c)
    await reviewed(gql, freelancer, fourth_id, four_f)
    f, c = await figures()
    assert f["jobSuccessScore"] == round(100 * 1 / 4) == 25

    # 5. completed; the client's bad review stays hidden: it must not move the score yet
    fifth_id = await paid_and_ended(client, freelancer, "50.00", title="Five")
    jobs += 1
    five_c = {"overall": 1, "communication": 2, "quality": 1, "deadlines": 2}
    await reviewed(gql, client, fifth_id, five_c)

    # contracts that did not end count for nothing but hires and money paid
    _active_id, (paid_part, held_part) = await offer(
        client, freelancer, ["25.00", "75.00"], title="Active"
    )
    await milestones.fund_milestone(client.actor, paid_part)
    await milestones.approve_milestone(client.actor, paid_part)
    await milestones.fund_milestone(client.actor, held_part)
    unfunded_id, _ = await offer(client, freelancer, ["60.00"], title="Unfunded")
    await end(client, unfunded_id)  # cancelled, nothing funded: not ended for the score
    await offer(client, freelancer, ["70.00"], title="Offered", accept=False)
    jobs += 3

    f, c = await figures()
    # ended: #1-#5; went well: #1 and #5 (its review is hidden): 2 / 5
    assert f["jobSuccessScore"] == round(100 * 2 / 5) == 40
    assert f["rating"] == averages(one_c, two_c, four_c)
    assert f["rating"] == summary(3, 3.67, 4.0, 3.67, 3.0)
    assert c["rating"] == averages(one_f, two_f, four_f)
    assert c["rating"] == summary(3, 3.0, 3.67, 3.0, 2.67)
    # completed: #1, #2, #4, #5; paid: 300 + 200 + 0 + 100 + 50 + 25 (active)
    assert (f["completedContracts"], f["totalEarned"]) == (4, "675.00")
    # hires: every accepted offer (#1-#5, active, unfunded), not the pending one
    assert (c["paymentVerified"], c["jobsPosted"], c["hires"], c["totalSpent"]) == (
        True,
        jobs,
        7,
        "675.00",
    )
    assert jobs == 9

    # when the review windows close, the lone reviews (#3's and #5's) are revealed
    await run_due(utc_now() + timedelta(days=15))

    # then #5's bad score counts, and #3's review of the client does
    f, c = await figures()
    assert f["jobSuccessScore"] == round(100 * 1 / 5) == 20
    assert f["rating"] == averages(one_c, two_c, four_c, five_c)
    assert f["rating"] == summary(4, 3.0, 3.5, 3.0, 2.75)
    assert c["rating"] == averages(one_f, two_f, three_f, four_f)
    assert c["rating"] == summary(4, 3.25, 3.5, 3.25, 3.0)
    assert [n["overall"] for n in f["reviews"]["nodes"]] == [1, 4, 2, 5]  # newest first
    assert f["reviews"]["totalCount"] == 4


async def test_job_success_score_needs_three_ended_contracts(gql):
    client, freelancer = await a_client(), await a_freelancer()
    scores = []
    for _ in range(3):
        await paid_and_ended(client, freelancer)
        scores.append(
            (await profiles(gql, None, freelancer, client))["freelancer"]["jobSuccessScore"]
        )
    assert scores == [None, None, 100]


# --- statements ------------------------------------------------------------------------------


FREELANCER_PAGE = """
query($first: Int) { freelancers(first: $first) { nodes {
  id
  rating { count overall }
  reviews(first: 3) { nodes { overall author { displayName } } }
  jobSuccessScore completedContracts totalEarned
} } }"""


async def test_reputation_fields_cost_the_same_statements_for_5_and_50_freelancers(gql):
    client = await a_client(funds="100000.00")
    reviewed_profiles = set()
    for index in range(52):
        freelancer = await a_freelancer(title=f"Freelancer {index}")
        if index % 4 == 0:  # 13 with histories, among them the newest page of 5
            reviewed_profiles.add(gid("FreelancerProfile", freelancer.profile_id))
            for round_ in range(1 + index % 3):
                contract_id = await paid_and_ended(client, freelancer, f"{20 + index}.00")
                await submit_review(
                    client.actor,
                    contract_id,
                    {**GOOD, "overall": 1 + (index + round_) % 5},
                    "Thanks",
                )
                await submit_review(freelancer.actor, contract_id, FAIR, "Thanks")
    counts = []
    for size in (5, 50):
        with count_statements() as counter:
            data = await gql.execute(FREELANCER_PAGE, {"first": size})
        nodes = data["freelancers"]["nodes"]
        assert len(nodes) == size
        with_reviews = [node for node in nodes if node["id"] in reviewed_profiles]
        assert with_reviews and all(
            node["rating"]["count"] >= 1
            and node["reviews"]["nodes"]
            and node["reviews"]["nodes"][0]["author"]["displayName"]
            for node in with_reviews
        )
        assert all(
            (node["jobSuccessScore"] is None) == (node["completedContracts"] < 3) for node in nodes
        )
        counts.append(counter.count)
    print(
        f"statements for freelancers(first: 5/50) with rating, reviews(first: 3) and "
        f"authors, jobSuccessScore, completedContracts, totalEarned: {counts}"
    )
    assert counts[0] == counts[1]
