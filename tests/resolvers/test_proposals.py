"""Proposals over HTTP: submitting one spends connects, the client's and freelancer's moves on
it, what each viewer may do with it, buying connects, and who sees a job's proposals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from models.actors import actor_for
from models.profiles import actions as profiles
from models.proposals import actions as proposal_actions
from models.proposals import connects
from models.proposals.orm import Proposal, ProposalStatus
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import (
    balance_of,
    close_job,
    errors_of,
    freelancer_id,
    invitation_id,
    invite,
    job_id,
    make_job,
    make_proposal,
    proposal_id,
)

PROPOSAL_FIELDS = """
  id status bidAmount coverLetter estimatedDurationDays connectsSpent allowedActions
  job { id proposalCount } freelancer { id }
"""
SUBMIT = (
    """
mutation($input: SubmitProposalInput!) {
  submitProposal(input: $input) { proposal { %s } userErrors { field message code } }
}"""
    % PROPOSAL_FIELDS
)
WITHDRAW = """
mutation($input: ProposalIdInput!) {
  withdrawProposal(input: $input) { proposal { id status allowedActions }
                                    userErrors { field message code } }
}"""
SHORTLIST = """
mutation($input: ProposalIdInput!) {
  shortlistProposal(input: $input) { proposal { id status allowedActions }
                                     userErrors { field message code } }
}"""
DECLINE = """
mutation($input: DeclineProposalInput!) {
  declineProposal(input: $input) { proposal { id status allowedActions }
                                   userErrors { field message code } }
}"""
PURCHASE = """
mutation($input: PurchaseConnectsInput!) {
  purchaseConnects(input: $input) { connectsBalance userErrors { field message code } }
}"""
PROPOSAL = """
query($id: ID!) { node(id: $id) { ... on Proposal { id status allowedActions connectsSpent } } }"""
JOB_PROPOSALS = """
query($id: ID!, $status: ProposalStatus) {
  job(id: $id) {
    proposalCount
    proposals(first: 50, status: $status) { totalCount nodes { id status freelancer { id } } }
    myProposal { id status }
  }
}"""
VIEWER_PROPOSALS = "{ viewer { proposals { totalCount nodes { id status } } } }"
INVITATION = """
query($id: ID!) { node(id: $id) { ... on Invitation { status } } }"""


def submit_input(job, **overrides):
    return {
        "input": {
            "jobId": job_id(job),
            "coverLetter": "I have done this before.",
            "bidAmount": "380",
            "estimatedDurationDays": 14,
            **overrides,
        }
    }


# ---------------------------------------------------------------- submitProposal


async def test_submitting_spends_the_jobs_connects(gql, db):
    client, _ = await make_client()
    job = await make_job(client, budget=Decimal(2500))  # 8 connects
    session, profile = await make_freelancer()
    assert await balance_of(gql, session) == 10
    data = await gql.execute(SUBMIT, submit_input(job), token=session.token)
    payload = data["submitProposal"]
    assert payload["userErrors"] == []
    proposal = payload["proposal"]
    assert {
        key: proposal[key]
        for key in (
            "status",
            "bidAmount",
            "coverLetter",
            "estimatedDurationDays",
            "connectsSpent",
            "allowedActions",
            "job",
        )
    } == {
        "status": "SUBMITTED",
        "bidAmount": "380.00",
        "coverLetter": "I have done this before.",
        "estimatedDurationDays": 14,
        "connectsSpent": 8,
        "allowedActions": ["WITHDRAW"],
        "job": {"id": job_id(job), "proposalCount": 1},
    }
    assert await balance_of(gql, session) == 2
    assert await connects.ledger_sum(profile.id) == 2
    mine = await gql.execute(VIEWER_PROPOSALS, token=session.token)
    assert mine["viewer"]["proposals"] == {
        "totalCount": 1,
        "nodes": [{"id": proposal["id"], "status": "SUBMITTED"}],
    }


async def test_short_of_connects_nothing_changes(gql, db):
    client, _ = await make_client()
    job = await make_job(client, budget=Decimal(30000))  # 16 connects
    session, profile = await make_freelancer()
    data = await gql.execute(SUBMIT, submit_input(job), token=session.token)
    assert data["submitProposal"]["proposal"] is None
    assert [e["code"] for e in data["submitProposal"]["userErrors"]] == ["INSUFFICIENT_CONNECTS"]
    assert await balance_of(gql, session) == 10
    assert await connects.ledger_sum(profile.id) == 10
    assert (await gql.execute(VIEWER_PROPOSALS, token=session.token))["viewer"]["proposals"][
        "totalCount"
    ] == 0
    seen_by_client = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=client.token)
    assert seen_by_client["job"]["proposalCount"] == 0
    assert seen_by_client["job"]["proposals"]["totalCount"] == 0
    notified = await gql.execute("{ viewer { unreadNotificationCount } }", token=client.token)
    assert notified["viewer"]["unreadNotificationCount"] == 0


async def test_a_second_proposal_on_the_same_job_already_exists(gql, db):
    client, _ = await make_client()
    job = await make_job(client)  # 4 connects
    session, _ = await make_freelancer()
    await gql.execute(SUBMIT, submit_input(job), token=session.token)
    again = await gql.execute(SUBMIT, submit_input(job, bidAmount="300"), token=session.token)
    assert again["submitProposal"]["proposal"] is None
    assert [e["code"] for e in again["submitProposal"]["userErrors"]] == ["ALREADY_EXISTS"]
    assert await balance_of(gql, session) == 6  # charged once
    job_data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=client.token)
    assert job_data["job"]["proposalCount"] == 1


async def test_bidding_on_your_own_job_is_forbidden(gql, db):
    both = await make_user()
    await profiles.create_client_profile(both.user, {"description": "Also hiring"})
    await profiles.create_freelancer_profile(
        both.user, {"title": "T", "overview": "O", "skills": ["python"]}
    )
    job = await make_job(both)
    data = await gql.execute(SUBMIT, submit_input(job), token=both.token)
    assert [e["code"] for e in data["submitProposal"]["userErrors"]] == ["FORBIDDEN"]
    assert await balance_of(gql, both) == 10


async def test_closed_draft_and_unknown_jobs(gql, db):
    client, _ = await make_client()
    closed = await make_job(client)
    await close_job(client, closed)
    draft = await make_job(client, draft=True)
    session, _ = await make_freelancer()
    for job_input, code in (
        (submit_input(closed), "INVALID_STATE"),
        (submit_input(draft), "NOT_FOUND"),
        ({"input": {**submit_input(closed)["input"], "jobId": "nope"}}, "NOT_FOUND"),
    ):
        data = await gql.execute(SUBMIT, job_input, token=session.token)
        assert data["submitProposal"]["proposal"] is None
        assert [e["code"] for e in data["submitProposal"]["userErrors"]] == [code]
    assert await balance_of(gql, session) == 10


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"coverLetter": "  "}, ["input", "coverLetter"]),
        ({"bidAmount": "0"}, ["input", "bidAmount"]),
        ({"bidAmount": "-5"}, ["input", "bidAmount"]),
        ({"bidAmount": "10.001"}, ["input", "bidAmount"]),
        ({"estimatedDurationDays": 0}, ["input", "estimatedDurationDays"]),
        ({"estimatedDurationDays": 731}, ["input", "estimatedDurationDays"]),
    ],
)
async def test_submit_validation_errors_name_the_field(gql, db, overrides, field):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    data = await gql.execute(SUBMIT, submit_input(job, **overrides), token=session.token)
    assert errors_of(data["submitProposal"]) == [(field, "VALIDATION")]
    assert await balance_of(gql, session) == 10


async def test_submitting_needs_a_freelancer_profile(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    other_client, _ = await make_client()
    data = await gql.execute(SUBMIT, submit_input(job), token=other_client.token)
    assert [e["code"] for e in data["submitProposal"]["userErrors"]] == ["FORBIDDEN"]


async def test_an_invite_only_job_takes_proposals_from_invitees_alone(gql, db):
    client, _ = await make_client()
    job = await make_job(client, visibility="INVITE_ONLY", budget=Decimal(2500))  # 8 connects
    stranger, _ = await make_freelancer()
    invitee, invitee_profile = await make_freelancer()
    invitation = await invite(client, job, invitee_profile)

    refused = await gql.execute(SUBMIT, submit_input(job), token=stranger.token)
    assert [e["code"] for e in refused["submitProposal"]["userErrors"]] == ["NOT_FOUND"]
    assert await balance_of(gql, stranger) == 10

    data = await gql.execute(SUBMIT, submit_input(job), token=invitee.token)
    assert data["submitProposal"]["userErrors"] == []
    assert data["submitProposal"]["proposal"]["connectsSpent"] == 0
    assert await balance_of(gql, invitee) == 10
    # Bidding answers the invitation.
    found = await gql.execute(INVITATION, {"id": invitation_id(invitation)}, token=invitee.token)
    assert found["node"] == {"status": "ACCEPTED"}


async def test_an_invitee_bids_for_free_on_a_public_job_too(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    invitee, profile = await make_freelancer()
    invitation = await invite(client, job, profile)
    data = await gql.execute(SUBMIT, submit_input(job), token=invitee.token)
    assert data["submitProposal"]["proposal"]["connectsSpent"] == 0
    assert await balance_of(gql, invitee) == 10
    found = await gql.execute(INVITATION, {"id": invitation_id(invitation)}, token=client.token)
    assert found["node"] == {"status": "ACCEPTED"}


async def test_proposal_count_counts_every_proposal(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    for expected in (1, 2, 3):
        session, _ = await make_freelancer()
        data = await gql.execute(SUBMIT, submit_input(job), token=session.token)
        assert data["submitProposal"]["proposal"]["job"]["proposalCount"] == expected
    anonymous = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)})
    assert anonymous["job"]["proposalCount"] == 3


# ---------------------------------------------------------------- withdraw / shortlist / decline


async def test_withdrawing_returns_no_connects(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    proposal = await make_proposal(session, job)
    data = await gql.execute(
        WITHDRAW, {"input": {"proposalId": proposal_id(proposal)}}, token=session.token
    )
    assert data["withdrawProposal"] == {
        "proposal": {"id": proposal_id(proposal), "status": "WITHDRAWN", "allowedActions": []},
        "userErrors": [],
    }
    assert await balance_of(gql, session) == 6
    again = await gql.execute(
        WITHDRAW, {"input": {"proposalId": proposal_id(proposal)}}, token=session.token
    )
    assert [e["code"] for e in again["withdrawProposal"]["userErrors"]] == ["INVALID_STATE"]
    # Nor does a withdrawn proposal make room for a new one.
    resubmit = await gql.execute(SUBMIT, submit_input(job), token=session.token)
    assert [e["code"] for e in resubmit["submitProposal"]["userErrors"]] == ["ALREADY_EXISTS"]


async def test_the_client_shortlists_then_declines(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    proposal = await make_proposal(session, job)
    variables = {"input": {"proposalId": proposal_id(proposal)}}
    shortlisted = await gql.execute(SHORTLIST, variables, token=client.token)
    assert shortlisted["shortlistProposal"]["userErrors"] == []
    assert shortlisted["shortlistProposal"]["proposal"]["status"] == "SHORTLISTED"
    assert core(shortlisted["shortlistProposal"]["proposal"]["allowedActions"]) == ["DECLINE"]
    twice = await gql.execute(SHORTLIST, variables, token=client.token)
    assert [e["code"] for e in twice["shortlistProposal"]["userErrors"]] == ["INVALID_STATE"]

    declined = await gql.execute(
        DECLINE, {"input": {**variables["input"], "reason": "Went another way"}}, token=client.token
    )
    assert declined["declineProposal"] == {
        "proposal": {"id": proposal_id(proposal), "status": "DECLINED", "allowedActions": []},
        "userErrors": [],
    }
    row = await Proposal.get(id=proposal.id)
    assert row.decline_reason == "Went another way"
    assert await balance_of(gql, session) == 6  # declining refunds nothing
    withdraw = await gql.execute(WITHDRAW, variables, token=session.token)
    assert [e["code"] for e in withdraw["withdrawProposal"]["userErrors"]] == ["INVALID_STATE"]


async def test_moves_by_the_wrong_party(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    proposal = await make_proposal(session, job)
    stranger_freelancer, _ = await make_freelancer()
    stranger_client, _ = await make_client()
    variables = {"input": {"proposalId": proposal_id(proposal)}}

    async def codes(operation, name, token):
        data = await gql.execute(operation, variables, token=token)
        assert data[name]["proposal"] is None
        return [(e["field"], e["code"]) for e in data[name]["userErrors"]]

    # The parties see the proposal: the other party's move is forbidden.
    assert await codes(SHORTLIST, "shortlistProposal", session.token) == [(None, "FORBIDDEN")]
    assert await codes(DECLINE, "declineProposal", session.token) == [(None, "FORBIDDEN")]
    assert await codes(WITHDRAW, "withdrawProposal", client.token) == [(None, "FORBIDDEN")]
    # Anyone else does not see it at all.
    for token in (stranger_freelancer.token, stranger_client.token):
        for operation, name in (
            (SHORTLIST, "shortlistProposal"),
            (DECLINE, "declineProposal"),
            (WITHDRAW, "withdrawProposal"),
        ):
            assert await codes(operation, name, token) == [(["input", "proposalId"], "NOT_FOUND")]
    assert (await Proposal.get(id=proposal.id)).status == ProposalStatus.SUBMITTED


# The moves of this issue; START_INTERVIEW and SEND_OFFER belong to the interview and contract
# work and are only checked to be the client's, on proposals still open.
CORE_ACTIONS = ("WITHDRAW", "SHORTLIST", "DECLINE")


def core(actions):
    return [action for action in actions if action in CORE_ACTIONS]


@pytest.mark.parametrize(
    ("status", "freelancer_actions", "client_actions"),
    [
        ("SUBMITTED", ["WITHDRAW"], ["SHORTLIST", "DECLINE"]),
        ("SHORTLISTED", ["WITHDRAW"], ["DECLINE"]),
        ("INTERVIEWING", ["WITHDRAW"], ["DECLINE"]),
        ("HIRED", [], []),
        ("DECLINED", [], []),
        ("WITHDRAWN", [], []),
    ],
)
async def test_allowed_actions_depend_on_the_viewer_and_the_status(
    gql, db, status, freelancer_actions, client_actions
):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    proposal = await make_proposal(session, job)
    await Proposal.filter(id=proposal.id).update(status=ProposalStatus(status))

    async def actions(token):
        data = await gql.execute(PROPOSAL, {"id": proposal_id(proposal)}, token=token)
        return data["node"]["allowedActions"]

    assert await actions(session.token) == freelancer_actions
    seen_by_client = await actions(client.token)
    assert core(seen_by_client) == client_actions
    assert set(seen_by_client) - set(CORE_ACTIONS) <= {"START_INTERVIEW", "SEND_OFFER"}
    if not client_actions:  # a proposal that is over offers nobody anything
        assert seen_by_client == []
    job_view = await gql.execute(
        """query($id: ID!) { job(id: $id) {
        proposals { nodes { allowedActions } } myProposal { allowedActions } } }""",
        {"id": job_id(job)},
        token=session.token,
    )
    assert job_view["job"]["proposals"]["nodes"] == [{"allowedActions": freelancer_actions}]
    assert job_view["job"]["myProposal"] == {"allowedActions": freelancer_actions}


# ---------------------------------------------------------------- purchaseConnects


async def test_purchasing_connects_needs_a_wallet_that_does_not_exist_yet(gql, db):
    session, profile = await make_freelancer()
    data = await gql.execute(PURCHASE, {"input": {"quantity": 20}}, token=session.token)
    assert data["purchaseConnects"]["connectsBalance"] is None
    assert [e["code"] for e in data["purchaseConnects"]["userErrors"]] == ["INSUFFICIENT_FUNDS"]
    assert await balance_of(gql, session) == 10
    assert await connects.ledger_sum(profile.id) == 10
    for quantity in (0, -3):
        bad = await gql.execute(PURCHASE, {"input": {"quantity": quantity}}, token=session.token)
        assert errors_of(bad["purchaseConnects"]) == [(["input", "quantity"], "VALIDATION")]
    client, _ = await make_client()
    not_freelancer = await gql.execute(PURCHASE, {"input": {"quantity": 5}}, token=client.token)
    assert [e["code"] for e in not_freelancer["purchaseConnects"]["userErrors"]] == ["FORBIDDEN"]
    body = await gql.execute_raw(PURCHASE, {"input": {"quantity": 5}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_connects_balance_is_zero_without_a_freelancer_profile(gql, db):
    client, _ = await make_client()
    assert await balance_of(gql, client) == 0


# ---------------------------------------------------------------- Job.proposals and myProposal


async def test_who_sees_a_jobs_proposals(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    (ada, ada_profile), (bob, bob_profile) = await make_freelancer(), await make_freelancer()
    stranger, _ = await make_freelancer()
    other_client, _ = await make_client()
    ada_proposal = await make_proposal(ada, job)
    bob_proposal = await make_proposal(bob, job)
    await proposal_actions.shortlist_proposal(await actor_for(client.user), bob_proposal.id)

    async def view(token=None, status=None):
        data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job), "status": status}, token=token)
        job_data = data["job"]
        return (
            job_data["proposals"]["totalCount"],
            sorted(node["id"] for node in job_data["proposals"]["nodes"]),
            job_data["myProposal"] and job_data["myProposal"]["id"],
        )

    both = sorted([proposal_id(ada_proposal), proposal_id(bob_proposal)])
    assert await view(client.token) == (2, both, None)
    assert await view(client.token, "SHORTLISTED") == (1, [proposal_id(bob_proposal)], None)
    assert await view(ada.token) == (1, [proposal_id(ada_proposal)], proposal_id(ada_proposal))
    assert await view(ada.token, "SHORTLISTED") == (0, [], proposal_id(ada_proposal))
    assert await view(bob.token) == (1, [proposal_id(bob_proposal)], proposal_id(bob_proposal))
    assert await view(stranger.token) == (0, [], None)
    assert await view(other_client.token) == (0, [], None)
    assert await view() == (0, [], None)
    # Everyone still sees how many proposals there are.
    data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=stranger.token)
    assert data["job"]["proposalCount"] == 2
    # The freelancer profiles are who they are.
    data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=client.token)
    assert {node["id"]: node["freelancer"]["id"] for node in data["job"]["proposals"]["nodes"]} == {
        proposal_id(ada_proposal): freelancer_id(ada_profile),
        proposal_id(bob_proposal): freelancer_id(bob_profile),
    }


async def test_my_proposal_follows_its_status(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, _ = await make_freelancer()
    data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=session.token)
    assert data["job"]["myProposal"] is None
    proposal = await make_proposal(session, job)
    await gql.execute(
        WITHDRAW, {"input": {"proposalId": proposal_id(proposal)}}, token=session.token
    )
    data = await gql.execute(JOB_PROPOSALS, {"id": job_id(job)}, token=session.token)
    assert data["job"]["myProposal"] == {"id": proposal_id(proposal), "status": "WITHDRAWN"}
