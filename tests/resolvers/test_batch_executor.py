"""The batch executor (schema/execution) answers every query byte for byte as graphql-core does.

Each document is sent over HTTP to two apps on the same database: one with the batch executor,
one with it off (BATCH_EXECUTION=false). Their status codes and bodies must be equal; for the
benchmark's pages the batch path must also have been taken (a fallback would pass vacuously).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from models.base import utc_now
from models.contracts.orm import (
    Contract,
    ContractEvent,
    ContractEventKind,
    ContractStatus,
    ContractType,
    Milestone,
    MilestoneStatus,
)
from models.jobs import search_index
from models.jobs.orm import Job
from models.profiles.orm import ClientProfile, FreelancerProfile
from models.users.actions import Session
from schema.execution import outcomes
from tests.conftest import Database, empty_tables
from tests.factories import job_fields, make_client, make_freelancer
from tests.resolvers.marketplace_support import make_job

DASHBOARD = """
query Dashboard { viewer { contracts(first: 20) { edges { node { title status
  freelancer { user { displayName } rating { overall count } }
  milestones { title amount status autoReleaseAt }
  events(first: 3) { edges { node { kind createdAt } } } } } } } }
"""
SEARCH = """
query Search($query: String!) { jobs(first: 20, filter: {query: $query}) { edges { node {
  id title budgetType budget createdAt client { companyName rating { overall count } }
  skills { name slug } } } } }
