"""Invitations (and what invite-only jobs show to whom) and the notification feed over HTTP."""

from __future__ import annotations

from uuid import uuid4

from models.profiles import actions as profiles
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import (
    close_job,
    errors_of,
    freelancer_id,
    gid,
    invitation_id,
    invite,
    job_id,
    make_job,
    make_proposal,
    proposal_id,
)

INVITE = """
mutation($input: InviteFreelancerInput!) {
  inviteFreelancer(input: $input) {
    invitation { id status message job { id title } freelancer { id } }
    userErrors { field message code }
  }
}"""
RESPOND = """
mutation($input: RespondToInvitationInput!) {
  respondToInvitation(input: $input) {
    invitation { id status } userErrors { field message code }
  }
}"""
SUBMIT = """
mutation($input: SubmitProposalInput!) {
  submitProposal(input: $input) { proposal { id } userErrors { code } }
}"""
VIEWER_INVITATIONS = """
query($status: InvitationStatus) {
  viewer { invitations(status: $status) { totalCount nodes { id status job { id } } } }
}"""
JOB = """query($id: ID!) { job(id: $id) { id title visibility } }"""
NODE_JOB = """query($id: ID!) { node(id: $id) { __typename ... on Job { id title } } }"""
JOBS = """query { jobs(first: 50) { totalCount nodes { id } } }"""
NOTIFICATIONS = """
query($first: Int, $after: String, $unreadOnly: Boolean) {
  viewer {
    unreadNotificationCount
    notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
      totalCount
      pageInfo { hasNextPage endCursor }
      nodes {
        id kind title read createdAt
        subject { __typename id ... on Job { title } ... on Proposal { status } }
      }
    }
  }
}"""
MARK_READ = """
mutation($input: MarkNotificationsReadInput!) {
  markNotificationsRead(input: $input) { unreadNotificationCount userErrors { field code } }
}"""


def invite_input(job, profile, message="Your portfolio fits this job."):
    return {
        "input": {"jobId": job_id(job), "freelancerId": freelancer_id(profile), "message": message}
    }


async def feed(gql, session, **variables):
    data = await gql.execute(NOTIFICATIONS, {"first": 50, **variables}, token=session.token)
    return data["viewer"]


# ---------------------------------------------------------------- inviteFreelancer


async def test_a_client_invites_a_freelancer(gql, db):
    client, _ = await make_client()
    job = await make_job(client, title="Data pipeline")
    session, profile = await make_freelancer()
    data = await gql.execute(INVITE, invite_input(job, profile), token=client.token)
    payload = data["inviteFreelancer"]
    assert payload["userErrors"] == []
    invitation = payload["invitation"]
    assert {key: invitation[key] for key in ("status", "message", "job", "freelancer")} == {
        "status": "PENDING",
        "message": "Your portfolio fits this job.",
        "job": {"id": job_id(job), "title": "Data pipeline"},
        "freelancer": {"id": freelancer_id(profile)},
    }
    for token in (client.token, session.token):
        listed = await gql.execute(VIEWER_INVITATIONS, {}, token=token)
        assert listed["viewer"]["invitations"] == {
            "totalCount": 1,
            "nodes": [{"id": invitation["id"], "status": "PENDING", "job": {"id": job_id(job)}}],
        }
    other, _ = await make_freelancer()
    listed = await gql.execute(VIEWER_INVITATIONS, {}, token=other.token)
    assert listed["viewer"]["invitations"]["totalCount"] == 0


