"""Jobs over HTTP: posting, editing, publishing and closing them; `job(id:)`; and the `jobs`
listing's full-text search, filters, orderings, pagination and statement count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import uuid4

import pytest

from models.actors import actor_for
from models.jobs import actions as job_actions
from models.proposals import actions as proposal_actions
from models.proposals import connects
from models.proposals.orm import ConnectsReason, Proposal, ProposalStatus
from tests.conftest import count_statements
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.marketplace_support import (
    balance_of,
    errors_of,
    gid,
    invite,
    job_id,
    make_job,
    make_proposal,
    proposal_id,
)

JOB_FIELDS = """
  id title description budgetType budget hourlyRateMin hourlyRateMax deadline
  experienceLevel visibility status connectsRequired proposalCount
  skills { slug } client { companyName }
"""
POST_JOB = (
    """
mutation($input: PostJobInput!) {
  postJob(input: $input) { job { %s } userErrors { field message code } }
}"""
    % JOB_FIELDS
)
UPDATE_JOB = (
    """
mutation($input: UpdateJobInput!) {
  updateJob(input: $input) { job { %s } userErrors { field message code } }
}"""
    % JOB_FIELDS
)
PUBLISH_JOB = """
mutation($input: JobIdInput!) {
  publishJob(input: $input) { job { id status } userErrors { field message code } }
}"""
CLOSE_JOB = """
mutation($input: JobIdInput!) {
  closeJob(input: $input) { job { id status } userErrors { field message code } }
}"""
JOB = (
    """
