"""contractUpdated and milestoneUpdated against a real server process over real websockets.

Everything goes over HTTP (sign-up, profiles, job, proposal, offer, money) and
graphql-transport-ws. Runs on SQLite with in-process pub/sub, or on PostgreSQL and Redis when
TEST_DATABASE_URL and TEST_REDIS_URL are set.

A contractUpdated subscription is known to be live once it has replayed an event (it is opened
with `after` just before the newest one); milestoneUpdated has no replay, so it is known to be
live once a probe milestone added after subscribing has come through. The tests never sleep to
wait for a subscription.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, replace
from typing import Any

from tests.e2e.chat_support import (
    CREATE_CLIENT_PROFILE,
    CREATE_FREELANCER_PROFILE,
    DELIVERY_TIMEOUT,
    POST_JOB,
    SUBMIT_PROPOSAL,
    Operation,
    Party,
    Socket,
    assert_refused,
    execute,
    log_in,
    mutate,
    sign_up,
    socket_to,
)
from tests.e2e.conftest import Server

CONTRACT_UPDATED = """
subscription ($contractId: ID, $after: String) {
  contractUpdated(contractId: $contractId, after: $after) {
    id kind status cursor createdAt
    contract { id }
    milestone { id }
    actor { id }
  }
}"""
MILESTONE_UPDATED = """
subscription ($contractId: ID) {
  milestoneUpdated(contractId: $contractId) {
    id title status amount position fundedAt submittedAt paidAt autoReleaseAt
    contract { id }
  }
}"""
SEND_OFFER = """
mutation ($input: SendOfferInput!) {
  sendOffer(input: $input) {
    contract { id status milestones { id title } }
    userErrors { field message code }
  }
}"""
CONTRACT_ID_MUTATION = """
mutation ($input: %s!) {
  %s(input: $input) { contract { id status } userErrors { field message code } }
}"""
MILESTONE_MUTATION = """
mutation ($input: %s!) {
  %s(input: $input) { milestone { id status } userErrors { field message code } }
}"""
ADD_MILESTONE = """
mutation ($input: AddMilestoneInput!) {
  addMilestone(input: $input) { milestone { id title } userErrors { field message code } }
}"""
ADD_FUNDS = """
mutation ($input: AddFundsInput!) {
  addFunds(input: $input) { wallet { available } userErrors { field message code } }
}"""
EVENTS = """
query ($id: ID!) { node(id: $id) { ... on Contract {
  events(first: 100) { nodes { id kind cursor } } } } }"""


@dataclass
class Deal:
    """A contract between a client and a freelancer, made over HTTP."""

    client: Party
    freelancer: Party
    contract_id: str
    milestone_ids: list[str]


async def make_parties(server: Server) -> tuple[Party, Party]:
    client, freelancer = await asyncio.gather(
        sign_up(server, "Deal Client"), sign_up(server, "Deal Freelancer")
    )
    await asyncio.gather(
        mutate(
            server,
            CREATE_CLIENT_PROFILE,
            {"description": "We hire.", "companyName": "Acme"},
            token=client.token,
        ),
        mutate(
            server,
            CREATE_FREELANCER_PROFILE,
            {
                "title": "API developer",
                "overview": "GraphQL.",
                "skills": ["python"],
                "hourlyRate": "50",
            },
            token=freelancer.token,
        ),
        mutate(server, ADD_FUNDS, {"amount": "1000.00"}, token=client.token),
    )
    return client, freelancer


async def make_deal(
    server: Server,
    client: Party,
    freelancer: Party,
    *,
    amounts: tuple[str, ...] = ("100.00",),
    accept: bool = True,
) -> Deal:
    job = (
        await mutate(
            server,
            POST_JOB,
            {
                "title": f"Contract work {uuid.uuid4().hex[:6]}",
                "description": "An API.",
                "skills": ["python"],
                "budgetType": "FIXED",
                "budget": "100",
                "experienceLevel": "ENTRY",
            },
            token=client.token,
        )
    )["job"]
    proposal = (
        await mutate(
            server,
            SUBMIT_PROPOSAL,
            {"jobId": job["id"], "coverLetter": "Me.", "bidAmount": "90"},
            token=freelancer.token,
        )
    )["proposal"]
    contract = (
        await mutate(
            server,
            SEND_OFFER,
            {
                "proposalId": proposal["id"],
                "title": "API work",
                "terms": "Milestones",
                "contractType": "FIXED",
                "milestones": [
                    {"title": f"Part {i + 1}", "amount": amount} for i, amount in enumerate(amounts)
                ],
            },
            token=client.token,
        )
    )["contract"]
    if accept:
        await contract_move(server, "acceptOffer", contract["id"], freelancer)
    return Deal(
        client=client,
        freelancer=freelancer,
        contract_id=contract["id"],
        milestone_ids=[m["id"] for m in contract["milestones"]],
    )


async def contract_move(
    server: Server, name: str, contract_id: str, party: Party
) -> dict[str, Any]:
    input_type = "EndContractInput" if name == "endContract" else "ContractIdInput"
    return (
        await mutate(
            server,
            CONTRACT_ID_MUTATION % (input_type, name),
            {"contractId": contract_id},
            token=party.token,
        )
    )["contract"]


async def milestone_move(
    server: Server, name: str, milestone_id: str, party: Party, **fields: Any
) -> dict[str, Any]:
    input_type = {
        "submitMilestone": "SubmitMilestoneInput",
        "requestMilestoneChanges": "RequestMilestoneChangesInput",
    }.get(name, "MilestoneIdInput")
    return (
        await mutate(
            server,
            MILESTONE_MUTATION % (input_type, name),
            {"milestoneId": milestone_id, **fields},
            token=party.token,
        )
    )["milestone"]


async def events_of(server: Server, deal: Deal) -> list[dict[str, Any]]:
    data = await execute(server, EVENTS, {"id": deal.contract_id}, token=deal.client.token)
    return data["node"]["events"]["nodes"]


async def live_contract_updates(
    socket: Socket, server: Server, deal: Deal, contract_id: str | None = "deal"
) -> Operation:
    """contractUpdated opened with `after` the contract's next-to-last event: the replay of
    its last event proves it live. `contract_id=None` subscribes to all the viewer's
    contracts."""
    *_, previous, latest = await events_of(server, deal)
    operation = await socket.subscribe(
        CONTRACT_UPDATED,
        {
            "contractId": deal.contract_id if contract_id == "deal" else contract_id,
            "after": previous["cursor"],
        },
    )
    [replayed] = await operation.take(1, "contractUpdated")
    assert (replayed["id"], replayed["cursor"]) == (latest["id"], latest["cursor"])
    return operation


# --- contractUpdated ------------------------------------------------------------------------


async def test_contract_updated_delivers_a_contracts_events_live_in_order(server: Server) -> None:
    # given a freelancer and a client, each subscribed to the contract
    client, freelancer = await make_parties(server)
    deal = await make_deal(server, client, freelancer)
    [milestone_id] = deal.milestone_ids
    async with (
        socket_to(server, freelancer.token) as freelancer_socket,
        socket_to(server, client.token) as client_socket,
    ):
        for_freelancer = await live_contract_updates(freelancer_socket, server, deal)
        for_client = await live_contract_updates(client_socket, server, deal)
        # when the milestone is funded, submitted, approved and the contract ends
        await milestone_move(server, "fundMilestone", milestone_id, client)
        await milestone_move(server, "submitMilestone", milestone_id, freelancer, message="Done")
        await milestone_move(server, "approveMilestone", milestone_id, client)
        await contract_move(server, "endContract", deal.contract_id, client)
        # then both receive every event, in order, as stored
        live = {
            name: await operation.take(4, "contractUpdated")
            for name, operation in (("freelancer", for_freelancer), ("client", for_client))
        }
        await for_freelancer.nothing_more()
        await for_client.nothing_more()
    stored = (await events_of(server, deal))[-4:]
    assert live["freelancer"] == live["client"]
    events = live["freelancer"]
    assert [(e["id"], e["kind"], e["cursor"]) for e in events] == [
        (e["id"], e["kind"], e["cursor"]) for e in stored
    ]
    assert [(e["kind"], e["status"], e["actor"]["id"], e["milestone"]) for e in events] == [
        ("MILESTONE_FUNDED", "ACTIVE", client.user_id, {"id": milestone_id}),
        ("MILESTONE_SUBMITTED", "ACTIVE", freelancer.user_id, {"id": milestone_id}),
        ("MILESTONE_PAID", "ACTIVE", client.user_id, {"id": milestone_id}),
        ("CONTRACT_COMPLETED", "COMPLETED", client.user_id, None),
    ]
    assert all(e["contract"] == {"id": deal.contract_id} for e in events)


async def test_contract_updated_without_a_contract_follows_all_of_the_viewers_contracts(
    server: Server,
) -> None:
    # given a freelancer with one contract, subscribed to all of theirs
    client, freelancer = await make_parties(server)
    first = await make_deal(server, client, freelancer)
    strangers = await make_parties(server)
    unrelated = await make_deal(server, *strangers)
    async with socket_to(server, freelancer.token) as socket:
        everything = await live_contract_updates(socket, server, first, contract_id=None)
        # when: the first contract moves, someone else's contract moves, a second contract
        # is offered to the freelancer and accepted, and the first moves again
        await contract_move(server, "pauseContract", first.contract_id, client)
        await milestone_move(server, "fundMilestone", unrelated.milestone_ids[0], strangers[0])
        second = await make_deal(server, client, freelancer, amounts=("50.00",))
        await contract_move(server, "resumeContract", first.contract_id, client)
        # then the freelancer receives every event of theirs, and only those, in order
        live = await everything.take(4, "contractUpdated")
        await everything.nothing_more()
    assert [(e["contract"]["id"], e["kind"], e["status"]) for e in live] == [
        (first.contract_id, "CONTRACT_PAUSED", "PAUSED"),
        (second.contract_id, "OFFER_SENT", "OFFERED"),
        (second.contract_id, "OFFER_ACCEPTED", "ACTIVE"),
        (first.contract_id, "CONTRACT_RESUMED", "ACTIVE"),
    ]
    assert len({e["cursor"] for e in live}) == 4


async def test_after_replays_what_was_missed_across_a_disconnect(server: Server) -> None:
    # given a client subscribed to a contract with two milestones
    client, freelancer = await make_parties(server)
    deal = await make_deal(server, client, freelancer, amounts=("100.00", "40.00"))
    first, second = deal.milestone_ids
    async with socket_to(server, client.token) as socket:
        operation = await live_contract_updates(socket, server, deal)
        await milestone_move(server, "fundMilestone", first, client)
        await milestone_move(server, "fundMilestone", second, client)
        before = await operation.take(2, "contractUpdated")
    # when, while the client is away, the freelancer works and refunds
    await milestone_move(server, "submitMilestone", first, freelancer, message="Done")
    await milestone_move(server, "refundMilestone", second, freelancer)
    # then reconnecting after the last event seen replays exactly what was missed, then live
    async with socket_to(server, client.token) as socket:
        operation = await socket.subscribe(
            CONTRACT_UPDATED, {"contractId": deal.contract_id, "after": before[-1]["cursor"]}
        )
        missed = await operation.take(2, "contractUpdated")
        await milestone_move(server, "approveMilestone", first, client)
        [live] = await operation.take(1, "contractUpdated")
        await operation.nothing_more()
    received = [*before, *missed, live]
    assert [(e["kind"], e["milestone"]) for e in received] == [
        ("MILESTONE_FUNDED", {"id": first}),
        ("MILESTONE_FUNDED", {"id": second}),
        ("MILESTONE_SUBMITTED", {"id": first}),
        ("MILESTONE_REFUNDED", {"id": second}),
        ("MILESTONE_PAID", {"id": first}),
    ]
    stored = await events_of(server, deal)
    assert [e["id"] for e in received] == [e["id"] for e in stored[-5:]]  # no gap
    assert len({e["id"] for e in received}) == 5  # no duplicate


# --- milestoneUpdated -----------------------------------------------------------------------


def is_probe(milestone: dict[str, Any]) -> bool:
    return milestone["title"].startswith("Probe")


async def live_milestone_updates(
    socket: Socket, server: Server, deal: Deal, contract_id: str | None
) -> Operation:
    """milestoneUpdated has no replay: add probe milestones until one comes through (then the
    subscription is live). Probes that come later are skipped by `milestones_from`."""
    operation = await socket.subscribe(MILESTONE_UPDATED, {"contractId": contract_id})
    for attempt in range(50):
        await mutate(
            server,
            ADD_MILESTONE,
            {
                "contractId": deal.contract_id,
                "milestone": {"title": f"Probe {attempt}", "amount": "5.00"},
            },
            token=deal.client.token,
        )
        try:
            message = await operation.next_data(timeout=0.5)
        except TimeoutError:
            continue
        assert is_probe(message["milestoneUpdated"]), message
        return operation
    raise AssertionError("milestoneUpdated never went live")


async def milestones_from(operation: Operation, count: int) -> list[dict[str, Any]]:
    """The next `count` milestones that are not probes (each stream also sees the probes
    added to prove the other streams live)."""
    found: list[dict[str, Any]] = []
    async with asyncio.timeout(DELIVERY_TIMEOUT):
        while len(found) < count:
            milestone = (await operation.next_data())["milestoneUpdated"]
            if not is_probe(milestone):
                found.append(milestone)
    return found


async def test_milestone_updated_sends_the_milestone_after_each_change(server: Server) -> None:
    # given the freelancer subscribed to the contract's milestones, and the client to all of
    # theirs
    client, freelancer = await make_parties(server)
    deal = await make_deal(server, client, freelancer, amounts=("120.00",))
    [milestone_id] = deal.milestone_ids
    async with (
        socket_to(server, freelancer.token) as freelancer_socket,
        socket_to(server, client.token) as client_socket,
    ):
        one = await live_milestone_updates(freelancer_socket, server, deal, deal.contract_id)
        every = await live_milestone_updates(client_socket, server, deal, None)
        # when
        await milestone_move(server, "fundMilestone", milestone_id, client)
        await milestone_move(server, "submitMilestone", milestone_id, freelancer, message="Done")
        await milestone_move(server, "approveMilestone", milestone_id, client)
        # then each subscriber receives the milestone as it is after each change, once
        received = {
            name: await milestones_from(operation, 3)
            for name, operation in (("one", one), ("every", every))
        }
        await one.nothing_more()
        await every.nothing_more()
    assert received["one"] == received["every"]
    funded, submitted, paid = received["one"]
    assert all(
        (m["id"], m["title"], m["amount"], m["position"], m["contract"])
        == (milestone_id, "Part 1", "120.00", 1, {"id": deal.contract_id})
        for m in (funded, submitted, paid)
    )
    assert [m["status"] for m in (funded, submitted, paid)] == ["FUNDED", "SUBMITTED", "PAID"]
    assert funded["fundedAt"] and funded["submittedAt"] is None and funded["paidAt"] is None
    assert submitted["submittedAt"] and submitted["autoReleaseAt"]
    assert paid["paidAt"] and paid["autoReleaseAt"] is None


# --- who may subscribe ----------------------------------------------------------------------


async def test_a_strangers_subscription_to_a_contract_is_not_found(server: Server) -> None:
    client, freelancer = await make_parties(server)
    deal = await make_deal(server, client, freelancer)
    stranger = await sign_up(server, "Stranger")
    async with socket_to(server, stranger.token) as socket:
        await assert_refused(
            await socket.subscribe(CONTRACT_UPDATED, {"contractId": deal.contract_id}), "NOT_FOUND"
        )
        await assert_refused(
            await socket.subscribe(MILESTONE_UPDATED, {"contractId": deal.contract_id}), "NOT_FOUND"
        )
        # a milestone's ID is not a contract's
        await assert_refused(
            await socket.subscribe(CONTRACT_UPDATED, {"contractId": deal.milestone_ids[0]}),
            "NOT_FOUND",
        )
        # and the stranger's own all-contracts stream hears nothing of this contract (a
        # negative check: it holds whether or not the stream is live yet)
        everything = await socket.subscribe(CONTRACT_UPDATED, {})
        await contract_move(server, "pauseContract", deal.contract_id, client)
        await everything.nothing_more(wait=DELIVERY_TIMEOUT / 5)
    async with socket_to(server, None) as socket:
        await assert_refused(
            await socket.subscribe(CONTRACT_UPDATED, {"contractId": deal.contract_id}),
            "UNAUTHENTICATED",
        )


async def test_log_out_ends_the_contract_subscriptions_of_that_token_only(server: Server) -> None:
    # given the client signed in twice, following the contract and its milestones on each token
    client, freelancer = await make_parties(server)
    deal = await make_deal(server, client, freelancer)
    other_token = await log_in(server, client)
    other = replace(client, token=other_token)
    async with (
        socket_to(server, client.token) as revoked_socket,
        socket_to(server, other_token) as other_socket,
    ):
        revoked_events = await live_contract_updates(revoked_socket, server, deal)
        other_events = await live_contract_updates(
            other_socket, server, replace(deal, client=other)
        )
        revoked_milestones = await live_milestone_updates(
            revoked_socket, server, deal, deal.contract_id
        )
        # when the first token logs out
        assert await execute(server, "mutation { logOut { ok } }", token=client.token) == {
            "logOut": {"ok": True}
        }
        # then both of its streams end
        for operation in (revoked_events, revoked_milestones):
            while (message := await operation.next_message())["type"] == "next":
                # what the probe milestones added before the logout sent may still be on its way
                data = message["payload"]["data"]
                assert (
                    is_probe(data["milestoneUpdated"])
                    if "milestoneUpdated" in data
                    else data["contractUpdated"]["kind"] == "MILESTONE_ADDED"
                ), message
            assert message["type"] in ("complete", "error"), message
        # while the other token's stream goes on
        await contract_move(server, "pauseContract", deal.contract_id, other)
        while (paused := (await other_events.take(1, "contractUpdated"))[0])[
            "kind"
        ] == "MILESTONE_ADDED":
            pass  # a probe milestone's, added while the other streams went live
        assert (paused["kind"], paused["status"]) == ("CONTRACT_PAUSED", "PAUSED")
        # and the revoked token cannot subscribe again
        await assert_refused(
            await revoked_socket.subscribe(CONTRACT_UPDATED, {"contractId": deal.contract_id}),
            "UNAUTHENTICATED",
        )
        await assert_refused(
            await revoked_socket.subscribe(MILESTONE_UPDATED, {"contractId": deal.contract_id}),
            "UNAUTHENTICATED",
        )
