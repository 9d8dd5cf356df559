"""The whole product, walked once through real server processes, as two people would use it.

A client and a freelancer sign up, make profiles, meet over a job, a proposal and a live chat,
agree a fixed-price contract, move money through escrow (one milestone paid, one refunded),
end the contract and review each other. Every contract event reaches both parties live, in
order, over websockets; the wallets end with exactly what the fees say.

With TEST_DATABASE_URL and TEST_REDIS_URL set, two server processes share that PostgreSQL and
that Redis: each party's mutations go through one process and their subscriptions listen on the
other, so every delivery crosses processes. Otherwise one process on SQLite and in-memory
pub/sub plays both parts.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from tests.e2e.chat_support import execute
from tests.e2e.conftest import Server, fresh_database
from tests.services import TEST_DATABASE_URL, TEST_REDIS_URL, require_redis

PROTOCOL = "graphql-transport-ws"
DELIVERY_TIMEOUT = 10.0
StartServer = Callable[..., Awaitable[Server]]

USER_ERRORS = "userErrors { field message code }"
SIGN_UP = f"""
mutation ($input: SignUpInput!) {{
  signUp(input: $input) {{ token user {{ id }} {USER_ERRORS} }} }}"""
CREATE_CLIENT_PROFILE = f"""
mutation ($input: ClientProfileInput!) {{
  createClientProfile(input: $input) {{ profile {{ id }} {USER_ERRORS} }} }}"""
CREATE_FREELANCER_PROFILE = f"""
mutation ($input: FreelancerProfileInput!) {{
  createFreelancerProfile(input: $input) {{ profile {{ id }} {USER_ERRORS} }} }}"""
POST_JOB = f"""
mutation ($input: PostJobInput!) {{
  postJob(input: $input) {{ job {{ id status }} {USER_ERRORS} }} }}"""
SUBMIT_PROPOSAL = f"""
mutation ($input: SubmitProposalInput!) {{
  submitProposal(input: $input) {{ proposal {{ id status }} {USER_ERRORS} }} }}"""
START_INTERVIEW = f"""
mutation ($input: StartInterviewInput!) {{
  startInterview(input: $input) {{ interview {{ id lastMessage {{ body cursor }} }} {USER_ERRORS} }}
}}"""
SEND_MESSAGE = f"""
mutation ($input: SendMessageInput!) {{
  sendMessage(input: $input) {{ message {{ id body cursor }} {USER_ERRORS} }} }}"""
CONTRACT = "id status escrowAmount paidAmount totalAmount reviewDeadline interview { id }"
SEND_OFFER = f"""
mutation ($input: SendOfferInput!) {{
  sendOffer(input: $input) {{ contract {{ {CONTRACT} milestones {{ id }} }} {USER_ERRORS} }} }}"""
ACCEPT_OFFER = f"""
mutation ($input: ContractIdInput!) {{
  acceptOffer(input: $input) {{ contract {{ {CONTRACT} }} {USER_ERRORS} }} }}"""
END_CONTRACT = f"""
mutation ($input: EndContractInput!) {{
  endContract(input: $input) {{ contract {{ {CONTRACT} }} {USER_ERRORS} }} }}"""
ADD_FUNDS = f"""
mutation ($input: AddFundsInput!) {{
  addFunds(input: $input) {{ wallet {{ available inEscrow }} {USER_ERRORS} }} }}"""
MILESTONE = "milestone { id status amount contract { status escrowAmount paidAmount } }"
FUND_MILESTONE = f"""
mutation ($input: MilestoneIdInput!) {{
  fundMilestone(input: $input) {{ {MILESTONE} {USER_ERRORS} }} }}"""
SUBMIT_MILESTONE = f"""
mutation ($input: SubmitMilestoneInput!) {{
  submitMilestone(input: $input) {{ {MILESTONE} {USER_ERRORS} }} }}"""
APPROVE_MILESTONE = f"""
mutation ($input: MilestoneIdInput!) {{
  approveMilestone(input: $input) {{ {MILESTONE} {USER_ERRORS} }} }}"""
REFUND_MILESTONE = f"""
mutation ($input: MilestoneIdInput!) {{
  refundMilestone(input: $input) {{ {MILESTONE} {USER_ERRORS} }} }}"""
ADD_MILESTONE = f"""
mutation ($input: AddMilestoneInput!) {{
  addMilestone(input: $input) {{ {MILESTONE} {USER_ERRORS} }} }}"""
SUBMIT_REVIEW = f"""
mutation ($input: SubmitReviewInput!) {{
  submitReview(input: $input) {{ review {{ id overall }} {USER_ERRORS} }} }}"""
CONTRACT_REVIEWS = """
query ($id: ID!) { node(id: $id) { ... on Contract {
  reviews { id authorRole } myReview { id } canReview } } }"""
WALLET = """
{ viewer { wallet { available inEscrow currency
  transactions(first: 50) { nodes { kind amount } } } } }"""
REPUTATION = """
query ($freelancer: ID!, $client: ID!) {
  freelancer: node(id: $freelancer) { ... on FreelancerProfile {
    rating { count overall communication quality deadlines }
    jobSuccessScore completedContracts totalEarned
    reviews(first: 5) { totalCount nodes { overall comment author { displayName } } }
  } }
  client: node(id: $client) { ... on ClientProfile {
    rating { count overall communication quality deadlines }
    paymentVerified jobsPosted hires totalSpent
    reviews(first: 5) { totalCount nodes { overall comment author { displayName } } }
  } }
}"""
MESSAGE_ADDED = """
subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) { body cursor sender { displayName } }
}"""
CONTRACT_UPDATED = """
subscription {
  contractUpdated { kind status cursor contract { id } milestone { title } actor { displayName } }
}"""


# --- GraphQL over HTTP -----------------------------------------------------------------------


@dataclass
class Person:
    name: str
    token: str
    user_id: str
    via: Server  # the process this person's requests go through


async def act(person: Person, mutation: str, input: dict[str, Any]) -> dict[str, Any]:
    """A mutation by `person` through their process; its payload, which has no userErrors."""
    data = await execute(person.via, mutation, {"input": input}, token=person.token)
    (payload,) = data.values()
    assert payload["userErrors"] == [], payload
    return payload


async def ask(
    person: Person, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    return await execute(person.via, query, variables, token=person.token)


async def sign_up(server: Server, name: str) -> Person:
    payload = await act(
        Person(name, "", "", server),
        SIGN_UP,
        {
            "email": f"walk-{uuid.uuid4().hex[:10]}@example.com",
            "password": "correct-horse-battery",
            "displayName": name,
        },
    )
    return Person(name, payload["token"], payload["user"]["id"], server)


# --- graphql-transport-ws --------------------------------------------------------------------


@dataclass
class Subscription:
    name: str
    results: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)

    async def next(self) -> dict[str, Any]:
        async with asyncio.timeout(DELIVERY_TIMEOUT):
            message = await self.results.get()
        assert message["type"] == "next", message
        assert "errors" not in message["payload"], message
        return message["payload"]["data"][self.name]

    async def nothing_more(self, wait: float = 0.5) -> None:
        await asyncio.sleep(wait)
        assert self.results.empty(), self.results.get_nowait()


class Socket:
    """One authenticated graphql-transport-ws connection carrying several subscriptions."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.subscriptions: dict[str, Subscription] = {}
        self.ids = itertools.count(1)
        self.reader = asyncio.create_task(self.read())

    async def read(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            async for raw in self.connection:
                message = json.loads(raw)
                if message.get("type") == "ping":
                    await self.connection.send(json.dumps({"type": "pong"}))
                elif message.get("id") in self.subscriptions:
                    self.subscriptions[message["id"]].results.put_nowait(message)

    async def subscribe(
        self, query: str, name: str, variables: dict[str, Any] | None = None
    ) -> Subscription:
        operation_id = str(next(self.ids))
        subscription = self.subscriptions[operation_id] = Subscription(name)
        await self.connection.send(
            json.dumps(
                {
                    "id": operation_id,
                    "type": "subscribe",
                    "payload": {"query": query, "variables": variables or {}},
                }
            )
        )
        return subscription


@contextlib.asynccontextmanager
async def socket_to(server: Server, person: Person) -> AsyncIterator[Socket]:
    async with connect(server.ws_url, subprotocols=[PROTOCOL], open_timeout=10) as connection:
        await connection.send(
            json.dumps(
                {"type": "connection_init", "payload": {"authorization": f"Bearer {person.token}"}}
            )
        )
        async with asyncio.timeout(10):
            ack = json.loads(await connection.recv())
        assert ack["type"] == "connection_ack", ack
        socket = Socket(connection)
        try:
            yield socket
        finally:
            socket.reader.cancel()
            await asyncio.gather(socket.reader, return_exceptions=True)


# --- the servers -----------------------------------------------------------------------------


@pytest.fixture
async def walk_database(tmp_path: Path) -> AsyncIterator[str | None]:
    """A fresh PostgreSQL database for two processes, when PostgreSQL and Redis are set up."""
    if not (TEST_DATABASE_URL and TEST_REDIS_URL):
        yield None
        return
    require_redis()
    async with fresh_database(tmp_path / "database") as url:
        yield url


@pytest.fixture
async def servers(walk_database: str | None, start_server: StartServer) -> tuple[Server, Server]:
    # walk_database comes first: set up before the servers, dropped after they have stopped.
    if walk_database is None:
        only = await start_server()
        return only, only
    first = await start_server(walk_database)  # applies the migrations
    second = await start_server(walk_database, migrate=False)
    assert first.broadcast_url == second.broadcast_url == TEST_REDIS_URL
    return first, second


# --- the walk --------------------------------------------------------------------------------


async def test_a_client_and_a_freelancer_walk_from_sign_up_to_reviews(
    servers: tuple[Server, Server],
) -> None:
    a, b = servers
    # Each person's requests go through one process, their sockets listen on the other.
    client = await sign_up(b, "Walk Client")
    freelancer = await sign_up(a, "Walk Freelancer")
    async with socket_to(a, client) as client_socket, socket_to(b, freelancer) as freelancer_socket:
        # Subscribed first of all, to every contract of theirs (none yet).
        contract_feeds = {
            "client": await client_socket.subscribe(CONTRACT_UPDATED, "contractUpdated"),
            "freelancer": await freelancer_socket.subscribe(CONTRACT_UPDATED, "contractUpdated"),
        }
        delivered: dict[str, list[dict[str, Any]]] = {"client": [], "freelancer": []}

        async def expect(
            kind: str, status: str, *, actor: Person | None, milestone: str | None = None
        ) -> None:
            """The event reached both parties, live: before anything else happens."""
            for side, feed in contract_feeds.items():
                event = await feed.next()
                delivered[side].append(event)
                assert (
                    event["kind"],
                    event["status"],
                    event["contract"]["id"],
                    (event["milestone"] or {}).get("title"),
                    (event["actor"] or {}).get("displayName"),
                ) == (kind, status, contract_id, milestone, actor.name if actor else None), side

        # profiles
        client_profile = (
            await act(
                client,
                CREATE_CLIENT_PROFILE,
                {"companyName": "Walk & Co", "description": "We ship marketplaces."},
            )
        )["profile"]
        freelancer_profile = (
            await act(
                freelancer,
                CREATE_FREELANCER_PROFILE,
                {
                    "title": "GraphQL developer",
                    "overview": "Strawberry, Tortoise, PostgreSQL.",
                    "skills": ["python", "graphql"],
                    "hourlyRate": "60",
                },
            )
        )["profile"]

        # a job and a proposal
        job = (
            await act(
                client,
                POST_JOB,
                {
                    "title": "Build a reputation system",
                    "description": "Double-blind reviews.",
                    "skills": ["python", "graphql"],
                    "budgetType": "FIXED",
                    "budget": "500",
                    "experienceLevel": "EXPERT",
                },
            )
        )["job"]
        assert job["status"] == "OPEN"
        proposal = (
            await act(
                freelancer,
                SUBMIT_PROPOSAL,
                {
                    "jobId": job["id"],
                    "coverLetter": "I built one last year.",
                    "bidAmount": "500",
                    "estimatedDurationDays": 14,
                },
            )
        )["proposal"]

        # an interview, with a live chat
        interview = (
            await act(
                client,
                START_INTERVIEW,
                {"proposalId": proposal["id"], "message": "Hello! Can we talk about the job?"},
            )
        )["interview"]
        first = interview["lastMessage"]
        chats = [
            await socket.subscribe(
                MESSAGE_ADDED,
                "messageAdded",
                {"interviewId": interview["id"], "after": first["cursor"]},
            )
            for socket in (client_socket, freelancer_socket)
        ]
        lines = [
            (freelancer, "Of course. Fixed price, two weeks?"),
            (client, "Two weeks is fine. One milestone to start."),
            (freelancer, "Send the offer and I will accept."),
        ]
        sent = [
            (await act(sender, SEND_MESSAGE, {"interviewId": interview["id"], "body": body}))[
                "message"
            ]
            for sender, body in lines
        ]
        for chat in chats:
            received = [await chat.next() for _ in lines]
            assert [(m["sender"]["displayName"], m["body"]) for m in received] == [
                (sender.name, body) for sender, body in lines
            ]
            assert [m["cursor"] for m in received] == [m["cursor"] for m in sent]

        # the offer, accepted
        offered = (
            await act(
                client,
                SEND_OFFER,
                {
                    "proposalId": proposal["id"],
                    "title": "Reputation system",
                    "terms": "Design first, extras if needed.",
                    "contractType": "FIXED",
                    "milestones": [{"title": "Design", "amount": "300.00"}],
                },
            )
        )["contract"]
        contract_id = offered["id"]
        assert offered["interview"] == {"id": interview["id"]}  # the chat carries on
        (design_id,) = [m["id"] for m in offered["milestones"]]
        await expect("OFFER_SENT", "OFFERED", actor=client)
        accepted = (await act(freelancer, ACCEPT_OFFER, {"contractId": contract_id}))["contract"]
        assert accepted["status"] == "ACTIVE"
        await expect("OFFER_ACCEPTED", "ACTIVE", actor=freelancer)

        # money in, escrow, work, payment
        wallet = (await act(client, ADD_FUNDS, {"amount": "1000.00"}))["wallet"]
        assert wallet == {"available": "1000.00", "inEscrow": "0.00"}
        funded = (await act(client, FUND_MILESTONE, {"milestoneId": design_id}))["milestone"]
        assert (funded["status"], funded["contract"]["escrowAmount"]) == ("FUNDED", "300.00")
        await expect("MILESTONE_FUNDED", "ACTIVE", actor=client, milestone="Design")
        submitted = (
            await act(
                freelancer,
                SUBMIT_MILESTONE,
                {
                    "milestoneId": design_id,
                    "message": "Design attached.",
                    "attachmentUrls": ["https://example.com/design.pdf"],
                },
            )
        )["milestone"]
        assert submitted["status"] == "SUBMITTED"
        await expect("MILESTONE_SUBMITTED", "ACTIVE", actor=freelancer, milestone="Design")
        approved = (await act(client, APPROVE_MILESTONE, {"milestoneId": design_id}))["milestone"]
        assert (
            approved["status"],
            approved["contract"]["paidAmount"],
            approved["contract"]["escrowAmount"],
        ) == ("PAID", "300.00", "0.00")
        await expect("MILESTONE_PAID", "ACTIVE", actor=client, milestone="Design")

        # a second milestone, funded, then refunded by the freelancer
        extras = (
            await act(
                client,
                ADD_MILESTONE,
                {"contractId": contract_id, "milestone": {"title": "Extras", "amount": "200.00"}},
            )
        )["milestone"]
        await expect("MILESTONE_ADDED", "ACTIVE", actor=client, milestone="Extras")
        await act(client, FUND_MILESTONE, {"milestoneId": extras["id"]})
        await expect("MILESTONE_FUNDED", "ACTIVE", actor=client, milestone="Extras")
        refunded = (await act(freelancer, REFUND_MILESTONE, {"milestoneId": extras["id"]}))[
            "milestone"
        ]
        assert (
            refunded["status"],
            refunded["contract"]["escrowAmount"],
            refunded["contract"]["paidAmount"],
        ) == ("REFUNDED", "0.00", "300.00")
        await expect("MILESTONE_REFUNDED", "ACTIVE", actor=freelancer, milestone="Extras")

        # the end
        ended = (
            await act(client, END_CONTRACT, {"contractId": contract_id, "reason": "All done"})
        )["contract"]
        assert (ended["status"], ended["paidAmount"], ended["escrowAmount"]) == (
            "COMPLETED",
            "300.00",
            "0.00",
        )
        assert ended["reviewDeadline"] is not None
        await expect("CONTRACT_COMPLETED", "COMPLETED", actor=client)

        # reviews: hidden until both have written theirs
        client_review = (
            await act(
                client,
                SUBMIT_REVIEW,
                {
                    "contractId": contract_id,
                    "overall": 5,
                    "communication": 4,
                    "quality": 5,
                    "deadlines": 4,
                    "comment": "Excellent work, on time.",
                },
            )
        )["review"]
        await expect("REVIEW_SUBMITTED", "COMPLETED", actor=client)
        hidden = (await ask(freelancer, CONTRACT_REVIEWS, {"id": contract_id}))["node"]
        assert hidden == {"reviews": [], "myReview": None, "canReview": True}
        freelancer_review = (
            await act(
                freelancer,
                SUBMIT_REVIEW,
                {
                    "contractId": contract_id,
                    "overall": 4,
                    "communication": 5,
                    "quality": 4,
                    "deadlines": 3,
                    "comment": "Clear brief, fast payment.",
                },
            )
        )["review"]
        await expect("REVIEW_SUBMITTED", "COMPLETED", actor=freelancer)
        for feed in contract_feeds.values():
            await feed.nothing_more()

    # every event, in order, to both parties, once
    kinds = [
        "OFFER_SENT",
        "OFFER_ACCEPTED",
        "MILESTONE_FUNDED",
        "MILESTONE_SUBMITTED",
        "MILESTONE_PAID",
        "MILESTONE_ADDED",
        "MILESTONE_FUNDED",
        "MILESTONE_REFUNDED",
        "CONTRACT_COMPLETED",
        "REVIEW_SUBMITTED",
        "REVIEW_SUBMITTED",
    ]
    for side, events in delivered.items():
        assert [event["kind"] for event in events] == kinds, side
        cursors = [event["cursor"] for event in events]
        assert len(set(cursors)) == len(cursors), side
    assert [e["cursor"] for e in delivered["client"]] == [
        e["cursor"] for e in delivered["freelancer"]
    ]

    # both reviews revealed, to both parties
    for person in (client, freelancer):
        seen = (await ask(person, CONTRACT_REVIEWS, {"id": contract_id}))["node"]
        assert sorted((r["authorRole"], r["id"]) for r in seen["reviews"]) == [
            ("CLIENT", client_review["id"]),
            ("FREELANCER", freelancer_review["id"]),
        ]
        assert seen["canReview"] is False

    # wallets, to the cent: the client paid 300 + 5% and 200 + 5%, got the 200 back with
    # its 5% fee; the freelancer got 300 less 10%
    client_wallet = (await ask(client, WALLET))["viewer"]["wallet"]
    assert (client_wallet["available"], client_wallet["inEscrow"], client_wallet["currency"]) == (
        "685.00",
        "0.00",
        "USD",
    )
    assert sorted(
        (t["kind"], t["amount"]) for t in client_wallet["transactions"]["nodes"]
    ) == sorted(
        [
            ("DEPOSIT", "1000.00"),
            ("ESCROW_FUND", "-300.00"),
            ("SERVICE_FEE", "-15.00"),
            ("ESCROW_FUND", "-200.00"),
            ("SERVICE_FEE", "-10.00"),
            ("ESCROW_REFUND", "200.00"),
            ("FEE_REFUND", "10.00"),
        ]
    )
    freelancer_wallet = (await ask(freelancer, WALLET))["viewer"]["wallet"]
    assert (freelancer_wallet["available"], freelancer_wallet["inEscrow"]) == ("270.00", "0.00")
    assert sorted((t["kind"], t["amount"]) for t in freelancer_wallet["transactions"]["nodes"]) == [
        ("ESCROW_RELEASE", "300.00"),
        ("SERVICE_FEE", "-30.00"),
    ]

    # ratings and counters, as anyone sees them, through either process
    for server in (a, b):
        reputation = await execute(
            server,
            REPUTATION,
            {"freelancer": freelancer_profile["id"], "client": client_profile["id"]},
        )
        assert reputation["freelancer"] == {
            "rating": {
                "count": 1,
                "overall": 5.0,
                "communication": 4.0,
                "quality": 5.0,
                "deadlines": 4.0,
            },
            "jobSuccessScore": None,  # one ended contract: too few for a score
            "completedContracts": 1,
            "totalEarned": "300.00",
            "reviews": {
                "totalCount": 1,
                "nodes": [
                    {
                        "overall": 5,
                        "comment": "Excellent work, on time.",
                        "author": {"displayName": "Walk Client"},
                    }
                ],
            },
        }
        assert reputation["client"] == {
            "rating": {
                "count": 1,
                "overall": 4.0,
                "communication": 5.0,
                "quality": 4.0,
                "deadlines": 3.0,
            },
            "paymentVerified": True,
            "jobsPosted": 1,
            "hires": 1,
            "totalSpent": "300.00",
            "reviews": {
                "totalCount": 1,
                "nodes": [
                    {
                        "overall": 4,
                        "comment": "Clear brief, fast payment.",
                        "author": {"displayName": "Walk Freelancer"},
                    }
                ],
            },
        }