async def test_only_the_jobs_client_invites(gql, db):
    owner, _ = await make_client()
    public = await make_job(owner)
    invite_only = await make_job(owner, visibility="INVITE_ONLY")
    draft = await make_job(owner, draft=True)
    other_client, _ = await make_client()
    freelancer, profile = await make_freelancer()
    target, target_profile = await make_freelancer()

    async def codes(session, job):
        data = await gql.execute(INVITE, invite_input(job, target_profile), token=session.token)
        assert data["inviteFreelancer"]["invitation"] is None
        return [e["code"] for e in data["inviteFreelancer"]["userErrors"]]

    assert await codes(other_client, public) == ["FORBIDDEN"]
    assert await codes(freelancer, public) == ["FORBIDDEN"]
    assert await codes(other_client, invite_only) == ["NOT_FOUND"]
    assert await codes(freelancer, invite_only) == ["NOT_FOUND"]
    assert await codes(other_client, draft) == ["NOT_FOUND"]
    # An invitee sees the invite-only job: inviting others to it is forbidden, not missing.
    await invite(owner, invite_only, profile)
    assert await codes(freelancer, invite_only) == ["FORBIDDEN"]
    listed = await gql.execute(VIEWER_INVITATIONS, {}, token=target.token)
    assert listed["viewer"]["invitations"]["totalCount"] == 0


