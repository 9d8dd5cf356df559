"""Who sees what, through every path to it.

One small marketplace, seen by five viewers: the jobs' client, a freelancer who proposed on the
public job and was invited to the invite-only one, another freelancer, another client and an
anonymous visitor. Anything a viewer may not see is absent for them (null, left out of lists,
NOT_FOUND in userErrors), never FORBIDDEN: FORBIDDEN is only for objects they can see.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from models.jobs.orm import Invitation, Job
from models.proposals.orm import Proposal
from models.users.actions import Session
from tests.factories import make_client, make_freelancer
from tests.resolvers.marketplace_support import (
    freelancer_id,
    gid,
    invitation_id,
    invite,
    job_id,
    make_job,
    make_proposal,
)

VIEWERS = ["client", "proposer", "other_freelancer", "other_client", "anonymous"]
OBJECTS = [
    "public_job",
    "invite_only_job",
    "draft_job",
    "proposal",
    "invitation",
    "client_notification",
    "proposer_notification",
]

# Exactly who sees each object.
SEES: dict[str, set[str]] = {
    "public_job": {"client", "proposer", "other_freelancer", "other_client", "anonymous"},
    "invite_only_job": {"client", "proposer"},
    "draft_job": {"client"},
    "proposal": {"client", "proposer"},
    "invitation": {"client", "proposer"},
    "client_notification": {"client"},
    "proposer_notification": {"proposer"},
}
TYPENAMES = {
    "public_job": "Job",
    "invite_only_job": "Job",
    "draft_job": "Job",
    "proposal": "Proposal",
    "invitation": "Invitation",
    "client_notification": "Notification",
    "proposer_notification": "Notification",
}


@dataclass
class World:
    sessions: dict[str, Session | None]
    ids: dict[str, str]
    other_freelancer_profile_id: str
    proposer_profile_id: str
    rows: dict[str, object]

    def token(self, viewer: str) -> str | None:
        session = self.sessions[viewer]
        return session.token if session else None


async def build_world(gql) -> World:
    client, _ = await make_client(company_name="Owner")
    proposer, proposer_profile = await make_freelancer()
    other_freelancer, other_profile = await make_freelancer()
    other_client, _ = await make_client(company_name="Other")
    public = await make_job(client, title="Public job")
    invite_only = await make_job(client, title="Invite-only job", visibility="INVITE_ONLY")
    draft = await make_job(client, title="Draft job", draft=True)
    proposal = await make_proposal(proposer, public)
    invitation = await invite(client, invite_only, proposer_profile)
    notes = {}
    for viewer, session in (("client", client), ("proposer", proposer)):
        data = await gql.execute(
            "{ viewer { notifications { nodes { id kind } } } }", token=session.token
        )
        [note] = data["viewer"]["notifications"]["nodes"]
        notes[viewer] = note
    assert notes["client"]["kind"] == "PROPOSAL_RECEIVED"
    assert notes["proposer"]["kind"] == "INVITATION_RECEIVED"
    return World(
        sessions={
            "client": client,
            "proposer": proposer,
            "other_freelancer": other_freelancer,
            "other_client": other_client,
            "anonymous": None,
        },
        ids={
            "public_job": job_id(public),
            "invite_only_job": job_id(invite_only),
            "draft_job": job_id(draft),
            "proposal": gid("Proposal", proposal.id),
            "invitation": invitation_id(invitation),
            "client_notification": notes["client"]["id"],
            "proposer_notification": notes["proposer"]["id"],
        },
        other_freelancer_profile_id=freelancer_id(other_profile),
        proposer_profile_id=freelancer_id(proposer_profile),
        rows={
            "public_job": public,
            "invite_only_job": invite_only,
            "draft_job": draft,
            "proposal": proposal,
            "invitation": invitation,
        },
    )


async def assert_world_unchanged(world: World) -> None:
    for name in ("public_job", "invite_only_job", "draft_job"):
        row = await Job.get(id=world.rows[name].id)
        original = world.rows[name]
        assert (row.title, row.status, row.visibility) == (
            original.title,
            original.status,
            original.visibility,
        ), name
    assert (await Proposal.get(id=world.rows["proposal"].id)).status == "SUBMITTED"
    assert (await Invitation.get(id=world.rows["invitation"].id)).status == "PENDING"
    assert await Invitation.all().count() == 1


@pytest.fixture
async def world(gql, db) -> World:
    return await build_world(gql)


# ---------------------------------------------------------------- reading

NODE = """query($id: ID!) { node(id: $id) { __typename id } }"""
NODES = """query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"""
JOB = """query($id: ID!) { job(id: $id) { id title } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_node_and_nodes(gql, world, viewer):
    found = {}
    for name in OBJECTS:
        data = await gql.execute(NODE, {"id": world.ids[name]}, token=world.token(viewer))
        found[name] = data["node"]
    assert {name for name, node in found.items() if node is not None} == {
        name for name in OBJECTS if viewer in SEES[name]
    }
    for name, node in found.items():
        if node is not None:
            assert node == {"__typename": TYPENAMES[name], "id": world.ids[name]}
    data = await gql.execute(
        NODES, {"ids": [world.ids[name] for name in OBJECTS]}, token=world.token(viewer)
    )
    assert dict(zip(OBJECTS, data["nodes"], strict=True)) == found


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("name", ["public_job", "invite_only_job", "draft_job"])
async def test_job_by_id(gql, world, viewer, name):
    data = await gql.execute(JOB, {"id": world.ids[name]}, token=world.token(viewer))
    if viewer in SEES[name]:
        assert data["job"] == {"id": world.ids[name], "title": world.rows[name].title}
    else:
        assert data["job"] is None


JOBS = """query($status: JobStatus) {
  jobs(first: 50, filter: {status: $status}) { totalCount nodes { id } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_jobs_listing(gql, world, viewer):
    listed = {}
    for status in ("OPEN", "DRAFT"):
        data = await gql.execute(JOBS, {"status": status}, token=world.token(viewer))
        ids = [node["id"] for node in data["jobs"]["nodes"]]
        assert data["jobs"]["totalCount"] == len(ids)
        listed[status] = ids
    expected_open = {
        world.ids[name] for name in ("public_job", "invite_only_job") if viewer in SEES[name]
    }
    assert set(listed["OPEN"]) == expected_open
    assert listed["DRAFT"] == ([world.ids["draft_job"]] if viewer == "client" else [])


JOB_PROPOSALS = """query($id: ID!) {
  job(id: $id) {
    proposalCount
    proposals { totalCount nodes { id } }
    myProposal { id }
  }
}"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_job_proposals_and_my_proposal(gql, world, viewer):
    data = await gql.execute(
        JOB_PROPOSALS, {"id": world.ids["public_job"]}, token=world.token(viewer)
    )
    job = data["job"]
    assert job["proposalCount"] == 1  # the count is public
    expected = [world.ids["proposal"]] if viewer in SEES["proposal"] else []
    assert [node["id"] for node in job["proposals"]["nodes"]] == expected
    assert job["proposals"]["totalCount"] == len(expected)
    assert job["myProposal"] == ({"id": world.ids["proposal"]} if viewer == "proposer" else None)


VIEWER_LISTS = """{
  viewer {
    jobs { totalCount nodes { id } }
    proposals { totalCount nodes { id } }
    invitations { totalCount nodes { id } }
    notifications { totalCount nodes { id } }
    unreadNotificationCount
  }
}"""
OWN = {
    "client": {
        "jobs": {"public_job", "invite_only_job", "draft_job"},
        "proposals": set(),
        "invitations": {"invitation"},
        "notifications": {"client_notification"},
    },
    "proposer": {
        "jobs": set(),
        "proposals": {"proposal"},
        "invitations": {"invitation"},
        "notifications": {"proposer_notification"},
    },
    "other_freelancer": {
        "jobs": set(),
        "proposals": set(),
        "invitations": set(),
        "notifications": set(),
    },
    "other_client": {
        "jobs": set(),
        "proposals": set(),
        "invitations": set(),
        "notifications": set(),
    },
}


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_viewer_lists(gql, world, viewer):
    data = await gql.execute(VIEWER_LISTS, token=world.token(viewer))
    if viewer == "anonymous":
        assert data["viewer"] is None
        return
    for field, names in OWN[viewer].items():
        connection = data["viewer"][field]
        assert {node["id"] for node in connection["nodes"]} == {world.ids[n] for n in names}, field
        assert connection["totalCount"] == len(names), field
    assert data["viewer"]["unreadNotificationCount"] == len(OWN[viewer]["notifications"])


NESTED = """query($proposal: ID!, $invitation: ID!, $note: ID!) {
  proposal: node(id: $proposal) {
    ... on Proposal { job { id } freelancer { id } allowedActions }
  }
  invitation: node(id: $invitation) {
    ... on Invitation { job { id } freelancer { id } }
  }
  note: node(id: $note) { ... on Notification { subject { __typename id } } }
}"""


@pytest.mark.parametrize("viewer", ["client", "proposer"])
async def test_paths_from_visible_objects_lead_to_visible_objects(gql, world, viewer):
    note = f"{viewer}_notification"
    data = await gql.execute(
        NESTED,
        {
            "proposal": world.ids["proposal"],
            "invitation": world.ids["invitation"],
            "note": world.ids[note],
        },
        token=world.token(viewer),
    )
    assert data["proposal"]["job"] == {"id": world.ids["public_job"]}
    assert data["proposal"]["freelancer"] == {"id": world.proposer_profile_id}
    actions = data["proposal"]["allowedActions"]
    if viewer == "proposer":
        assert actions == ["WITHDRAW"]
    else:  # START_INTERVIEW and SEND_OFFER come and go with the interview and contract work
        assert actions[:2] == ["SHORTLIST", "DECLINE"] and "WITHDRAW" not in actions
    assert data["invitation"] == {
        "job": {"id": world.ids["invite_only_job"]},
        "freelancer": {"id": world.proposer_profile_id},
    }
    subject = {"client": ("Proposal", "proposal"), "proposer": ("Job", "invite_only_job")}[viewer]
    assert data["note"]["subject"] == {"__typename": subject[0], "id": world.ids[subject[1]]}


# ---------------------------------------------------------------- acting

UPDATE_JOB = """mutation($id: ID!) {
  updateJob(input: {jobId: $id, title: "Hijacked"}) { job { id } userErrors { field code } } }"""
PUBLISH_JOB = """mutation($id: ID!) {
  publishJob(input: {jobId: $id}) { job { id } userErrors { field code } } }"""
CLOSE_JOB = """mutation($id: ID!) {
  closeJob(input: {jobId: $id}) { job { id } userErrors { field code } } }"""
INVITE = """mutation($id: ID!, $freelancer: ID!) {
  inviteFreelancer(input: {jobId: $id, freelancerId: $freelancer, message: "Join"}) {
    invitation { id } userErrors { field code } } }"""
SUBMIT = """mutation($id: ID!) {
  submitProposal(input: {jobId: $id, coverLetter: "Me", bidAmount: "100"}) {
    proposal { id } userErrors { field code } } }"""
WITHDRAW = """mutation($id: ID!) {
  withdrawProposal(input: {proposalId: $id}) { proposal { id } userErrors { field code } } }"""
SHORTLIST = """mutation($id: ID!) {
  shortlistProposal(input: {proposalId: $id}) { proposal { id } userErrors { field code } } }"""
DECLINE = """mutation($id: ID!) {
  declineProposal(input: {proposalId: $id}) { proposal { id } userErrors { field code } } }"""
RESPOND = """mutation($id: ID!) {
  respondToInvitation(input: {invitationId: $id, accept: true}) {
    invitation { id } userErrors { field code } } }"""

JOB_MUTATIONS = [
    ("updateJob", UPDATE_JOB),
    ("publishJob", PUBLISH_JOB),
    ("closeJob", CLOSE_JOB),
    ("inviteFreelancer", INVITE),
]
# What a signed-in viewer who is not the client gets from the job mutations, by job.
JOB_MUTATION_CODES = {
    "proposer": {
        "public_job": "FORBIDDEN",
        "invite_only_job": "FORBIDDEN",
        "draft_job": "NOT_FOUND",
    },
    "other_freelancer": {
        "public_job": "FORBIDDEN",
        "invite_only_job": "NOT_FOUND",
        "draft_job": "NOT_FOUND",
    },
    "other_client": {
        "public_job": "FORBIDDEN",
        "invite_only_job": "NOT_FOUND",
        "draft_job": "NOT_FOUND",
    },
}


async def codes_of(gql, operation, name, variables, token):
    data = await gql.execute(operation, variables, token=token)
    payload = data[name]
    assert next(value for key, value in payload.items() if key != "userErrors") is None
    return [error["code"] for error in payload["userErrors"]]


@pytest.mark.parametrize("viewer", ["proposer", "other_freelancer", "other_client"])
async def test_job_mutations_by_anyone_but_the_client(gql, world, viewer):
    for job_name, code in JOB_MUTATION_CODES[viewer].items():
        # Nobody may act on what they cannot see, and what they can see is forbidden.
        assert (code == "NOT_FOUND") == (viewer not in SEES[job_name])
        for name, operation in JOB_MUTATIONS:
            variables = {"id": world.ids[job_name], "freelancer": world.other_freelancer_profile_id}
            assert await codes_of(gql, operation, name, variables, world.token(viewer)) == [code], (
                name,
                job_name,
            )
    await assert_world_unchanged(world)


@pytest.mark.parametrize("viewer", ["proposer", "other_freelancer"])
async def test_proposing_on_jobs_one_cannot_see(gql, world, viewer):
    hidden = [name for name in ("invite_only_job", "draft_job") if viewer not in SEES[name]]
    assert hidden
    for job_name in hidden:
        assert await codes_of(
            gql, SUBMIT, "submitProposal", {"id": world.ids[job_name]}, world.token(viewer)
        ) == ["NOT_FOUND"]
    await assert_world_unchanged(world)


PROPOSAL_MUTATIONS = [
    ("withdrawProposal", WITHDRAW),
    ("shortlistProposal", SHORTLIST),
    ("declineProposal", DECLINE),
]
PROPOSAL_CODES = {
    "client": {"withdrawProposal": "FORBIDDEN"},
    "proposer": {"shortlistProposal": "FORBIDDEN", "declineProposal": "FORBIDDEN"},
    "other_freelancer": {name: "NOT_FOUND" for name, _ in PROPOSAL_MUTATIONS},
    "other_client": {name: "NOT_FOUND" for name, _ in PROPOSAL_MUTATIONS},
}


@pytest.mark.parametrize("viewer", ["client", "proposer", "other_freelancer", "other_client"])
async def test_proposal_and_invitation_mutations_by_the_wrong_party(gql, world, viewer):
    operations = dict(PROPOSAL_MUTATIONS)
    for name, code in PROPOSAL_CODES[viewer].items():
        assert (code == "NOT_FOUND") == (viewer not in SEES["proposal"])
        assert await codes_of(
            gql, operations[name], name, {"id": world.ids["proposal"]}, world.token(viewer)
        ) == [code], name
    if viewer != "proposer":
        code = "FORBIDDEN" if viewer in SEES["invitation"] else "NOT_FOUND"
        assert await codes_of(
            gql,
            RESPOND,
            "respondToInvitation",
            {"id": world.ids["invitation"]},
            world.token(viewer),
        ) == [code]
    await assert_world_unchanged(world)


MARK_READ = """mutation($ids: [ID!]) {
  markNotificationsRead(input: {ids: $ids}) { unreadNotificationCount userErrors { code } } }"""


@pytest.mark.parametrize("viewer", ["client", "proposer", "other_freelancer", "other_client"])
async def test_marking_someone_elses_notifications_read_does_nothing(gql, world, viewer):
    others = [
        world.ids[name]
        for name in ("client_notification", "proposer_notification")
        if viewer not in SEES[name]
    ]
    data = await gql.execute(MARK_READ, {"ids": others}, token=world.token(viewer))
    own = len(OWN[viewer]["notifications"])
    assert data["markNotificationsRead"] == {"unreadNotificationCount": own, "userErrors": []}
    for owner in ("client", "proposer"):
        count = await gql.execute(
            "{ viewer { unreadNotificationCount } }", token=world.token(owner)
        )
        assert count["viewer"]["unreadNotificationCount"] == 1


ANONYMOUS_MUTATIONS = [
    (
        "postJob",
        """mutation { postJob(input: {title: "T", description: "D", skills: ["python"],
        budgetType: FIXED, budget: "100", experienceLevel: ENTRY}) { job { id } } }""",
        {},
    ),
    ("updateJob", UPDATE_JOB, {"id": "public_job"}),
    ("publishJob", PUBLISH_JOB, {"id": "draft_job"}),
    ("closeJob", CLOSE_JOB, {"id": "public_job"}),
    ("inviteFreelancer", INVITE, {"id": "public_job", "freelancer": None}),
    ("respondToInvitation", RESPOND, {"id": "invitation"}),
    ("submitProposal", SUBMIT, {"id": "public_job"}),
    ("withdrawProposal", WITHDRAW, {"id": "proposal"}),
    ("shortlistProposal", SHORTLIST, {"id": "proposal"}),
    ("declineProposal", DECLINE, {"id": "proposal"}),
    (
        "purchaseConnects",
        """mutation { purchaseConnects(input: {quantity: 5}) {
        connectsBalance } }""",
        {},
    ),
    ("markNotificationsRead", MARK_READ, {"ids": None}),
]


@pytest.mark.parametrize(
    ("name", "operation", "variables"),
    ANONYMOUS_MUTATIONS,
    ids=[name for name, _, _ in ANONYMOUS_MUTATIONS],
)
async def test_anonymous_mutations_are_unauthenticated(gql, world, name, operation, variables):
    resolved = {
        key: (
            world.other_freelancer_profile_id
            if key == "freelancer"
            else world.ids[value]
            if value
            else None
        )
        for key, value in variables.items()
    }
    body = await gql.execute_raw(operation, resolved)
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert body["errors"][0]["path"] == [name]
    await assert_world_unchanged(world)
    for owner in ("client", "proposer"):
        count = await gql.execute(
            "{ viewer { unreadNotificationCount } }", token=world.token(owner)
        )
        assert count["viewer"]["unreadNotificationCount"] == 1
