"""Two real server processes on one PostgreSQL database, racing to release the same escrow.

Everything goes through HTTP, as a client would do it: the parties sign up, the client posts a
job, the freelancer bids, the client sends an offer and funds its milestone; then fifty approvals
arrive at once, spread over both processes. Row locks live in the database, not in a process, so
exactly one approval may pay. The ledger is then read straight from PostgreSQL with asyncpg.

Needs PostgreSQL (TEST_DATABASE_URL): skipped locally without it, failed under CI=true.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import httpx

from resolvers.ids import parse_global_id
from tests.e2e.conftest import Server

StartServer = Callable[..., Awaitable[Server]]
APPROVALS = 50

SIGN_UP = """
mutation($input: SignUpInput!) { signUp(input: $input) { token userErrors { code message } } }"""
CLIENT_PROFILE = """
mutation($input: ClientProfileInput!) {
  createClientProfile(input: $input) { profile { id } userErrors { code message } } }"""
FREELANCER_PROFILE = """
mutation($input: FreelancerProfileInput!) {
  createFreelancerProfile(input: $input) { profile { id } userErrors { code message } } }"""
POST_JOB = """
mutation($input: PostJobInput!) {
  postJob(input: $input) { job { id } userErrors { code message } } }"""
SUBMIT_PROPOSAL = """
mutation($input: SubmitProposalInput!) {
  submitProposal(input: $input) { proposal { id } userErrors { code message } } }"""
SEND_OFFER = """
mutation($input: SendOfferInput!) {
  sendOffer(input: $input) { contract { id milestones { id } } userErrors { code message } } }"""
ACCEPT_OFFER = """
mutation($input: ContractIdInput!) {
  acceptOffer(input: $input) { contract { id status } userErrors { code message } } }"""
ADD_FUNDS = """
mutation($input: AddFundsInput!) {
  addFunds(input: $input) { wallet { available } userErrors { code message } } }"""
FUND = """
mutation($input: MilestoneIdInput!) {
  fundMilestone(input: $input) { milestone { status } userErrors { code message } } }"""
APPROVE = """
mutation($input: MilestoneIdInput!) {
  approveMilestone(input: $input) {
    milestone { id status contract { escrowAmount paidAmount } }
    userErrors { field code message }
  }
}"""
WALLET = "{ viewer { wallet { available inEscrow } } }"


async def call(
    http: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    headers = {"accept": "application/graphql-response+json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    response = await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"]


async def succeed(
    http: httpx.AsyncClient,
    query: str,
    name: str,
    variables: dict[str, Any] | None = None,
    *,
    token: str | None = None,
) -> dict[str, Any]:
    payload = (await call(http, query, variables, token=token))[name]
    assert payload["userErrors"] == [], payload
    return payload


async def sign_up(http: httpx.AsyncClient, name: str) -> str:
    payload = await succeed(
        http,
        SIGN_UP,
        "signUp",
        {
            "input": {
                "email": f"{name}-{uuid.uuid4().hex[:10]}@example.com",
                "password": "correct-horse-battery",
                "displayName": name.title(),
            }
        },
    )
    return payload["token"]


async def funded_milestone(
    first: httpx.AsyncClient, second: httpx.AsyncClient
) -> tuple[str, str, str]:
    """(client token, freelancer token, milestone id): a 200.00 milestone, funded, set up
    through both processes in turn."""
    client = await sign_up(first, "client")
    freelancer = await sign_up(second, "freelancer")
    await succeed(
        first,
        CLIENT_PROFILE,
        "createClientProfile",
        {"input": {"description": "We hire.", "companyName": "Acme"}},
        token=client,
    )
    await succeed(
        second,
        FREELANCER_PROFILE,
        "createFreelancerProfile",
        {
            "input": {
                "title": "Python developer",
                "overview": "I build APIs.",
                "skills": ["python"],
                "hourlyRate": "50.00",
            }
        },
        token=freelancer,
    )
    job = (
        await succeed(
            first,
            POST_JOB,
            "postJob",
            {
                "input": {
                    "title": "Build an API",
                    "description": "REST to GraphQL",
                    "skills": ["python"],
                    "budgetType": "FIXED",
                    "budget": "500",
                    "experienceLevel": "EXPERT",
                }
            },
            token=client,
        )
    )["job"]
    proposal = (
        await succeed(
            second,
            SUBMIT_PROPOSAL,
            "submitProposal",
            {
                "input": {
                    "jobId": job["id"],
                    "coverLetter": "Hire me",
                    "bidAmount": "450",
                    "estimatedDurationDays": 10,
                }
            },
            token=freelancer,
        )
    )["proposal"]
    contract = (
        await succeed(
            first,
            SEND_OFFER,
            "sendOffer",
            {
                "input": {
                    "proposalId": proposal["id"],
                    "title": "API work",
                    "terms": "One milestone",
                    "contractType": "FIXED",
                    "milestones": [{"title": "All of it", "amount": "200.00"}],
                }
            },
            token=client,
        )
    )["contract"]
    accepted = await succeed(
        second,
        ACCEPT_OFFER,
        "acceptOffer",
        {"input": {"contractId": contract["id"]}},
        token=freelancer,
    )
    assert accepted["contract"]["status"] == "ACTIVE"
    await succeed(second, ADD_FUNDS, "addFunds", {"input": {"amount": "1000.00"}}, token=client)
    [milestone] = contract["milestones"]
    funded = await succeed(
        first, FUND, "fundMilestone", {"input": {"milestoneId": milestone["id"]}}, token=client
    )
    assert funded["milestone"]["status"] == "FUNDED"
    return client, freelancer, milestone["id"]


async def ledger_problems(database_url: str) -> list[str]:
    """The ledger's invariants, checked in SQL against the servers' database."""
    problems: list[str] = []
    connection = await asyncpg.connect(database_url)
    try:
        unbalanced = await connection.fetch(
            "SELECT entry_id, SUM(amount_cents) AS total FROM postings GROUP BY entry_id "
            "HAVING SUM(amount_cents) <> 0"
        )
        problems += [f"entry {row['entry_id']} sums to {row['total']}" for row in unbalanced]
        total = await connection.fetchval("SELECT COALESCE(SUM(amount_cents), 0) FROM postings")
        if total != 0:
            problems.append(f"all postings sum to {total}")
        accounts = await connection.fetch(
            "SELECT a.key, a.balance_cents, COALESCE(SUM(p.amount_cents), 0) AS posted, "
            "       COALESCE(MIN(p.balance_after_cents), 0) AS lowest "
            "FROM accounts a LEFT JOIN postings p ON p.account_id = a.id GROUP BY a.id"
        )
        for row in accounts:
            if row["balance_cents"] != row["posted"]:
                problems.append(
                    f"{row['key']}: cached {row['balance_cents']} != postings {row['posted']}"
                )
            if (
                row["key"].startswith(("wallet:", "escrow:"))
                and min(row["balance_cents"], row["lowest"]) < 0
            ):
                problems.append(f"{row['key']} went below zero")
        escrows = await connection.fetch(
            "SELECT c.id, c.funded_cents - c.paid_cents - c.refunded_cents AS expected, "
            "       COALESCE(a.balance_cents, 0) AS held "
            "FROM contracts c LEFT JOIN accounts a ON a.key = 'escrow:' || c.id::text"
        )
        problems += [
            f"contract {row['id']}: escrow {row['held']} != {row['expected']}"
            for row in escrows
            if row["held"] != row["expected"]
        ]
    finally:
        await connection.close()
    return problems


async def test_fifty_approvals_across_two_processes_pay_once(
    start_server: StartServer, shared_database: str
) -> None:
    # given two processes on one database (the first applies the migrations)
    first = await start_server(shared_database)
    second = await start_server(shared_database, migrate=False)
    limits = httpx.Limits(max_connections=APPROVALS, max_keepalive_connections=APPROVALS)
    async with (
        httpx.AsyncClient(base_url=first.http_url, timeout=60, limits=limits) as one,
        httpx.AsyncClient(base_url=second.http_url, timeout=60, limits=limits) as two,
    ):
        client, freelancer, milestone_id = await funded_milestone(one, two)
        variables = {"input": {"milestoneId": milestone_id}}

        # when fifty approvals arrive at once, half at each process
        results = await asyncio.gather(
            *(
                call(one if index % 2 else two, APPROVE, variables, token=client)
                for index in range(APPROVALS)
            )
        )

        # then exactly one pays, and the others are told the milestone is no longer payable
        payloads = [result["approveMilestone"] for result in results]
        paid = [payload for payload in payloads if payload["milestone"] is not None]
        refused = [payload for payload in payloads if payload["milestone"] is None]
        assert len(paid) == 1, paid
        assert paid[0]["userErrors"] == []
        assert paid[0]["milestone"]["status"] == "PAID"
        assert paid[0]["milestone"]["contract"] == {"escrowAmount": "0.00", "paidAmount": "200.00"}
        assert len(refused) == APPROVALS - 1
        assert [[error["code"] for error in payload["userErrors"]] for payload in refused] == [
            ["INVALID_STATE"]
        ] * (APPROVALS - 1), refused

        # and both processes show the same, exact balances
        for http in (one, two):
            client_wallet = (await call(http, WALLET, token=client))["viewer"]["wallet"]
            assert client_wallet == {"available": "790.00", "inEscrow": "0.00"}  # 200 + 5%
            freelancer_wallet = (await call(http, WALLET, token=freelancer))["viewer"]["wallet"]
            assert freelancer_wallet["available"] == "180.00"  # 200 - 10%

    # and the ledger in the database holds together
    assert await ledger_problems(shared_database) == []
    milestone = parse_global_id(milestone_id)
    assert milestone is not None and milestone[0] == "Milestone"
    connection = await asyncpg.connect(shared_database)
    try:
        settled = await connection.fetchval(
            "SELECT COUNT(*) FROM journal_entries WHERE unique_key = $1", f"settle:{milestone[1]}"
        )
        released = await connection.fetchval(
            "SELECT COUNT(*) FROM journal_entries WHERE kind = 'ESCROW_RELEASE'"
        )
        balances = dict(
            await connection.fetch("SELECT kind, SUM(balance_cents) FROM accounts GROUP BY kind")
        )
    finally:
        await connection.close()
    assert (settled, released) == (1, 1)
    assert balances == {
        "WALLET": 79000 + 18000,
        "ESCROW": 0,
        "PLATFORM": 1000 + 2000,
        "EXTERNAL": -100000,
    }
    for server in (first, second):
        assert "Traceback" not in server.log(), server.log()