async def test_invitation_rules(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    _, profile = await make_freelancer()
    first = await gql.execute(INVITE, invite_input(job, profile), token=client.token)
    assert first["inviteFreelancer"]["userErrors"] == []

    again = await gql.execute(INVITE, invite_input(job, profile, "Again"), token=client.token)
    assert errors_of(again["inviteFreelancer"]) == [(["input", "freelancerId"], "ALREADY_EXISTS")]

    blank = await gql.execute(INVITE, invite_input(job, profile, " "), token=client.token)
    assert errors_of(blank["inviteFreelancer"]) == [(["input", "message"], "VALIDATION")]

    unknown = {
        "input": {
            **invite_input(job, profile)["input"],
            "freelancerId": gid("FreelancerProfile", uuid4()),
        }
    }
    data = await gql.execute(INVITE, unknown, token=client.token)
    assert errors_of(data["inviteFreelancer"]) == [(["input", "freelancerId"], "NOT_FOUND")]
    wrong_type = {"input": {**invite_input(job, profile)["input"], "freelancerId": job_id(job)}}
    data = await gql.execute(INVITE, wrong_type, token=client.token)
    assert errors_of(data["inviteFreelancer"]) == [(["input", "freelancerId"], "NOT_FOUND")]

    # Yourself, as a client who is also a freelancer.
    myself = await profiles.create_freelancer_profile(
        client.user, {"title": "T", "overview": "O", "skills": ["python"]}
    )
    data = await gql.execute(INVITE, invite_input(job, myself), token=client.token)
    assert errors_of(data["inviteFreelancer"]) == [(["input", "freelancerId"], "VALIDATION")]

    draft = await make_job(client, draft=True)
    closed = await make_job(client)
    await close_job(client, closed)
    for not_open in (draft, closed):
        data = await gql.execute(INVITE, invite_input(not_open, profile), token=client.token)
        assert [e["code"] for e in data["inviteFreelancer"]["userErrors"]] == ["INVALID_STATE"]


# ---------------------------------------------------------------- respondToInvitation


async def test_only_the_invitee_answers_and_only_once(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, profile = await make_freelancer()
    stranger, _ = await make_freelancer()
    invitation = await invite(client, job, profile)
    variables = {"input": {"invitationId": invitation_id(invitation), "accept": True}}

    refused = await gql.execute(RESPOND, variables, token=stranger.token)
    assert errors_of(refused["respondToInvitation"]) == [(["input", "invitationId"], "NOT_FOUND")]
    # The client sees the invitation they sent, but may not answer it.
    refused = await gql.execute(RESPOND, variables, token=client.token)
    assert [e["code"] for e in refused["respondToInvitation"]["userErrors"]] == ["FORBIDDEN"]

    data = await gql.execute(RESPOND, variables, token=session.token)
    assert data["respondToInvitation"] == {
        "invitation": {"id": invitation_id(invitation), "status": "ACCEPTED"},
        "userErrors": [],
    }
    twice = await gql.execute(
        RESPOND, {"input": {**variables["input"], "accept": False}}, token=session.token
    )
    assert twice["respondToInvitation"]["invitation"] is None
    assert [e["code"] for e in twice["respondToInvitation"]["userErrors"]] == ["INVALID_STATE"]
    listed = await gql.execute(VIEWER_INVITATIONS, {"status": "ACCEPTED"}, token=client.token)
    assert listed["viewer"]["invitations"]["totalCount"] == 1


async def test_declining_an_invitation(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    session, profile = await make_freelancer()
    invitation = await invite(client, job, profile)
    data = await gql.execute(
        RESPOND,
        {"input": {"invitationId": invitation_id(invitation), "accept": False}},
        token=session.token,
    )
    assert data["respondToInvitation"]["invitation"]["status"] == "DECLINED"
    for status, count in (("PENDING", 0), ("DECLINED", 1)):
        listed = await gql.execute(VIEWER_INVITATIONS, {"status": status}, token=session.token)
        assert listed["viewer"]["invitations"]["totalCount"] == count
    # A declined invitation no longer makes bidding free.
    proposal = await make_proposal(session, job)
    assert proposal.connects_spent == 4


async def test_responding_with_a_bad_id_is_not_found(gql, db):
    session, _ = await make_freelancer()
    for bad in ("nope", gid("Invitation", uuid4()), gid("Job", uuid4())):
        data = await gql.execute(
            RESPOND, {"input": {"invitationId": bad, "accept": True}}, token=session.token
        )
        assert errors_of(data["respondToInvitation"]) == [(["input", "invitationId"], "NOT_FOUND")]


# ---------------------------------------------------------------- INVITE_ONLY visibility


async def test_an_invite_only_job_is_seen_by_its_client_and_invitees_alone(gql, db):
    client, _ = await make_client()
    public = await make_job(client, title="Public job")
    hidden = await make_job(client, title="Hidden job", visibility="INVITE_ONLY")
    invitee, profile = await make_freelancer()
    stranger, _ = await make_freelancer()
    other_client, _ = await make_client()
    await invite(client, hidden, profile)

    async def sees(token):
        by_id = (await gql.execute(JOB, {"id": job_id(hidden)}, token=token))["job"]
        as_node = (await gql.execute(NODE_JOB, {"id": job_id(hidden)}, token=token))["node"]
        listed = {node["id"] for node in (await gql.execute(JOBS, token=token))["jobs"]["nodes"]}
        assert job_id(public) in listed
        assert (by_id is not None) == (as_node is not None) == (job_id(hidden) in listed)
        return by_id is not None

    assert await sees(client.token) is True
    assert await sees(invitee.token) is True
    assert await sees(stranger.token) is False
    assert await sees(other_client.token) is False
    assert await sees(None) is False
    by_id = await gql.execute(JOB, {"id": job_id(hidden)}, token=invitee.token)
    assert by_id["job"] == {
        "id": job_id(hidden),
        "title": "Hidden job",
        "visibility": "INVITE_ONLY",
    }
    # Search finds it for the invitee only.
    search = """query($q: String) { jobs(filter: {query: $q}) { totalCount } }"""
    for token, count in ((invitee.token, 1), (stranger.token, 0), (None, 0)):
        data = await gql.execute(search, {"q": "hidden"}, token=token)
        assert data["jobs"]["totalCount"] == count


async def test_turning_a_job_invite_only_hides_it_from_strangers(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    stranger, _ = await make_freelancer()
    assert (await gql.execute(JOB, {"id": job_id(job)}, token=stranger.token))["job"]
    await gql.execute(
        """mutation($input: UpdateJobInput!) { updateJob(input: $input) {
        userErrors { code } } }""",
        {"input": {"jobId": job_id(job), "visibility": "INVITE_ONLY"}},
        token=client.token,
    )
    assert (await gql.execute(JOB, {"id": job_id(job)}, token=stranger.token))["job"] is None


# ---------------------------------------------------------------- notifications


async def test_a_proposal_notifies_the_client(gql, db):
    client, _ = await make_client()
    job = await make_job(client, title="Data pipeline")
    session, _ = await make_freelancer()
    submitted = await gql.execute(
        SUBMIT,
        {"input": {"jobId": job_id(job), "coverLetter": "Hi", "bidAmount": "300"}},
        token=session.token,
    )
    new_proposal = submitted["submitProposal"]["proposal"]["id"]
    viewer = await feed(gql, client)
    assert viewer["unreadNotificationCount"] == 1
    [note] = viewer["notifications"]["nodes"]
    assert {key: note[key] for key in ("kind", "title", "read", "subject")} == {
        "kind": "PROPOSAL_RECEIVED",
        "title": "New proposal on Data pipeline",
        "read": False,
        "subject": {"__typename": "Proposal", "id": new_proposal, "status": "SUBMITTED"},
    }
    # The freelancer was not notified of their own proposal.
    assert (await feed(gql, session))["notifications"]["totalCount"] == 0


async def test_an_invitation_notifies_the_freelancer(gql, db):
    client, _ = await make_client()
    job = await make_job(client, title="Secret project", visibility="INVITE_ONLY")
    session, profile = await make_freelancer()
    await gql.execute(INVITE, invite_input(job, profile), token=client.token)
    viewer = await feed(gql, session)
    assert viewer["unreadNotificationCount"] == 1
    [note] = viewer["notifications"]["nodes"]
    # The subject is the invite-only job, which the invitee may see.
    assert {key: note[key] for key in ("kind", "title", "read", "subject")} == {
        "kind": "INVITATION_RECEIVED",
        "title": "You are invited to apply: Secret project",
        "read": False,
        "subject": {"__typename": "Job", "id": job_id(job), "title": "Secret project"},
    }
    assert (await feed(gql, client))["notifications"]["totalCount"] == 0


async def seed_feed():
    """A freelancer with three invitations and a client with two proposals, in that order."""
    client, _ = await make_client()
    session, profile = await make_freelancer()
    jobs = [await make_job(client, title=f"Job {index}") for index in range(3)]
    for job in jobs:
        await invite(client, job, profile)
    bidders = [await make_freelancer() for _ in range(2)]
    proposals = [await make_proposal(bidder, jobs[0]) for bidder, _ in bidders]
    return client, session, jobs, proposals


async def test_notifications_are_newest_first_and_page(gql, db):
    client, session, jobs, proposals = await seed_feed()
    viewer = await feed(gql, session)
    assert [note["subject"]["id"] for note in viewer["notifications"]["nodes"]] == [
        job_id(job) for job in reversed(jobs)
    ]
    viewer = await feed(gql, client)
    assert [note["subject"]["id"] for note in viewer["notifications"]["nodes"]] == [
        proposal_id(proposal) for proposal in reversed(proposals)
    ]

    seen, after = [], None
    while True:
        page = (await feed(gql, session, first=2, after=after))["notifications"]
        assert page["totalCount"] == 3
        seen += [note["id"] for note in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == [note["id"] for note in (await feed(gql, session))["notifications"]["nodes"]]


async def test_mark_read_by_id_then_all(gql, db):
    _, session, _, _ = await seed_feed()
    notes = (await feed(gql, session))["notifications"]["nodes"]
    data = await gql.execute(MARK_READ, {"input": {"ids": [notes[1]["id"]]}}, token=session.token)
    assert data["markNotificationsRead"] == {"unreadNotificationCount": 2, "userErrors": []}
    viewer = await feed(gql, session)
    assert [note["read"] for note in viewer["notifications"]["nodes"]] == [False, True, False]
    unread = await feed(gql, session, unreadOnly=True)
    assert [note["id"] for note in unread["notifications"]["nodes"]] == [
        notes[0]["id"],
        notes[2]["id"],
    ]
    assert unread["notifications"]["totalCount"] == 2
    assert unread["unreadNotificationCount"] == 2
    # Marking again changes nothing.
    data = await gql.execute(MARK_READ, {"input": {"ids": [notes[1]["id"]]}}, token=session.token)
    assert data["markNotificationsRead"]["unreadNotificationCount"] == 2

    for everything in ({}, {"ids": []}, {"ids": None}):
        data = await gql.execute(MARK_READ, {"input": everything}, token=session.token)
        assert data["markNotificationsRead"]["unreadNotificationCount"] == 0
    viewer = await feed(gql, session)
    assert all(note["read"] for note in viewer["notifications"]["nodes"])
    assert (await feed(gql, session, unreadOnly=True))["notifications"]["nodes"] == []
    assert (await feed(gql, session, unreadOnly=False))["notifications"]["totalCount"] == 3


async def test_another_users_notification_ids_do_nothing(gql, db):
    client, session, _, _ = await seed_feed()
    theirs = [note["id"] for note in (await feed(gql, client))["notifications"]["nodes"]]
    mine = [note["id"] for note in (await feed(gql, session))["notifications"]["nodes"]]
    data = await gql.execute(MARK_READ, {"input": {"ids": theirs}}, token=session.token)
    assert data["markNotificationsRead"] == {"unreadNotificationCount": 3, "userErrors": []}
    assert (await feed(gql, client))["unreadNotificationCount"] == 2
    # Mixed with one of mine, only mine is marked.
    data = await gql.execute(MARK_READ, {"input": {"ids": [*theirs, mine[0]]}}, token=session.token)
    assert data["markNotificationsRead"]["unreadNotificationCount"] == 2
    assert (await feed(gql, client))["unreadNotificationCount"] == 2
    # Ids of other types, unknown ids and garbage mark nothing either, and are no error.
    stranger = await make_user()
    for ids in ([gid("Notification", uuid4())], ["garbage"], [gid("Job", uuid4())], [theirs[0]]):
        data = await gql.execute(MARK_READ, {"input": {"ids": ids}}, token=stranger.token)
        assert data["markNotificationsRead"] == {"unreadNotificationCount": 0, "userErrors": []}
    assert (await feed(gql, session))["unreadNotificationCount"] == 2
    assert (await feed(gql, client))["unreadNotificationCount"] == 2


async def test_someone_elses_notification_is_not_a_node_for_you(gql, db):
    client, session, _, _ = await seed_feed()
    theirs = (await feed(gql, client))["notifications"]["nodes"][0]["id"]
    query = """query($id: ID!) { node(id: $id) { __typename ... on Notification { kind } } }"""
    assert (await gql.execute(query, {"id": theirs}, token=client.token))["node"] == {
        "__typename": "Notification",
        "kind": "PROPOSAL_RECEIVED",
    }
    assert (await gql.execute(query, {"id": theirs}, token=session.token))["node"] is None
    assert (await gql.execute(query, {"id": theirs}))["node"] is None


async def test_notifications_need_sign_in(gql, db):
    body = await gql.execute_raw(MARK_READ, {"input": {}})
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    data = await gql.execute("{ viewer { unreadNotificationCount } }")
    assert data["viewer"] is None


async def test_an_invitation_to_a_closed_job_cannot_be_accepted(db):
    from models.actors import actor_for
    from models.errors import DomainError, ErrorCode
    from models.jobs import actions
    from tests.factories import make_client, make_freelancer

    client_session, _ = await make_client()
    freelancer_session, freelancer_profile = await make_freelancer()
    client = await actor_for(client_session.user)
    freelancer = await actor_for(freelancer_session.user)
    job = await actions.post_job(
        client,
        {
            "title": "Closed soon",
            "description": "d",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": __import__("decimal").Decimal("100"),
            "experience_level": "ENTRY",
        },
    )
    invitation, _ = await actions.invite_freelancer(client, job.id, freelancer_profile.id, "Hi")
    await actions.close_job(client, job.id)
    try:
        await actions.respond_to_invitation(freelancer, invitation.id, True)
    except DomainError as error:
        assert error.code == ErrorCode.INVALID_STATE
    else:
        raise AssertionError("accepting an invitation to a closed job must fail")
    declined = await actions.respond_to_invitation(freelancer, invitation.id, False)
    assert declined.status == "DECLINED"
