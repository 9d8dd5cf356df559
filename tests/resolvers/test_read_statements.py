"""The read pages of the HTTP benchmark (tests/benchmarks/bench_http.py) cost the same number of
SQL statements whatever the size of the lists behind them."""

from __future__ import annotations

import uuid
from datetime import timedelta

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
from models.jobs.orm import Job, JobStatus
from models.profiles.orm import ClientProfile
from models.users.actions import Session
from tests.conftest import count_statements
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


async def contracts_of(client: Session, profile: ClientProfile, count: int) -> None:
    """`count` contracts, each with its own freelancer, 3 milestones and 5 events."""
    now = utc_now()
    for index in range(count):
        freelancer, freelancer_profile = await make_freelancer()
        job = await Job.create(**job_fields(profile.id, f"Job {index}", status=JobStatus.FILLED))
        contract = await Contract.create(
            created_at=now - timedelta(minutes=index),
            job_id=job.id,
            client_id=profile.id,
            freelancer_id=freelancer_profile.id,
            client_user_id=client.user.id,
            freelancer_user_id=freelancer.user.id,
            title=f"Contract {index}",
            terms="t",
            contract_type=ContractType.FIXED,
            status=ContractStatus.ACTIVE,
        )
        await Milestone.bulk_create(
            [
                Milestone(
                    id=uuid.uuid4(),
                    contract_id=contract.id,
                    position=position,
                    title=f"M{position}",
                    amount_cents=5_000,
                    status=MilestoneStatus.SUBMITTED,
                    auto_release_at=now + timedelta(days=14),
                )
                for position in range(3)
            ]
        )
        await ContractEvent.bulk_create(
            [
                ContractEvent(
                    contract_id=contract.id,
                    kind=ContractEventKind.MILESTONE_ADDED,
                    status=ContractStatus.ACTIVE,
                )
                for _ in range(5)
            ]
        )


async def test_the_dashboard_costs_the_same_statements_for_3_and_30_contracts(gql, db):
    counts, sizes = [], []
    for count in (3, 30):
        # given: a client with `count` contracts
        client, profile = await make_client()
        await contracts_of(client, profile, count)
        # when
        with count_statements() as counter:
            data = await gql.execute(DASHBOARD, token=client.token)
        # then
        edges = data["viewer"]["contracts"]["edges"]
        sizes.append(len(edges))
        assert all(len(edge["node"]["milestones"]) == 3 for edge in edges)
        assert all(len(edge["node"]["events"]["edges"]) == 3 for edge in edges)
        counts.append(counter.count)
    assert sizes == [3, 20]
    if db.backend == "postgres":
        # the token, and one statement for the page with every contract's subtree as JSON
        assert counts == [2, 2]
    else:
        # the token, the page, freelancers with their users, milestones, first events
        assert counts == [5, 5]


async def test_job_search_costs_the_same_statements_for_3_and_30_matches(gql, db):
    counts, sizes = [], []
    for word, count in (("kestrel", 3), ("condor", 30)):
        # given: `count` jobs with the word, from as many clients, with skills
        for index in range(count):
            client, _ = await make_client(company_name=f"Co {index}")
            await make_job(client, title=f"{word} {index}", skills=["python", "docker"])
        # when
        with count_statements() as counter:
            data = await gql.execute(SEARCH, {"query": word})
        # then
        edges = data["jobs"]["edges"]
        sizes.append(len(edges))
        assert all(len(edge["node"]["skills"]) == 2 for edge in edges)
        counts.append(counter.count)
    assert sizes == [3, 20]
    # on PostgreSQL one statement for the page with its jobs' clients and skills as JSON;
    # elsewhere the page, the clients, the skills
    assert counts == ([1, 1] if db.backend == "postgres" else [3, 3])


async def test_a_search_with_new_words_is_the_same_statement_with_other_parameters(gql, db):
    # given: jobs with two different words
    client, _ = await make_client()
    await make_job(client, title="kestrel survey")
    await make_job(client, title="condor survey")
    statements = []
    for word in ("kestrel", "condor"):
        # when: each is searched
        with count_statements() as counter:
            data = await gql.execute(SEARCH, {"query": word})
        # then: each finds its job
        assert [edge["node"]["title"] for edge in data["jobs"]["edges"]] == [f"{word} survey"]
        statements.append([message.rpartition(": [") for message in counter.statements])
    if db.backend == "postgres":
        # the words are a parameter of one statement text: a search never asked before is not
        # a new statement for the driver to prepare and the database to parse
        (kestrel_text, _, kestrel_values), (condor_text, _, condor_values) = (
            found for (found,) in statements
        )
        assert kestrel_text == condor_text
        assert "kestrel" not in kestrel_text and "'kestrel:*'" in kestrel_values
        assert "'condor:*'" in condor_values