query($id: ID!) { job(id: $id) { %s } }"""
    % JOB_FIELDS
)
JOBS = """
query($first: Int, $after: String, $last: Int, $before: String, $filter: JobFilter,
      $orderBy: JobOrder) {
  jobs(first: $first, after: $after, last: $last, before: $before, filter: $filter,
       orderBy: $orderBy) {
    totalCount
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    nodes { id title budget status }
  }
}"""
PROPOSAL_STATUSES = """
query($id: ID!) { job(id: $id) { proposals(first: 50) { nodes { id status } } } }"""
JOBS_WITH_EVERYTHING = """
query($first: Int) {
  jobs(first: $first) {
    nodes {
      id title proposalCount
      client { companyName }
      skills { slug }
      myProposal { id status }
    }
  }
}"""


def utc_today():
    return datetime.now(UTC).date()


def fixed_job_input(**overrides):
    return {
        "title": "Build a GraphQL API",
        "description": "Strawberry, Tortoise and tests.",
        "skills": ["python", "graphql"],
        "budgetType": "FIXED",
        "budget": "1250",
        "experienceLevel": "EXPERT",
        **overrides,
    }


# ---------------------------------------------------------------- postJob


async def test_a_client_posts_a_fixed_price_job(gql, db):
    session, _ = await make_client(company_name="Acme")
    deadline = (utc_today() + timedelta(days=30)).isoformat()
    data = await gql.execute(
        POST_JOB, {"input": fixed_job_input(deadline=deadline)}, token=session.token
    )
    payload = data["postJob"]
    assert payload["userErrors"] == []
    job = payload["job"]
    assert {
        key: job[key]
        for key in (
            "title",
            "budgetType",
            "budget",
            "hourlyRateMin",
            "hourlyRateMax",
            "deadline",
            "experienceLevel",
            "visibility",
            "status",
            "connectsRequired",
            "proposalCount",
        )
    } == {
        "title": "Build a GraphQL API",
        "budgetType": "FIXED",
        "budget": "1250.00",
        "hourlyRateMin": None,
        "hourlyRateMax": None,
        "deadline": deadline,
        "experienceLevel": "EXPERT",
        "visibility": "PUBLIC",
        "status": "OPEN",
        "connectsRequired": 8,
        "proposalCount": 0,
    }
    assert job["skills"] == [{"slug": "python"}, {"slug": "graphql"}]
    assert job["client"] == {"companyName": "Acme"}
    # Anyone, even signed out, finds the open job.
    found = await gql.execute(JOB, {"id": job["id"]})
    assert found["job"]["title"] == "Build a GraphQL API"


async def test_a_client_posts_an_hourly_job(gql, db):
    session, _ = await make_client()
    data = await gql.execute(
        POST_JOB,
        {
            "input": {
                "title": "Ongoing React work",
                "description": "Maintain a dashboard.",
                "skills": ["react", "TypeScript"],
                "budgetType": "HOURLY",
                "hourlyRateMin": "40",
                "hourlyRateMax": "60.5",
                "experienceLevel": "INTERMEDIATE",
            }
        },
        token=session.token,
    )
    job = data["postJob"]["job"]
    assert data["postJob"]["userErrors"] == []
    assert (job["budgetType"], job["budget"], job["hourlyRateMin"], job["hourlyRateMax"]) == (
        "HOURLY",
        None,
        "40.00",
        "60.50",
    )
    # 40 h x 60.50 = 2,420.00: the 8-connect tier.
    assert job["connectsRequired"] == 8
    assert [skill["slug"] for skill in job["skills"]] == ["react", "typescript"]


async def test_a_draft_is_the_clients_alone_until_published(gql, db):
    session, _ = await make_client()
    data = await gql.execute(POST_JOB, {"input": fixed_job_input(draft=True)}, token=session.token)
    job = data["postJob"]["job"]
    assert job["status"] == "DRAFT"
    freelancer, _ = await make_freelancer()
    assert (await gql.execute(JOB, {"id": job["id"]}, token=freelancer.token))["job"] is None
    assert (await gql.execute(JOB, {"id": job["id"]}))["job"] is None
    assert (await gql.execute(JOB, {"id": job["id"]}, token=session.token))["job"][
        "status"
    ] == "DRAFT"
    listed = await gql.execute(JOBS, {"filter": {"status": "DRAFT"}}, token=freelancer.token)
    assert listed["jobs"]["nodes"] == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget": None}, ["input", "budget"]),
        ({"budget": "0"}, ["input", "budget"]),
        ({"budget": "1.005"}, ["input", "budget"]),
        ({"budget": "300", "hourlyRateMin": "20"}, ["input", "hourlyRateMin"]),
        (
            {"budgetType": "HOURLY", "budget": None, "hourlyRateMin": "80", "hourlyRateMax": "40"},
            ["input", "hourlyRateMax"],
        ),
        ({"budgetType": "HOURLY", "budget": None}, ["input", "hourlyRateMin"]),
        ({"budgetType": "HOURLY", "budget": "300", "hourlyRateMin": "20"}, ["input", "budget"]),
        ({"skills": ["python", "basket weaving"]}, ["input", "skills", "1"]),
        ({"skills": []}, ["input", "skills"]),
        ({"title": "   "}, ["input", "title"]),
        ({"description": ""}, ["input", "description"]),
        ("past deadline", ["input", "deadline"]),
    ],
    ids=[
        "missing budget",
        "zero budget",
        "fraction of a cent",
        "fixed with rates",
        "rates min over max",
        "hourly without rates",
        "hourly with budget",
        "unknown skill",
        "no skills",
        "blank title",
        "empty description",
        "past deadline",
    ],
)
async def test_post_job_validation_errors_name_the_field(gql, db, overrides, field):
    session, _ = await make_client()
    if overrides == "past deadline":
        overrides = {"deadline": (utc_today() - timedelta(days=2)).isoformat()}
    data = await gql.execute(POST_JOB, {"input": fixed_job_input(**overrides)}, token=session.token)
    assert data["postJob"]["job"] is None
    assert errors_of(data["postJob"]) == [(field, "VALIDATION")]
    mine = await gql.execute("{ viewer { jobs { totalCount } } }", token=session.token)
    assert mine["viewer"]["jobs"]["totalCount"] == 0


async def test_posting_without_a_client_profile_is_forbidden(gql, db):
    freelancer, _ = await make_freelancer()
    for session in (freelancer, await make_user()):
        data = await gql.execute(POST_JOB, {"input": fixed_job_input()}, token=session.token)
        assert data["postJob"]["job"] is None
        assert [e["code"] for e in data["postJob"]["userErrors"]] == ["FORBIDDEN"]


async def test_posting_needs_sign_in(gql, db):
    body = await gql.execute_raw(POST_JOB, {"input": fixed_job_input()})
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize(
    ("money", "connects_required"),
    [
        ({"budget": "5"}, 2),
        ({"budget": "100"}, 2),
        ({"budget": "100.01"}, 4),
        ({"budget": "500"}, 4),
        ({"budget": "1000"}, 6),
        ({"budget": "2500"}, 8),
        ({"budget": "5000"}, 10),
        ({"budget": "10000"}, 12),
        ({"budget": "25000"}, 14),
        ({"budget": "25000.01"}, 16),
        ({"budget": "10000000"}, 16),
        ({"budgetType": "HOURLY", "budget": None, "hourlyRateMin": "2.50"}, 2),  # 40 h x 2.50
        ({"budgetType": "HOURLY", "budget": None, "hourlyRateMax": "12.50"}, 4),  # 500.00
        (
            {"budgetType": "HOURLY", "budget": None, "hourlyRateMin": "10", "hourlyRateMax": "25"},
            6,
        ),  # the top rate counts: 1,000.00
        ({"budgetType": "HOURLY", "budget": None, "hourlyRateMax": "999.99"}, 16),  # 39,999.60
    ],
)
async def test_connects_required_follows_the_budget_tiers(gql, db, money, connects_required):
    session, _ = await make_client()
    data = await gql.execute(POST_JOB, {"input": fixed_job_input(**money)}, token=session.token)
    assert data["postJob"]["userErrors"] == []
    assert data["postJob"]["job"]["connectsRequired"] == connects_required


# ---------------------------------------------------------------- updateJob


async def test_update_changes_only_the_fields_sent(gql, db):
    session, _ = await make_client()
    deadline = (utc_today() + timedelta(days=10)).isoformat()
    posted = (
        await gql.execute(
            POST_JOB, {"input": fixed_job_input(deadline=deadline)}, token=session.token
        )
    )["postJob"]["job"]
    data = await gql.execute(
        UPDATE_JOB,
        {"input": {"jobId": posted["id"], "title": "Build a GraphQL API, fast", "budget": "3000"}},
        token=session.token,
    )
    assert data["updateJob"]["userErrors"] == []
    updated = data["updateJob"]["job"]
    assert updated == {
        **posted,
        "title": "Build a GraphQL API, fast",
        "budget": "3000.00",
        "connectsRequired": 10,
    }
    # Explicit null clears a nullable field and only that one.
    cleared = await gql.execute(
        UPDATE_JOB,
        {"input": {"jobId": posted["id"], "deadline": None, "skills": ["rust"]}},
        token=session.token,
    )
    assert cleared["updateJob"]["job"] == {
        **updated,
        "deadline": None,
        "skills": [{"slug": "rust"}],
    }
    assert (await gql.execute(JOB, {"id": posted["id"]}))["job"] == cleared["updateJob"]["job"]


async def test_updated_text_and_skills_are_searchable(gql, db):
    session, _ = await make_client()
    job = await make_job(session, title="Logo for a bakery", skills=["logo-design"])
    await gql.execute(
        UPDATE_JOB,
        {"input": {"jobId": job_id(job), "title": "Mascot drawing", "skills": ["illustration"]}},
        token=session.token,
    )

    async def titles(query):
        data = await gql.execute(JOBS, {"filter": {"query": query}})
        return [node["title"] for node in data["jobs"]["nodes"]]

    assert await titles("bakery") == []
    assert await titles("mascot") == ["Mascot drawing"]
    assert await titles("illustration") == ["Mascot drawing"]


async def test_update_hourly_rates_keeps_the_other_rate(gql, db):
    session, _ = await make_client()
    job = await make_job(
        session, budget_type="HOURLY", hourly_rate_min=Decimal(20), hourly_rate_max=Decimal(30)
    )
    data = await gql.execute(
        UPDATE_JOB, {"input": {"jobId": job_id(job), "hourlyRateMax": "50"}}, token=session.token
    )
    updated = data["updateJob"]["job"]
    assert (updated["hourlyRateMin"], updated["hourlyRateMax"], updated["connectsRequired"]) == (
        "20.00",
        "50.00",
        8,
    )
    refused = await gql.execute(
        UPDATE_JOB, {"input": {"jobId": job_id(job), "hourlyRateMin": "60"}}, token=session.token
    )
    assert errors_of(refused["updateJob"]) == [(["input", "hourlyRateMax"], "VALIDATION")]


@pytest.mark.parametrize(
    "field", ["title", "description", "skills", "budget", "experienceLevel", "visibility"]
)
async def test_null_for_a_required_field_is_a_validation_error(gql, db, field):
    session, _ = await make_client()
    job = await make_job(session)
    before = (await gql.execute(JOB, {"id": job_id(job)}, token=session.token))["job"]
    data = await gql.execute(
        UPDATE_JOB,
        {"input": {"jobId": job_id(job), "title": "Changed", field: None}},
        token=session.token,
    )
    assert data["updateJob"]["job"] is None
    assert errors_of(data["updateJob"]) == [(["input", field], "VALIDATION")]
    # Nothing of the refused update was kept, not even the valid title.
    assert (await gql.execute(JOB, {"id": job_id(job)}, token=session.token))["job"] == before


async def test_update_of_someone_elses_job(gql, db):
    owner, _ = await make_client()
    other, _ = await make_client()
    public = await make_job(owner)
    invite_only = await make_job(owner, visibility="INVITE_ONLY")
    draft = await make_job(owner, draft=True)
    freelancer, _ = await make_freelancer()

    async def codes(session, job):
        data = await gql.execute(
            UPDATE_JOB, {"input": {"jobId": job_id(job), "title": "Mine"}}, token=session.token
        )
        assert data["updateJob"]["job"] is None
        return [error["code"] for error in data["updateJob"]["userErrors"]]

    # A job they can see: forbidden. One they cannot: not found.
    assert await codes(other, public) == ["FORBIDDEN"]
    assert await codes(freelancer, public) == ["FORBIDDEN"]
    assert await codes(other, invite_only) == ["NOT_FOUND"]
    assert await codes(other, draft) == ["NOT_FOUND"]
    for unknown in (gid("Job", uuid4()), gid("ClientProfile", owner.user.id), "not-an-id"):
        data = await gql.execute(
            UPDATE_JOB, {"input": {"jobId": unknown, "title": "x"}}, token=other.token
        )
        assert errors_of(data["updateJob"]) == [(["input", "jobId"], "NOT_FOUND")]
    title = (await gql.execute(JOB, {"id": job_id(public)}))["job"]["title"]
    assert title == "Build a GraphQL API"


async def test_a_closed_job_cannot_be_updated(gql, db):
    session, _ = await make_client()
    job = await make_job(session)
    await gql.execute(CLOSE_JOB, {"input": {"jobId": job_id(job)}}, token=session.token)
    data = await gql.execute(
        UPDATE_JOB, {"input": {"jobId": job_id(job), "title": "x"}}, token=session.token
    )
    assert [e["code"] for e in data["updateJob"]["userErrors"]] == ["INVALID_STATE"]


# ---------------------------------------------------------------- publishJob / closeJob


async def test_publish_opens_a_draft_once(gql, db):
    session, _ = await make_client()
    draft = await make_job(session, draft=True)
    data = await gql.execute(PUBLISH_JOB, {"input": {"jobId": job_id(draft)}}, token=session.token)
    assert data["publishJob"] == {"job": {"id": job_id(draft), "status": "OPEN"}, "userErrors": []}
    listed = await gql.execute(JOBS, {})
    assert [node["id"] for node in listed["jobs"]["nodes"]] == [job_id(draft)]
    again = await gql.execute(PUBLISH_JOB, {"input": {"jobId": job_id(draft)}}, token=session.token)
    assert again["publishJob"]["job"] is None
    assert [e["code"] for e in again["publishJob"]["userErrors"]] == ["INVALID_STATE"]


async def test_publish_and_close_by_others(gql, db):
    owner, _ = await make_client()
    other, _ = await make_client()
    draft = await make_job(owner, draft=True)
    public = await make_job(owner)
    for operation, name, job, code in (
        (PUBLISH_JOB, "publishJob", draft, "NOT_FOUND"),
        (CLOSE_JOB, "closeJob", draft, "NOT_FOUND"),
        (CLOSE_JOB, "closeJob", public, "FORBIDDEN"),
    ):
        data = await gql.execute(operation, {"input": {"jobId": job_id(job)}}, token=other.token)
        assert [e["code"] for e in data[name]["userErrors"]] == [code], (name, code)
    assert (await gql.execute(JOB, {"id": job_id(public)}))["job"]["status"] == "OPEN"


async def test_closing_a_draft_cancels_it(gql, db):
    session, _ = await make_client()
    draft = await make_job(session, draft=True)
    data = await gql.execute(CLOSE_JOB, {"input": {"jobId": job_id(draft)}}, token=session.token)
    assert data["closeJob"]["job"]["status"] == "CANCELLED"


async def test_close_declines_open_proposals_and_refunds_connects_when_nobody_was_hired(gql, db):
    client, _ = await make_client()
    job = await make_job(client)  # 400.00: 4 connects
    bidders = [await make_freelancer() for _ in range(3)]
    proposals = [await make_proposal(session, job) for session, _ in bidders]
    shortlisted, submitted, withdrawn = proposals
    await proposal_actions.shortlist_proposal(await actor_for(client.user), shortlisted.id)
    await proposal_actions.withdraw_proposal(await actor_for(bidders[2][0].user), withdrawn.id)
    assert [await balance_of(gql, session) for session, _ in bidders] == [6, 6, 6]

    data = await gql.execute(CLOSE_JOB, {"input": {"jobId": job_id(job)}}, token=client.token)
    assert data["closeJob"] == {"job": {"id": job_id(job), "status": "CLOSED"}, "userErrors": []}
    statuses = await gql.execute(PROPOSAL_STATUSES, {"id": job_id(job)}, token=client.token)
    assert {node["id"]: node["status"] for node in statuses["job"]["proposals"]["nodes"]} == {
        proposal_id(shortlisted): "DECLINED",
        proposal_id(submitted): "DECLINED",
        proposal_id(withdrawn): "WITHDRAWN",
    }
    # The declined bids come back; a withdrawn one was the freelancer's choice.
    assert [await balance_of(gql, session) for session, _ in bidders] == [10, 10, 6]
    for _, profile in bidders:
        assert await connects.ledger_sum(profile.id) == await connects.balance(profile.id)

    again = await gql.execute(CLOSE_JOB, {"input": {"jobId": job_id(job)}}, token=client.token)
    assert [e["code"] for e in again["closeJob"]["userErrors"]] == ["INVALID_STATE"]
    assert [await balance_of(gql, session) for session, _ in bidders] == [10, 10, 6]


async def test_close_does_not_refund_when_someone_was_hired(gql, db):
    client, _ = await make_client()
    job = await make_job(client)
    (hired, _), (declined, _) = await make_freelancer(), await make_freelancer()
    hired_proposal = await make_proposal(hired, job)
    other_proposal = await make_proposal(declined, job)
    # Hiring arrives with contracts; mark the proposal as it will.
    await Proposal.filter(id=hired_proposal.id).update(status=ProposalStatus.HIRED)
    await gql.execute(CLOSE_JOB, {"input": {"jobId": job_id(job)}}, token=client.token)
    statuses = await gql.execute(PROPOSAL_STATUSES, {"id": job_id(job)}, token=client.token)
    assert {node["id"]: node["status"] for node in statuses["job"]["proposals"]["nodes"]} == {
        proposal_id(hired_proposal): "HIRED",
        proposal_id(other_proposal): "DECLINED",
    }
    assert await balance_of(gql, hired) == 6
    assert await balance_of(gql, declined) == 6


# ---------------------------------------------------------------- job(id:)


async def test_job_by_id_is_null_for_unknown_or_foreign_ids(gql, db):
    session, profile = await make_client()
    job = await make_job(session)
    assert (await gql.execute(JOB, {"id": job_id(job)}))["job"]["id"] == job_id(job)
    for other in (gid("Job", profile.id), gid("ClientProfile", profile.id), "bm9wZQ", "!!"):
        assert (await gql.execute(JOB, {"id": other}, token=session.token))["job"] is None
    # As a node the id finds the same job.
    data = await gql.execute(
        "query($id: ID!) { node(id: $id) { __typename ... on Job { title } } }", {"id": job_id(job)}
    )
    assert data["node"] == {"__typename": "Job", "title": "Build a GraphQL API"}


# ---------------------------------------------------------------- jobs(filter:, orderBy:)


async def listing(gql, filter_=None, order=None, token=None, first=50):
    variables = {"first": first, "filter": filter_}
    if order:
        variables["orderBy"] = {"field": order[0], "direction": order[1]}
    data = await gql.execute(JOBS, variables, token=token)
    return data["jobs"]


async def titles(gql, filter_=None, order=None, token=None):
    return [node["title"] for node in (await listing(gql, filter_, order, token))["nodes"]]


async def seed_catalog():
    """Jobs with known words, skills, budgets and levels; created in this order."""
    acme, acme_profile = await make_client(company_name="Acme")
    other, _ = await make_client(company_name="Globex")
    await make_job(
        acme,
        title="Python developer for a data pipeline",
        description="Airflow jobs that load CSV exports nightly.",
        skills=["python", "data-engineering"],
        budget=Decimal(1500),
        experience_level="EXPERT",
    )
    await make_job(
        acme,
        title="Logo for a bakery",
        description="We bake sourdough bread and want a friendly mark.",
        skills=["logo-design"],
        budget=Decimal(150),
        experience_level="ENTRY",
    )
    await make_job(
        acme,
        title="React Native mobile app",
        description="Shopping list app.",
        skills=["react-native", "typescript"],
        budget_type="HOURLY",
        hourly_rate_min=Decimal(40),
        hourly_rate_max=Decimal(60),
    )
    await make_job(
        other,
        title="Model tuning",
        description="Experienced developers wanted to tune our classifier.",
        skills=["machine-learning", "python"],
        budget_type="HOURLY",
        hourly_rate_min=Decimal(80),
        hourly_rate_max=Decimal(120),
        experience_level="EXPERT",
    )
    await make_job(
        other,
        title="Bookkeeping for a startup",
        description="Monthly books.",
        skills=["bookkeeping"],
        budget=Decimal(300),
        experience_level="ENTRY",
    )
    await make_job(
        acme,
        title="Secret Rust project",
        description="Not ready yet.",
        skills=["rust"],
        budget=Decimal(3000),
        draft=True,
    )
    closed = await make_job(
        acme,
        title="Old Go service",
        description="Done already.",
        skills=["go"],
        budget=Decimal(800),
    )
    await job_actions.close_job(await actor_for(acme.user), closed.id)
    return acme, acme_profile


async def test_full_text_search_over_title_skills_and_description(gql, db):
    await seed_catalog()
    assert await titles(gql, {"query": "bakery"}) == ["Logo for a bakery"]  # title
    assert await titles(gql, {"query": "sourdough"}) == ["Logo for a bakery"]  # description
    assert await titles(gql, {"query": "TypeScript"}) == ["React Native mobile app"]  # skill
    assert await titles(gql, {"query": "machine learning"}) == ["Model tuning"]  # skill name
    # Stemming both ways: "developers" finds "developer", and the other way round.
    expected = ["Model tuning", "Python developer for a data pipeline"]
    assert sorted(await titles(gql, {"query": "developers"})) == expected
    assert sorted(await titles(gql, {"query": "developer"})) == expected
    assert await titles(gql, {"query": "pipelines"}) == ["Python developer for a data pipeline"]
    # Every word must match.
    assert await titles(gql, {"query": "python pipeline"}) == [
        "Python developer for a data pipeline"
    ]
    assert await titles(gql, {"query": "python bakery"}) == []
    # Drafts and closed jobs are not found by default.
    assert await titles(gql, {"query": "rust"}) == []
    assert await titles(gql, {"query": "go service"}) == []
    # Punctuation and operators are just words, never SQL or query syntax.
    assert await titles(gql, {"query": "bakery' OR 1=1 --"}) == []
    assert await titles(gql, {"query": 'bakery" NEAR(*)'}) == []
    assert len(await titles(gql, {"query": "  "})) == 5
    assert await titles(gql, {"query": "nothing-matches-this"}) == []


async def test_search_splits_dotted_words_the_same_on_every_backend(gql, db):
    session, _ = await make_client()
    await make_job(
        session,
        title="Realtime dashboard",
        description="Upgrade to Django 5.1.",
        skills=["node-js", "vue-js"],
    )
    await make_job(
        session,
        title="Mail setup",
        description="Route ops@acme.example to https://helpdesk.example/inbox.",
    )
    for query in ("Node.js", "node", "js", "vue.js", "Vue", "5.1", "django 5"):
        assert await titles(gql, {"query": query}) == ["Realtime dashboard"], query
    for query in ("acme", "ops@acme.example", "helpdesk", "inbox", "https"):
        assert await titles(gql, {"query": query}) == ["Mail setup"], query


async def test_filters_by_skills_budget_level_status_and_client(gql, db):
    acme, acme_profile = await seed_catalog()
    everything = {
        "Python developer for a data pipeline",
        "Logo for a bakery",
        "React Native mobile app",
        "Model tuning",
        "Bookkeeping for a startup",
    }
    assert set(await titles(gql)) == everything

    async def found(filter_, token=None):
        return set(await titles(gql, filter_, token=token))

    assert await found({"skills": ["python", "typescript"]}) == {
        "Python developer for a data pipeline",
        "React Native mobile app",
        "Model tuning",
    }
    assert await found({"skills": ["logo-design", "go"]}) == {"Logo for a bakery"}
    assert await found({"skills": ["Logo Design"]}) == {"Logo for a bakery"}  # names work too
    assert await found({"skills": ["no-such-skill"]}) == set()
    assert await found({"budgetType": "HOURLY"}) == {"React Native mobile app", "Model tuning"}
    assert await found({"budgetType": "FIXED"}) == everything - {
        "React Native mobile app",
        "Model tuning",
    }
    # Hourly jobs compare as a 40-hour week at the top rate: 2,400.00 and 4,800.00.
    assert await found({"minBudget": "1500"}) == {
        "Python developer for a data pipeline",
        "React Native mobile app",
        "Model tuning",
    }
    assert await found({"maxBudget": "300"}) == {"Logo for a bakery", "Bookkeeping for a startup"}
    assert await found({"minBudget": "200", "maxBudget": "2400"}) == {
        "Python developer for a data pipeline",
        "React Native mobile app",
        "Bookkeeping for a startup",
    }
    assert await found({"experienceLevel": "EXPERT"}) == {
        "Python developer for a data pipeline",
        "Model tuning",
    }
    assert await found(
        {"experienceLevel": "EXPERT", "budgetType": "HOURLY", "query": "classifier"}
    ) == {"Model tuning"}
    assert await found({"status": "CLOSED"}) == {"Old Go service"}
    assert await found({"status": "DRAFT"}) == set()
    assert await found({"status": "DRAFT"}, token=acme.token) == {"Secret Rust project"}
    acme_id = gid("ClientProfile", acme_profile.id)
    assert await found({"clientId": acme_id}) == {
        "Python developer for a data pipeline",
        "Logo for a bakery",
        "React Native mobile app",
    }
    assert await found({"clientId": acme_id, "status": "CLOSED"}) == {"Old Go service"}
    assert await found({"clientId": gid("User", acme.user.id)}) == set()
    assert await found({"clientId": "garbage"}) == set()
    total = (await listing(gql, {"skills": ["python"]}, first=1))["totalCount"]
    assert total == 2


async def test_bad_filters_are_argument_errors(gql, db):
    for filter_ in ({"minBudget": "-1"}, {"query": "x" * 201}):
        body = await gql.execute_raw(JOBS, {"filter": filter_})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


@pytest.mark.parametrize(
    ("order", "expected"),
    [
        (
            None,
            [
                "Bookkeeping for a startup",
                "Model tuning",
                "React Native mobile app",
                "Logo for a bakery",
                "Python developer for a data pipeline",
            ],
        ),
        (
            ("CREATED_AT", "DESC"),
            [
                "Bookkeeping for a startup",
                "Model tuning",
                "React Native mobile app",
                "Logo for a bakery",
                "Python developer for a data pipeline",
            ],
        ),
        (
            ("CREATED_AT", "ASC"),
            [
                "Python developer for a data pipeline",
                "Logo for a bakery",
                "React Native mobile app",
                "Model tuning",
                "Bookkeeping for a startup",
            ],
        ),
        (
            ("BUDGET", "ASC"),
            [
                "Logo for a bakery",
                "Bookkeeping for a startup",
                "Python developer for a data pipeline",
                "React Native mobile app",
                "Model tuning",
            ],
        ),
        (
            ("BUDGET", "DESC"),
            [
                "Model tuning",
                "React Native mobile app",
                "Python developer for a data pipeline",
                "Bookkeeping for a startup",
                "Logo for a bakery",
            ],
        ),
        # Without a query there is nothing to rank by: newest first (or oldest, ascending).
        (
            ("RELEVANCE", "DESC"),
            [
                "Bookkeeping for a startup",
                "Model tuning",
                "React Native mobile app",
                "Logo for a bakery",
                "Python developer for a data pipeline",
            ],
        ),
        (
            ("RELEVANCE", "ASC"),
            [
                "Python developer for a data pipeline",
                "Logo for a bakery",
                "React Native mobile app",
                "Model tuning",
                "Bookkeeping for a startup",
            ],
        ),
    ],
    ids=[
        "default",
        "created desc",
        "created asc",
        "budget asc",
        "budget desc",
        "relevance without query desc",
        "relevance without query asc",
    ],
)
async def test_orderings(gql, db, order, expected):
    await seed_catalog()
    assert await titles(gql, None, order) == expected


async def test_relevance_ranks_title_matches_above_skill_and_description_matches(gql, db):
    session, _ = await make_client()
    await make_job(
        session, title="Fix our checkout", description="A Django shop.", skills=["django"]
    )
    await make_job(
        session,
        title="Django upgrade",
        description="Move to Django 5.",
        skills=["django", "python"],
    )
    await make_job(
        session, title="Website tweaks", description="Some django templates.", skills=["wordpress"]
    )
    ranked = await titles(gql, {"query": "django"}, ("RELEVANCE", "DESC"))
    assert ranked[0] == "Django upgrade"
    assert ranked[-1] == "Website tweaks"
    assert await titles(gql, {"query": "django"}, ("RELEVANCE", "ASC")) == ranked[::-1]


async def seed_for_paging():
    """Twelve open jobs matching "api" with repeated budgets and relevance ties."""
    session, _ = await make_client()
    budgets = ["100", "250", "100", "900", "250", "100", "5000", "900", "250", "100", "75", "75"]
    for index, budget in enumerate(budgets):
        words = " ".join(["api"] * (index % 3 + 1))
        await make_job(
            session,
            title=f"Job {index:02d} api" if index % 2 else f"Job {index:02d}",
            description=f"Build the {words} layer.",
            budget=Decimal(budget),
        )
    await make_job(session, title="Unrelated", description="Paint a fence.")
    return len(budgets)


@pytest.mark.parametrize(
    "order",
    [
        ("CREATED_AT", "ASC"),
        ("CREATED_AT", "DESC"),
        ("BUDGET", "ASC"),
        ("BUDGET", "DESC"),
        ("RELEVANCE", "ASC"),
        ("RELEVANCE", "DESC"),
    ],
)
async def test_pagination_walks_every_page_once_in_each_order(gql, db, order):
    matching = await seed_for_paging()
    filter_ = {"query": "api"}
    variables = {"filter": filter_, "orderBy": {"field": order[0], "direction": order[1]}}
    whole = (await gql.execute(JOBS, {**variables, "first": 100}))["jobs"]
    assert whole["totalCount"] == matching
    expected = [node["id"] for node in whole["nodes"]]
    assert len(expected) == len(set(expected)) == matching
    if order[0] == "BUDGET":
        budgets = [Decimal(node["budget"]) for node in whole["nodes"]]
        assert budgets == sorted(budgets, reverse=order[1] == "DESC")

    seen, after, pages = [], None, 0
    while True:
        page = (await gql.execute(JOBS, {**variables, "first": 5, "after": after}))["jobs"]
        pages += 1
        assert page["totalCount"] == matching
        seen += [node["id"] for node in page["nodes"]]
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert pages == 3
    assert seen == expected

    # And backwards from the end with last/before.
    seen, before = [], None
    while True:
        page = (await gql.execute(JOBS, {**variables, "last": 5, "before": before}))["jobs"]
        seen = [node["id"] for node in page["nodes"]] + seen
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
    assert seen == expected


async def test_a_cursor_from_another_ordering_is_refused_or_harmless(gql, db):
    await seed_for_paging()
    by_date = (await listing(gql, {"query": "api"}, first=2))["pageInfo"]["endCursor"]
    body = await gql.execute_raw(
        JOBS,
        {
            "first": 2,
            "after": by_date,
            "filter": {"query": "api"},
            "orderBy": {"field": "BUDGET", "direction": "ASC"},
        },
    )
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# ---------------------------------------------------------------- statement count


async def test_statement_count_does_not_grow_with_page_size(gql, db):
    clients = [await make_client(company_name=f"Client {index}") for index in range(3)]
    freelancer, profile = await make_freelancer()
    await connects.credit(profile.id, 200, ConnectsReason.PURCHASE)
    jobs = []
    for index in range(105):
        session, _ = clients[index % 3]
        jobs.append(
            await make_job(
                session,
                title=f"Job {index}",
                skills=["python", "graphql", "docker"][: index % 3 + 1],
                budget=Decimal(50),
            )
        )
    # Proposals on some jobs, and an invitation to an invite-only one.
    for job in jobs[10::7]:  # all within the newest 100
        await make_proposal(freelancer, job)
    invite_only = await make_job(clients[0][0], title="Invite only", visibility="INVITE_ONLY")
    await invite(clients[0][0], invite_only, profile)

    counts = []
    for size in (5, 100):
        with count_statements() as counter:
            data = await gql.execute(JOBS_WITH_EVERYTHING, {"first": size}, token=freelancer.token)
        nodes = data["jobs"]["nodes"]
        assert len(nodes) == size
        counts.append(counter.count)
    print(
        f"statements for jobs(first: 5/100) with client, skills, proposalCount, "
        f"myProposal as a freelancer: {counts}"
    )
    assert counts[0] == counts[1]
    # token, user, page, actor's two profiles, clients, skills, my proposals
    assert counts[0] <= 9
    with_proposal = [node for node in nodes if node["myProposal"]]
    assert len(with_proposal) == len(jobs[10::7])
    assert all(
        node["myProposal"]["status"] == "SUBMITTED" and node["proposalCount"] == 1
        for node in with_proposal
    )
    assert "Invite only" in {node["title"] for node in nodes}
    assert all(node["client"]["companyName"].startswith("Client") for node in nodes)