"""
EVERYTHING = """
query Everything($withEvents: Boolean!, $skipTitle: Boolean = false, $after: String) {
  me: viewer {
    __typename
    user { ...Person id email }
    contracts(first: 7, after: $after) {
      totalCount
      pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
      edges { cursor node { ...Deal ... on Contract { again: title @skip(if: $skipTitle) } } }
      nodes { id status }
    }
  }
  jobs(first: 3, filter: {query: "kestrel"}) { nodes { id title budget hourlyRateMin } }
}
fragment Person on User { __typename displayName isStaff createdAt }
fragment Deal on Contract {
  id title status contractType currency hourlyRate weeklyLimitHours deadline escrowAmount
  paidAmount offerExpiresAt reviewDeadline offeredAt startedAt endedAt totalAmount
  job { id title budget budgetType status }
  client { companyName user { displayName email } rating { count overall communication } }
  freelancer { id title hourlyRate availability location user { ...Person } rating { count } }
  milestones { id position title description amount dueDate status autoReleaseAt fundedAt }
  events(first: 2) @include(if: $withEvents) {
    totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id kind status cursor } }
  }
  lastEvents: events(last: 2) { nodes { kind createdAt } pageInfo { hasPreviousPage } }
  title
}
"""


@pytest.fixture
async def both(db: Database) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    from app import create_app
    from settings import get_settings

    clients = []
    async with contextlib_stack() as stack:
        for batch in (True, False):
            app = create_app(
                get_settings().model_copy(
                    update={"broadcast_url": "memory://", "batch_execution": batch}
                ),
                manage_database=False,
            )
            await stack.enter_async_context(app.router.lifespan_context(app))
            transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 51000))
            client = httpx.AsyncClient(transport=transport, base_url="http://testserver")
            clients.append(await stack.enter_async_context(client))
        yield clients[0], clients[1]


def contextlib_stack() -> Any:
    import contextlib

    return contextlib.AsyncExitStack()


async def same_answer(
    both: tuple[httpx.AsyncClient, httpx.AsyncClient],
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    """Both apps' answers, which must be the same bytes; returns the decoded body."""
    headers = {"accept": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    body = {"query": query, "variables": variables or {}}
    batched, plain = [await client.post("/graphql", json=body, headers=headers) for client in both]
    assert (batched.status_code, batched.content) == (plain.status_code, plain.content)
    decoded: dict[str, Any] = batched.json()
    return decoded


async def seed() -> dict[str, Session]:
    """A client with 23 contracts (more than a page) with 0-3 milestones, 0-5 events, shared
    freelancers, one hourly contract; a second client without a company name; searchable jobs,
    fixed and hourly."""
    now = utc_now()
    rng = random.Random(7)
    client, profile = await make_client(company_name="Kestrel Works")
    nameless, nameless_profile = await make_client()
    await ClientProfile.filter(id=nameless_profile.id).update(company_name=None)
    freelancers: list[tuple[Session, FreelancerProfile]] = [
        await make_freelancer(hourly_rate=None if index == 0 else "40.00") for index in range(4)
    ]
    await FreelancerProfile.filter(id=freelancers[1][1].id).update(
        rating_count=3, rating_overall_sum=13, rating_communication_sum=12
    )
    job = await make_job(client, title="kestrel platform")
    await make_job(
        client, title="kestrel hourly", budget_type="HOURLY", hourly_rate_min=Decimal(30)
    )
    await make_job(nameless, title="kestrel for nobody", skills=["python", "docker"])
    statuses = list(MilestoneStatus)
    for index in range(23):
        session, freelancer = freelancers[index % len(freelancers)]
        hourly = index == 4
        contract = await Contract.create(
            created_at=now - timedelta(minutes=index),
            job_id=job.id,
            client_id=profile.id,
            freelancer_id=freelancer.id,
            client_user_id=client.user.id,
            freelancer_user_id=session.user.id,
            title=f"Contract {index}",
            terms="t",
            contract_type=ContractType.HOURLY if hourly else ContractType.FIXED,
            hourly_rate_cents=4_500 if hourly else None,
            status=rng.choice([ContractStatus.ACTIVE, ContractStatus.COMPLETED]),
            paid_cents=rng.randrange(0, 10_000),
            started_at=None if index % 5 == 0 else now,
        )
        milestones = 0 if hourly or index % 6 == 1 else rng.randint(1, 3)
        await Milestone.bulk_create(
            [
                Milestone(
                    id=uuid.uuid4(),
                    contract_id=contract.id,
                    position=position,
                    title=f"M{position}",
                    amount_cents=rng.randrange(100, 90_000),
                    status=(status := rng.choice(statuses)),
                    auto_release_at=(
                        now + timedelta(days=14, microseconds=index)
                        if status == MilestoneStatus.SUBMITTED
                        else None
                    ),
                )
                for position in range(milestones)
            ]
        )
        await ContractEvent.bulk_create(
            [
                ContractEvent(
                    contract_id=contract.id,
                    kind=rng.choice(list(ContractEventKind)),
                    status=ContractStatus.ACTIVE,
                    created_at=now + timedelta(seconds=step),
                )
                for step in range(0 if index % 4 == 3 else rng.randint(1, 5))
            ]
        )
    # A job with no skills: its `skills` is an empty list.
    bare = await Job.create(**job_fields(profile.id, "kestrel bare"))
    await search_index.reindex(bare.id)
    return {"client": client, "freelancer": freelancers[0][0], "nameless": nameless}


async def test_the_benchmark_pages_are_batched_and_answer_the_same(both, db):
    # given
    people = await seed()
    before = outcomes["batched"]
    # when / then: the dashboard for its client, a freelancer, someone with no contract, nobody
    for who in ("client", "freelancer", "nameless"):
        body = await same_answer(both, DASHBOARD, token=people[who].token)
        assert "errors" not in body
    client_page = await same_answer(both, DASHBOARD, token=people["client"].token)
    edges = client_page["data"]["viewer"]["contracts"]["edges"]
    assert len(edges) == 20
    assert any(edge["node"]["milestones"] == [] for edge in edges)
    assert any(edge["node"]["events"]["edges"] == [] for edge in edges)
    assert await same_answer(both, DASHBOARD) == {"data": {"viewer": None}}
    found = await same_answer(both, SEARCH, {"query": "kestrel"})
    jobs = [edge["node"] for edge in found["data"]["jobs"]["edges"]]
    assert {job["title"] for job in jobs} >= {"kestrel hourly", "kestrel bare"}
    assert any(job["budget"] is None for job in jobs)
    assert any(job["client"]["companyName"] is None for job in jobs)
    assert any(job["skills"] == [] for job in jobs)
    # the batch path answered every one of them (the other app never counts)
    assert outcomes["batched"] - before == 6


@pytest.mark.parametrize("with_events", [True, False])
@pytest.mark.parametrize("skip_title", [True, False])
async def test_fragments_aliases_directives_and_pages_answer_the_same(
    both, db, with_events, skip_title
):
    # given
    people = await seed()
    variables = {"withEvents": with_events, "skipTitle": skip_title}
    before = outcomes["batched"]
    # when
    first = await same_answer(both, EVERYTHING, variables, token=people["client"].token)
    end = first["data"]["me"]["contracts"]["pageInfo"]["endCursor"]
    second = await same_answer(
        both, EVERYTHING, {**variables, "after": end}, token=people["client"].token
    )
    # then
    assert "errors" not in first and "errors" not in second
    assert second["data"]["me"]["contracts"]["pageInfo"]["hasPreviousPage"] is True
    assert outcomes["batched"] - before == 2


EVENTS_AFTER = """
query ($after: String) { viewer { contracts(first: 4) { nodes { title
  events(first: 2, after: $after) { nodes { id kind } pageInfo { hasNextPage } } } } } }
"""


async def test_a_nested_page_after_a_cursor_answers_the_same(both, db):
    people = await seed()
    first = await same_answer(both, EVENTS_AFTER, token=people["client"].token)
    cursors = [node["events"]["nodes"] for node in first["data"]["viewer"]["contracts"]["nodes"]]
    assert any(cursors)
    page = await same_answer(both, EVENTS_AFTER_CURSOR, token=people["client"].token)
    cursor = page["data"]["viewer"]["contracts"]["nodes"][0]["events"]["edges"][0]["cursor"]
    await same_answer(both, EVENTS_AFTER, {"after": cursor}, token=people["client"].token)


EVENTS_AFTER_CURSOR = """
{ viewer { contracts(first: 1) { nodes { events(first: 1) { edges { cursor } } } } } }
"""


@pytest.mark.parametrize(
    "query",
    [
        # fields without a batch form: graphql-core answers
        "{ viewer { contracts(first: 3) { nodes { title allowedActions canReview } } } }",
        "{ viewer { user { freelancerProfile { title } clientProfile { companyName } } } }",
        '{ node(id: "bm90aGluZw") { id } }',
        "{ __schema { queryType { name } } }",
        "{ __typename viewer { __typename } }",
        # errors: bad arguments, a cursor that is not one, a bad amount
        "{ viewer { contracts(first: 500) { nodes { title } } } }",
        '{ viewer { contracts(first: 2, after: "garbage") { nodes { title } } } }',
        "{ viewer { contracts(first: 2) { nodes { events(first: 0) { nodes { kind } } } } } }",
        "{ viewer { contracts(first: 2) { nodes { events(first: 1, last: 1) { nodes { kind } } } } } }",
        '{ feeQuote(amount: "-1") { amount } }',
        '{ job(id: "nope") { title } jobs(first: 2, filter: {query: "kestrel"}) { nodes { title } } }',
        "{ skills { name slug } }",
    ],
)
@pytest.mark.parametrize("signed_in", [True, False])
async def test_fallbacks_and_errors_answer_the_same(both, db, query, signed_in):
    people = await seed()
    await same_answer(both, query, token=people["client"].token if signed_in else None)


CONTRACT_FIELDS = [
    "id", "title", "terms", "status", "contractType", "currency", "hourlyRate",
    "weeklyLimitHours", "deadline", "escrowAmount", "paidAmount", "offerExpiresAt",
    "offeredAt", "startedAt", "endedAt", "totalAmount", "__typename",
    "job { title budget }", "client { companyName user { displayName } }",
    "freelancer { title user { displayName email } rating { count overall quality } }",
    "milestones { title amount status autoReleaseAt position }",
    "events(first: 2) { nodes { kind } pageInfo { hasNextPage } }",
]  # fmt: skip


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_random_selections_answer_the_same(both, db: Database, data: st.DataObject):
    await empty_tables(db)  # what the `db` fixture does after a test, for each example
    people = await seed()
    picked = data.draw(
        st.lists(st.sampled_from(CONTRACT_FIELDS), min_size=1, max_size=8), label="fields"
    )
    aliased = [
        f"a{index}: {name}" if data.draw(st.booleans(), label="alias") else name
        for index, name in enumerate(picked)
    ]
    size = data.draw(st.integers(1, 25), label="first")
    flag = data.draw(st.booleans(), label="include")
    query = (
        "query ($flag: Boolean!) { viewer { contracts(first: %d) { edges { node { %s "
        "... on Contract @include(if: $flag) { title } } } } } }" % (size, " ".join(aliased))
    )
    await same_answer(both, query, {"flag": flag}, token=people["client"].token)
