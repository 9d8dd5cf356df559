"""Offers, contracts, escrow, hours, disputes and wallets through the GraphQL API over HTTP.

Scenes are set up through the model actions (tests/contracts_factory.py); everything under test
goes through `gql`. The ledger's invariants are checked after every test.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from models.base import utc_now
from models.contracts.orm import Contract, ContractStatus
from models.payments.orm import JournalEntry
from models.scheduler import run_due
from tests.factories import make_client, make_freelancer, make_user
from tests.ledger import assert_ledger_invariants
from tests.resolvers.contracts_support import (
    Scene,
    call,
    codes_of,
    contract_as,
    errors_of,
    gid,
    make_scene,
    milestone_as,
    ok,
    refused,
    wallet_of,
)
from tests.resolvers.marketplace_support import make_job, make_proposal

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(autouse=True)
async def ledger_holds(db):
    yield
    await assert_ledger_invariants()


async def offer_scene() -> tuple[Any, Any, Any, str]:
    """A client, a freelancer who proposed on the client's job: (client, freelancer, job,
    proposal global id)."""
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    job = await make_job(client)
    proposal = await make_proposal(freelancer, job)
    return client, freelancer, job, gid("Proposal", proposal.id)


def fixed_offer(proposal_id: str, *amounts: str, **fields: Any) -> dict[str, Any]:
    return {
        "proposalId": proposal_id,
        "title": "Build the API",
        "terms": "As discussed",
        "contractType": "FIXED",
        "milestones": [
            {"title": f"Part {i + 1}", "amount": amount}
            for i, amount in enumerate(amounts or ("100.00",))
        ],
        **fields,
    }


def hourly_offer(proposal_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "proposalId": proposal_id,
        "title": "Hourly help",
        "terms": "Weekly",
        "contractType": "HOURLY",
        "hourlyRate": "40.00",
        "weeklyLimitHours": 10,
        **fields,
    }


# ---------------------------------------------------------------- sending offers

M = ["input", "milestones"]
INVALID_OFFERS = [
    pytest.param(
        lambda p: fixed_offer(p, "10.00", "4.99"),
        [*M, "1", "amount"],
        id="second-milestone-below-5",
    ),
    pytest.param(lambda p: fixed_offer(p, "0"), [*M, "0", "amount"], id="zero-milestone"),
    pytest.param(lambda p: fixed_offer(p, "-5"), [*M, "0", "amount"], id="negative-milestone"),
    pytest.param(
        lambda p: fixed_offer(p, "10.00", "20.00", "5.001"),
        [*M, "2", "amount"],
        id="three-decimals",
    ),
    pytest.param(
        lambda p: {**fixed_offer(p), "milestones": [{"title": " ", "amount": "10"}]},
        [*M, "0", "title"],
        id="blank-milestone-title",
    ),
    pytest.param(lambda p: {**fixed_offer(p), "milestones": []}, M, id="no-milestones"),
    pytest.param(lambda p: {**fixed_offer(p), "milestones": None}, M, id="null-milestones"),
    pytest.param(
        lambda p: fixed_offer(p, "10.00", hourlyRate="30.00"),
        ["input", "hourlyRate"],
        id="fixed-with-rate",
    ),
    pytest.param(lambda p: fixed_offer(p, *["10.00"] * 21), M, id="too-many-milestones"),
    pytest.param(lambda p: fixed_offer(p, title=""), ["input", "title"], id="blank-title"),
    pytest.param(lambda p: fixed_offer(p, terms="  "), ["input", "terms"], id="blank-terms"),
    pytest.param(
        lambda p: fixed_offer(p, deadline=(utc_now().date() - timedelta(days=2)).isoformat()),
        ["input", "deadline"],
        id="deadline-in-the-past",
    ),
    pytest.param(
        lambda p: hourly_offer(p, hourlyRate=None),
        ["input", "hourlyRate"],
        id="hourly-without-rate",
    ),
    pytest.param(
        lambda p: hourly_offer(p, hourlyRate="0"), ["input", "hourlyRate"], id="hourly-zero-rate"
    ),
    pytest.param(
        lambda p: hourly_offer(p, weeklyLimitHours=None),
        ["input", "weeklyLimitHours"],
        id="hourly-without-limit",
    ),
    pytest.param(
        lambda p: hourly_offer(p, weeklyLimitHours=0),
        ["input", "weeklyLimitHours"],
        id="hourly-zero-limit",
    ),
    pytest.param(
        lambda p: hourly_offer(p, weeklyLimitHours=81),
        ["input", "weeklyLimitHours"],
        id="hourly-limit-over-80",
    ),
    pytest.param(
        lambda p: hourly_offer(p, milestones=[{"title": "A", "amount": "10"}]),
        M,
        id="hourly-with-milestones",
    ),
]


@pytest.mark.parametrize(("build", "field"), INVALID_OFFERS)
async def test_send_offer_validation(gql, build, field):
    client, _, _, proposal_id = await offer_scene()
    payload = await call(gql, "sendOffer", build(proposal_id), client)
    assert payload["contract"] is None
    assert errors_of(payload) == [(field, "VALIDATION")]
    assert await Contract.all().count() == 0


async def test_send_offer_to_a_proposal_the_client_does_not_own_is_not_found(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    other_client, _ = await make_client(company_name="Other")
    not_found = [(["input", "proposalId"], "NOT_FOUND")]
    for session, input in [
        (other_client, fixed_offer(proposal_id)),  # someone else's job
        (freelancer, fixed_offer(proposal_id)),  # the proposer cannot hire themself
        (client, fixed_offer(gid("Proposal", "00000000-0000-4000-8000-000000000000"))),
        (client, fixed_offer(gid("Job", "00000000-0000-4000-8000-000000000000"))),
        (client, fixed_offer("garbage")),
    ]:
        payload = await call(gql, "sendOffer", input, session)
        assert errors_of(payload) == not_found, input["proposalId"]
    assert await Contract.all().count() == 0


async def test_send_offer_creates_the_offer_and_notifies_the_freelancer(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    before = utc_now()
    # when
    payload = await ok(gql, "sendOffer", fixed_offer(proposal_id, "100.00", "250.50"), client)
    # then
    contract = payload["contract"]
    assert (
        contract["status"],
        contract["contractType"],
        contract["totalAmount"],
        contract["escrowAmount"],
        contract["paidAmount"],
    ) == ("OFFERED", "FIXED", "350.50", "0.00", "0.00")
    assert [
        (m["position"], m["title"], m["amount"], m["status"], m["allowedActions"])
        for m in contract["milestones"]
    ] == [(1, "Part 1", "100.00", "PENDING", []), (2, "Part 2", "250.50", "PENDING", [])]
    assert contract["allowedActions"] == ["WITHDRAW_OFFER"]
    expires = contract["offerExpiresAt"]
    assert (before + timedelta(days=7)).isoformat()[:16] <= expires[:16]
    as_freelancer = await contract_as(gql, contract["id"], freelancer)
    assert as_freelancer["allowedActions"] == ["ACCEPT_OFFER", "DECLINE_OFFER"]
    notes = await gql.execute(
        """{ viewer { unreadNotificationCount notifications(first: 5) {
        nodes { kind title subject { __typename id } } } } }""",
        token=freelancer.token,
    )
    [note] = [n for n in notes["viewer"]["notifications"]["nodes"] if n["kind"] == "OFFER_RECEIVED"]
    assert note["subject"] == {"__typename": "Contract", "id": contract["id"]}
    assert "Build the API" in note["title"]
    # one live offer per proposal
    again = await call(gql, "sendOffer", fixed_offer(proposal_id), client)
    assert codes_of(again) == ["ALREADY_EXISTS"]


async def test_an_hourly_offer_carries_its_rate_and_limit(gql):
    client, _freelancer, _, proposal_id = await offer_scene()
    contract = (await ok(gql, "sendOffer", hourly_offer(proposal_id), client))["contract"]
    assert (
        contract["contractType"],
        contract["hourlyRate"],
        contract["weeklyLimitHours"],
        contract["milestones"],
        contract["totalAmount"],
    ) == ("HOURLY", "40.00", 10, [], "0.00")


# ---------------------------------------------------------------- answering offers


async def test_the_client_withdraws_an_offer_and_may_send_another(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    assert await refused(gql, "withdrawOffer", {"contractId": contract_id}, freelancer) == [
        "FORBIDDEN"
    ]
    withdrawn = (await ok(gql, "withdrawOffer", {"contractId": contract_id}, client))["contract"]
    assert (withdrawn["status"], withdrawn["allowedActions"]) == ("WITHDRAWN", [])
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, freelancer) == [
        "INVALID_STATE"
    ]
    assert (await contract_as(gql, contract_id, freelancer))["allowedActions"] == []
    # the proposal is still open: a new offer may go out
    second = await ok(gql, "sendOffer", fixed_offer(proposal_id), client)
    assert second["contract"]["status"] == "OFFERED"


async def test_the_freelancer_declines_an_offer(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    assert await refused(gql, "declineOffer", {"contractId": contract_id}, client) == ["FORBIDDEN"]
    declined = (await ok(gql, "declineOffer", {"contractId": contract_id}, freelancer))["contract"]
    assert declined["status"] == "DECLINED"
    assert await refused(gql, "withdrawOffer", {"contractId": contract_id}, client) == [
        "INVALID_STATE"
    ]
    notes = await gql.execute(
        "{ viewer { notifications(first: 5) { nodes { kind subject { id } } } } }",
        token=client.token,
    )
    assert {"kind": "CONTRACT_UPDATED", "subject": {"id": contract_id}} in notes["viewer"][
        "notifications"
    ]["nodes"]


CONTRACT_WITH_HIRE = """id status startedAt proposal { status } job { status }"""


async def test_accepting_hires_the_proposal_and_fills_the_job(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, client) == ["FORBIDDEN"]
    accepted = (await ok(gql, "acceptOffer", {"contractId": contract_id}, freelancer))["contract"]
    assert accepted["status"] == "ACTIVE" and accepted["startedAt"]
    assert accepted["allowedActions"] == ["END", "OPEN_DISPUTE"]
    for session in (client, freelancer):
        seen = await contract_as(gql, contract_id, session, CONTRACT_WITH_HIRE)
        assert (seen["proposal"], seen["job"]) == ({"status": "HIRED"}, {"status": "FILLED"})
    assert (await contract_as(gql, contract_id, client))["allowedActions"] == [
        "ADD_MILESTONE",
        "PAUSE",
        "END",
        "OPEN_DISPUTE",
    ]
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, freelancer) == [
        "INVALID_STATE"
    ]


async def test_an_offer_past_its_expiry_cannot_be_accepted_even_before_the_scheduler_ran(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    row = await Contract.get(status=ContractStatus.OFFERED)
    row.offer_expires_at = utc_now() - timedelta(minutes=1)
    await row.save(update_fields=["offer_expires_at"])
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, freelancer) == [
        "INVALID_STATE"
    ]
    assert await refused(gql, "withdrawOffer", {"contractId": contract_id}, client) == [
        "INVALID_STATE"
    ]
    assert (await Contract.get(id=row.id)).status == ContractStatus.OFFERED


async def test_the_scheduler_expires_an_offer_and_it_cannot_be_accepted(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    # when: 6 days on, nothing; 8 days on, the offer expires
    await run_due(utc_now() + timedelta(days=6))
    assert (await contract_as(gql, contract_id, freelancer))["status"] == "OFFERED"
    await run_due(utc_now() + timedelta(days=8))
    # then
    seen = await contract_as(
        gql,
        contract_id,
        freelancer,
        """status allowedActions
        events(last: 1) { nodes { kind status actor { id } } }""",
    )
    assert seen == {
        "__typename": "Contract",
        "status": "EXPIRED",
        "allowedActions": [],
        "events": {"nodes": [{"kind": "OFFER_EXPIRED", "status": "EXPIRED", "actor": None}]},
    }
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, freelancer) == [
        "INVALID_STATE"
    ]


# ---------------------------------------------------------------- the contract's life


async def test_pause_and_resume_by_the_client_only(gql):
    scene = await make_scene()
    target = {"contractId": scene.contract_id}
    assert await refused(gql, "pauseContract", target, scene.freelancer) == ["FORBIDDEN"]
    paused = (await ok(gql, "pauseContract", target, scene.client))["contract"]
    assert (paused["status"], paused["allowedActions"]) == (
        "PAUSED",
        ["RESUME", "END", "OPEN_DISPUTE"],
    )
    assert (await contract_as(gql, scene.contract_id, scene.freelancer))["allowedActions"] == [
        "END",
        "OPEN_DISPUTE",
    ]
    # no new work while paused
    assert await refused(
        gql, "fundMilestone", {"milestoneId": scene.milestone_id}, scene.client
    ) == ["INVALID_STATE"]
    assert await refused(gql, "pauseContract", target, scene.client) == ["INVALID_STATE"]
    assert await refused(gql, "resumeContract", target, scene.freelancer) == ["FORBIDDEN"]
    resumed = (await ok(gql, "resumeContract", target, scene.client))["contract"]
    assert resumed["status"] == "ACTIVE"
    assert await refused(gql, "resumeContract", target, scene.client) == ["INVALID_STATE"]


async def test_ending_is_refused_while_escrow_is_unsettled_then_completes(gql):
    scene = await make_scene(milestones=["100.00", "40.00"])
    first, second = scene.milestone_ids
    await ok(gql, "fundMilestone", {"milestoneId": first}, scene.client)
    for session in (scene.client, scene.freelancer):
        payload = await call(
            gql, "endContract", {"contractId": scene.contract_id, "reason": "done"}, session
        )
        assert codes_of(payload) == ["INVALID_STATE"]
    await ok(gql, "approveMilestone", {"milestoneId": first}, scene.client)
    ended = (await ok(gql, "endContract", {"contractId": scene.contract_id}, scene.freelancer))[
        "contract"
    ]
    assert (ended["status"], ended["paidAmount"], ended["escrowAmount"]) == (
        "COMPLETED",
        "100.00",
        "0.00",
    )
    assert ended["endedAt"] and ended["reviewDeadline"] > ended["endedAt"]
    assert ended["allowedActions"] == ["REVIEW"]
    assert [m["status"] for m in ended["milestones"]] == ["PAID", "PENDING"]
    assert [m["allowedActions"] for m in ended["milestones"]] == [[], []]
    assert await refused(gql, "endContract", {"contractId": scene.contract_id}, scene.client) == [
        "INVALID_STATE"
    ]
    assert await refused(gql, "fundMilestone", {"milestoneId": second}, scene.client) == [
        "INVALID_STATE"
    ]


async def test_ending_with_nothing_paid_cancels(gql):
    scene = await make_scene()
    await ok(gql, "fundMilestone", {"milestoneId": scene.milestone_id}, scene.client)
    await ok(gql, "refundMilestone", {"milestoneId": scene.milestone_id}, scene.freelancer)
    ended = (await ok(gql, "endContract", {"contractId": scene.contract_id}, scene.client))[
        "contract"
    ]
    assert (ended["status"], ended["paidAmount"]) == ("CANCELLED", "0.00")
    events = await contract_as(
        gql, scene.contract_id, scene.client, "events(last: 1) { nodes { kind status } }"
    )
    assert events["events"]["nodes"] == [{"kind": "CONTRACT_CANCELLED", "status": "CANCELLED"}]


async def test_add_milestone(gql):
    scene = await make_scene(milestones=["100.00"])
    new = {
        "title": "Docs",
        "description": "Write them",
        "amount": "75.25",
        "dueDate": (utc_now().date() + timedelta(days=10)).isoformat(),
    }
    assert await refused(
        gql, "addMilestone", {"contractId": scene.contract_id, "milestone": new}, scene.freelancer
    ) == ["FORBIDDEN"]
    payload = await call(
        gql,
        "addMilestone",
        {"contractId": scene.contract_id, "milestone": {**new, "amount": "4.99"}},
        scene.client,
    )
    assert errors_of(payload) == [(["input", "milestone", "amount"], "VALIDATION")]
    added = (
        await ok(
            gql, "addMilestone", {"contractId": scene.contract_id, "milestone": new}, scene.client
        )
    )["milestone"]
    assert (
        added["position"],
        added["title"],
        added["amount"],
        added["status"],
        added["allowedActions"],
    ) == (2, "Docs", "75.25", "PENDING", ["FUND"])
    assert added["contract"]["totalAmount"] == "175.25"
    notes = await gql.execute(
        "{ viewer { notifications(first: 1) { nodes { kind } } } }", token=scene.freelancer.token
    )
    assert notes["viewer"]["notifications"]["nodes"] == [{"kind": "MILESTONE_UPDATED"}]
    hourly = await make_scene(hourly_rate="30.00")
    assert await refused(
        gql, "addMilestone", {"contractId": hourly.contract_id, "milestone": new}, hourly.client
    ) == ["INVALID_STATE"]


# ---------------------------------------------------------------- milestones and escrow


async def actions_of(gql: Any, scene: Scene, milestone_id: str) -> dict[str, Any]:
    seen = {
        party: await milestone_as(gql, milestone_id, scene.session(party), "status allowedActions")
        for party in ("client", "freelancer")
    }
    assert seen["client"]["status"] == seen["freelancer"]["status"]
    return {
        "status": seen["client"]["status"],
        "client": seen["client"]["allowedActions"],
        "freelancer": seen["freelancer"]["allowedActions"],
    }


async def test_fund_submit_request_changes_resubmit_approve(gql):
    scene = await make_scene(milestones=["200.00"])
    target = {"milestoneId": scene.milestone_id}
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "PENDING",
        "client": ["FUND"],
        "freelancer": [],
    }
    assert await refused(gql, "fundMilestone", target, scene.freelancer) == ["FORBIDDEN"]
    assert await refused(
        gql, "submitMilestone", {**target, "message": "early"}, scene.freelancer
    ) == ["INVALID_STATE"]
    # fund
    funded = (await ok(gql, "fundMilestone", target, scene.client))["milestone"]
    assert (funded["status"], funded["contract"]["escrowAmount"]) == ("FUNDED", "200.00")
    assert funded["fundedAt"]
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "FUNDED",
        "client": ["APPROVE"],
        "freelancer": ["SUBMIT", "REFUND"],
    }
    client_wallet = await wallet_of(gql, scene.client)
    assert (client_wallet["available"], client_wallet["inEscrow"]) == ("790.00", "200.00")
    # submit
    assert await refused(gql, "submitMilestone", {**target, "message": "mine"}, scene.client) == [
        "FORBIDDEN"
    ]
    payload = await call(gql, "submitMilestone", {**target, "message": ""}, scene.freelancer)
    assert errors_of(payload) == [(["input", "message"], "VALIDATION")]
    payload = await call(
        gql,
        "submitMilestone",
        {**target, "message": "Done", "attachmentUrls": ["not a url"]},
        scene.freelancer,
    )
    assert errors_of(payload) == [(["input", "attachmentUrls", "0"], "VALIDATION")]
    submitted = (
        await ok(
            gql,
            "submitMilestone",
            {**target, "message": "Done", "attachmentUrls": ["https://example.com/pr/1"]},
            scene.freelancer,
        )
    )["milestone"]
    assert submitted["status"] == "SUBMITTED" and submitted["submittedAt"]
    assert submitted["autoReleaseAt"] > submitted["submittedAt"]
    assert submitted["submissions"] == [
        {"message": "Done", "attachmentUrls": ["https://example.com/pr/1"]}
    ]
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "SUBMITTED",
        "client": ["REQUEST_CHANGES", "APPROVE"],
        "freelancer": ["REFUND"],
    }
    # request changes
    assert await refused(
        gql, "requestMilestoneChanges", {**target, "message": "no"}, scene.freelancer
    ) == ["FORBIDDEN"]
    changes = (
        await ok(gql, "requestMilestoneChanges", {**target, "message": "Add tests"}, scene.client)
    )["milestone"]
    assert (changes["status"], changes["autoReleaseAt"]) == ("CHANGES_REQUESTED", None)
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "CHANGES_REQUESTED",
        "client": ["APPROVE"],
        "freelancer": ["SUBMIT", "REFUND"],
    }
    assert await refused(
        gql, "requestMilestoneChanges", {**target, "message": "again"}, scene.client
    ) == ["INVALID_STATE"]
    # resubmit
    again = (
        await ok(gql, "submitMilestone", {**target, "message": "With tests"}, scene.freelancer)
    )["milestone"]
    assert [s["message"] for s in again["submissions"]] == ["Done", "With tests"]
    assert again["status"] == "SUBMITTED"
    # approve
    assert await refused(gql, "approveMilestone", target, scene.freelancer) == ["FORBIDDEN"]
    paid = (await ok(gql, "approveMilestone", target, scene.client))["milestone"]
    assert (
        paid["status"],
        paid["autoReleaseAt"],
        paid["contract"]["escrowAmount"],
        paid["contract"]["paidAmount"],
    ) == ("PAID", None, "0.00", "200.00")
    assert paid["paidAt"]
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "PAID",
        "client": [],
        "freelancer": [],
    }
    for name in ("approveMilestone", "fundMilestone"):
        assert await refused(gql, name, target, scene.client) == ["INVALID_STATE"]
    assert await refused(gql, "refundMilestone", target, scene.freelancer) == ["INVALID_STATE"]
    # money: 200 + 5% from the client, 200 - 10% to the freelancer
    client_wallet = await wallet_of(gql, scene.client)
    assert (client_wallet["available"], client_wallet["inEscrow"]) == ("790.00", "0.00")
    assert (await wallet_of(gql, scene.freelancer))["available"] == "180.00"


async def test_a_submission_left_unanswered_is_released_by_the_scheduler(gql):
    scene = await make_scene(milestones=["80.00"])
    target = {"milestoneId": scene.milestone_id}
    await ok(gql, "fundMilestone", target, scene.client)
    submitted = (await ok(gql, "submitMilestone", {**target, "message": "Done"}, scene.freelancer))[
        "milestone"
    ]
    await run_due(utc_now() + timedelta(days=13))
    assert (await milestone_as(gql, scene.milestone_id, scene.client))["status"] == "SUBMITTED"
    await run_due(utc_now() + timedelta(days=15))
    seen = await contract_as(
        gql,
        scene.contract_id,
        scene.freelancer,
        """paidAmount
        milestones { status allowedActions autoReleaseAt }
        events(last: 1) { nodes { kind actor { id } milestone { id } } }""",
    )
    assert submitted["autoReleaseAt"]
    assert seen["paidAmount"] == "80.00"
    assert seen["milestones"] == [{"status": "PAID", "allowedActions": [], "autoReleaseAt": None}]
    assert seen["events"]["nodes"] == [
        {"kind": "MILESTONE_PAID", "actor": None, "milestone": {"id": scene.milestone_id}}
    ]
    assert (await wallet_of(gql, scene.freelancer))["available"] == "72.00"


async def test_the_client_may_approve_a_funded_milestone_without_a_submission(gql):
    scene = await make_scene(milestones=["50.00"])
    target = {"milestoneId": scene.milestone_id}
    await ok(gql, "fundMilestone", target, scene.client)
    paid = (await ok(gql, "approveMilestone", target, scene.client))["milestone"]
    assert (paid["status"], paid["submissions"]) == ("PAID", [])


@pytest.mark.parametrize("when", ["funded", "submitted", "changes_requested"])
async def test_the_freelancer_refunds_the_escrow_to_the_client(gql, when):
    scene = await make_scene(milestones=["100.00"])
    target = {"milestoneId": scene.milestone_id}
    await ok(gql, "fundMilestone", target, scene.client)
    if when != "funded":
        await ok(gql, "submitMilestone", {**target, "message": "Done"}, scene.freelancer)
    if when == "changes_requested":
        await ok(gql, "requestMilestoneChanges", {**target, "message": "Redo"}, scene.client)
    assert await refused(gql, "refundMilestone", target, scene.client) == ["FORBIDDEN"]
    refunded = (await ok(gql, "refundMilestone", target, scene.freelancer))["milestone"]
    assert (
        refunded["status"],
        refunded["contract"]["escrowAmount"],
        refunded["contract"]["paidAmount"],
    ) == ("REFUNDED", "0.00", "0.00")
    assert await actions_of(gql, scene, scene.milestone_id) == {
        "status": "REFUNDED",
        "client": [],
        "freelancer": [],
    }
    # the escrow comes back and the marketplace fee with it: the wallet is as before funding
    client_wallet = await wallet_of(gql, scene.client, transactions=5)
    assert (client_wallet["available"], client_wallet["inEscrow"]) == ("1000.00", "0.00")
    assert [(t["kind"], t["amount"]) for t in client_wallet["transactions"]["nodes"]] == [
        ("FEE_REFUND", "5.00"),
        ("ESCROW_REFUND", "100.00"),
        ("SERVICE_FEE", "-5.00"),
        ("ESCROW_FUND", "-100.00"),
        ("DEPOSIT", "1000.00"),
    ]
    assert (await wallet_of(gql, scene.freelancer))["available"] == "0.00"


async def test_funding_without_the_money_is_insufficient_funds_and_moves_nothing(gql):
    scene = await make_scene(milestones=["100.00"], client_funds="104.99")
    assert await refused(
        gql, "fundMilestone", {"milestoneId": scene.milestone_id}, scene.client
    ) == ["INSUFFICIENT_FUNDS"]
    assert (await wallet_of(gql, scene.client))["available"] == "104.99"
    assert (await milestone_as(gql, scene.milestone_id, scene.client))["status"] == "PENDING"


# ---------------------------------------------------------------- hourly contracts


async def test_hourly_log_time_within_the_weekly_limit_and_approve_the_timesheet(gql):
    scene = await make_scene(hourly_rate="40.00", weekly_limit_hours=10)
    today = utc_now().date()
    monday = today - timedelta(days=today.weekday())
    entry = {"contractId": scene.contract_id, "date": today.isoformat(), "memo": "API"}
    assert await refused(gql, "logTime", {**entry, "hours": "1"}, scene.client) == ["FORBIDDEN"]
    logged = (await ok(gql, "logTime", {**entry, "hours": "6"}, scene.freelancer))["timeEntry"]
    assert (
        logged["date"],
        logged["hours"],
        logged["amount"],
        logged["status"],
        logged["contract"],
    ) == (today.isoformat(), "6.00", "240.00", "LOGGED", {"id": scene.contract_id})
    over = await call(gql, "logTime", {**entry, "hours": "4.01"}, scene.freelancer)
    assert errors_of(over) == [(["input", "hours"], "VALIDATION")]
    for bad in ("0", "-1", "24.5", "1.005"):
        payload = await call(gql, "logTime", {**entry, "hours": bad}, scene.freelancer)
        assert errors_of(payload) == [(["input", "hours"], "VALIDATION")], bad
    future = await call(
        gql,
        "logTime",
        {**entry, "hours": "1", "date": (today + timedelta(days=1)).isoformat()},
        scene.freelancer,
    )
    assert errors_of(future) == [(["input", "date"], "VALIDATION")]
    await ok(gql, "logTime", {**entry, "hours": "4", "memo": "tests"}, scene.freelancer)  # = 10
    # approving the week
    week = {"contractId": scene.contract_id, "weekStart": monday.isoformat()}
    not_monday = await call(
        gql,
        "approveTimesheet",
        {**week, "weekStart": (monday + timedelta(days=2)).isoformat()},
        scene.client,
    )
    assert errors_of(not_monday) == [(["input", "weekStart"], "VALIDATION")]
    assert await refused(gql, "approveTimesheet", week, scene.freelancer) == ["FORBIDDEN"]
    empty = await call(
        gql,
        "approveTimesheet",
        {**week, "weekStart": (monday - timedelta(days=7)).isoformat()},
        scene.client,
    )
    assert codes_of(empty) == ["INVALID_STATE"]
    approved = (await ok(gql, "approveTimesheet", week, scene.client))["contract"]
    assert (approved["paidAmount"], approved["totalAmount"], approved["escrowAmount"]) == (
        "400.00",
        "400.00",
        "0.00",
    )
    entries = await contract_as(
        gql,
        scene.contract_id,
        scene.freelancer,
        "timeEntries(first: 10) { totalCount nodes { hours status } }",
    )
    assert entries["timeEntries"]["totalCount"] == 2
    assert {(n["hours"], n["status"]) for n in entries["timeEntries"]["nodes"]} == {
        ("6.00", "PAID"),
        ("4.00", "PAID"),
    }
    # paid once: 400 + 5% from the client, 400 - 10% to the freelancer
    assert (await wallet_of(gql, scene.client))["available"] == "580.00"
    freelancer_wallet = await wallet_of(gql, scene.freelancer, transactions=5)
    assert freelancer_wallet["available"] == "360.00"
    assert [(t["kind"], t["amount"]) for t in freelancer_wallet["transactions"]["nodes"]] == [
        ("SERVICE_FEE", "-40.00"),
        ("HOURLY_PAYMENT", "400.00"),
    ]
    assert await refused(gql, "approveTimesheet", week, scene.client) == ["INVALID_STATE"]
    late = await call(gql, "logTime", {**entry, "hours": "0.5"}, scene.freelancer)
    assert codes_of(late) == ["INVALID_STATE"]
    # an hourly contract with its hours paid ends completed
    ended = (await ok(gql, "endContract", {"contractId": scene.contract_id}, scene.client))[
        "contract"
    ]
    assert ended["status"] == "COMPLETED"


async def test_logging_time_is_for_active_hourly_contracts_only(gql):
    fixed = await make_scene()
    today = utc_now().date().isoformat()
    assert await refused(
        gql,
        "logTime",
        {"contractId": fixed.contract_id, "date": today, "hours": "1", "memo": "x"},
        fixed.freelancer,
    ) == ["INVALID_STATE"]
    hourly = await make_scene(hourly_rate="20.00")
    await ok(gql, "pauseContract", {"contractId": hourly.contract_id}, hourly.client)
    assert await refused(
        gql,
        "logTime",
        {"contractId": hourly.contract_id, "date": today, "hours": "1", "memo": "x"},
        hourly.freelancer,
    ) == ["INVALID_STATE"]


# ---------------------------------------------------------------- disputes


async def test_dispute_freezes_the_escrow_and_staff_split_it(gql):
    scene = await make_scene(milestones=["100.00", "60.00"])
    first, second = scene.milestone_ids
    staff = await make_user(is_staff=True, display_name="Staff")
    no_escrow = await call(
        gql, "openDispute", {"contractId": scene.contract_id, "reason": "Nothing yet"}, scene.client
    )
    assert codes_of(no_escrow) == ["INVALID_STATE"]
    for milestone_id in (first, second):
        await ok(gql, "fundMilestone", {"milestoneId": milestone_id}, scene.client)
    blank = await call(
        gql, "openDispute", {"contractId": scene.contract_id, "reason": " "}, scene.client
    )
    assert errors_of(blank) == [(["input", "reason"], "VALIDATION")]
    # when
    dispute = (
        await ok(
            gql,
            "openDispute",
            {"contractId": scene.contract_id, "reason": "Work not delivered"},
            scene.client,
        )
    )["dispute"]
    # then
    assert (
        dispute["status"],
        dispute["reason"],
        dispute["openedBy"],
        dispute["milestone"],
        dispute["contract"]["status"],
        dispute["releasedToFreelancer"],
    ) == (
        "OPEN",
        "Work not delivered",
        {"displayName": scene.client.user.display_name},
        None,
        "DISPUTED",
        None,
    )
    for party in ("client", "freelancer"):
        seen = await contract_as(
            gql,
            scene.contract_id,
            scene.session(party),
            "allowedActions dispute { id status } milestones { allowedActions }",
        )
        assert seen["allowedActions"] == []
        assert seen["dispute"] == {"id": dispute["id"], "status": "OPEN"}
        assert [m["allowedActions"] for m in seen["milestones"]] == [[], []]
    assert await refused(gql, "approveMilestone", {"milestoneId": first}, scene.client) == [
        "INVALID_STATE"
    ]
    assert await refused(gql, "refundMilestone", {"milestoneId": first}, scene.freelancer) == [
        "INVALID_STATE"
    ]
    assert await refused(
        gql, "openDispute", {"contractId": scene.contract_id, "reason": "again"}, scene.freelancer
    ) == ["INVALID_STATE"]
    assert await refused(gql, "endContract", {"contractId": scene.contract_id}, scene.client) == [
        "INVALID_STATE"
    ]
    # only staff resolve, and the parts add up to what is frozen
    resolution = {
        "disputeId": dispute["id"],
        "releaseToFreelancer": "120.00",
        "refundToClient": "40.00",
        "note": "Partly delivered",
    }
    for session in (scene.client, scene.freelancer):
        assert await refused(gql, "resolveDispute", resolution, session) == ["FORBIDDEN"]
    wrong = await call(gql, "resolveDispute", {**resolution, "refundToClient": "39.99"}, staff)
    assert errors_of(wrong) == [(["input", "releaseToFreelancer"], "VALIDATION")]
    resolved = (await ok(gql, "resolveDispute", resolution, staff))["dispute"]
    assert (
        resolved["status"],
        resolved["releasedToFreelancer"],
        resolved["refundedToClient"],
        resolved["resolutionNote"],
    ) == ("RESOLVED", "120.00", "40.00", "Partly delivered")
    assert resolved["resolvedAt"]
    assert resolved["contract"] == {
        "id": scene.contract_id,
        "status": "ACTIVE",
        "escrowAmount": "0.00",
        "paidAmount": "120.00",
    }
    assert await refused(gql, "resolveDispute", resolution, staff) == ["INVALID_STATE"]
    seen = await contract_as(
        gql,
        scene.contract_id,
        scene.client,
        "milestones { status } events(last: 4) { nodes { "
        "kind actor { displayName } milestone { id } } }",
    )
    assert [m["status"] for m in seen["milestones"]] == ["PAID", "PAID"]
    assert seen["events"]["nodes"] == [
        {
            "kind": "DISPUTE_OPENED",
            "actor": {"displayName": scene.client.user.display_name},
            "milestone": None,
        },
        {"kind": "MILESTONE_PAID", "actor": {"displayName": "Staff"}, "milestone": {"id": first}},
        {"kind": "MILESTONE_PAID", "actor": {"displayName": "Staff"}, "milestone": {"id": second}},
        {"kind": "DISPUTE_RESOLVED", "actor": {"displayName": "Staff"}, "milestone": None},
    ]
    # 120 - 10% to the freelancer; 40 of the second milestone's 60 back to the client, who paid
    # 160 + 8.00 in fees, with 40/60 of that milestone's 3.00 fee
    assert (await wallet_of(gql, scene.freelancer))["available"] == "108.00"
    assert (await wallet_of(gql, scene.client))["available"] == str(
        Decimal("1000.00") - Decimal("160.00") - Decimal("8.00") + Decimal("40.00") + Decimal(2)
    )
    ended = (await ok(gql, "endContract", {"contractId": scene.contract_id}, scene.client))[
        "contract"
    ]
    assert ended["status"] == "COMPLETED"


async def test_a_dispute_over_one_milestone_freezes_its_amount(gql):
    scene = await make_scene(milestones=["100.00", "60.00"])
    first, second = scene.milestone_ids
    staff = await make_user(is_staff=True)
    pending = await call(
        gql,
        "openDispute",
        {"contractId": scene.contract_id, "milestoneId": first, "reason": "x"},
        scene.freelancer,
    )
    assert codes_of(pending) == ["INVALID_STATE"]
    await ok(gql, "fundMilestone", {"milestoneId": first}, scene.client)
    await ok(gql, "fundMilestone", {"milestoneId": second}, scene.client)
    dispute = (
        await ok(
            gql,
            "openDispute",
            {"contractId": scene.contract_id, "milestoneId": second, "reason": "Unpaid"},
            scene.freelancer,
        )
    )["dispute"]
    assert dispute["milestone"] == {"id": second}
    wrong = await call(
        gql,
        "resolveDispute",
        {
            "disputeId": dispute["id"],
            "releaseToFreelancer": "100.00",
            "refundToClient": "60.00",
            "note": "n",
        },
        staff,
    )
    assert codes_of(wrong) == ["VALIDATION"]
    await ok(
        gql,
        "resolveDispute",
        {
            "disputeId": dispute["id"],
            "releaseToFreelancer": "60.00",
            "refundToClient": "0",
            "note": "Pay it",
        },
        staff,
    )
    seen = await contract_as(
        gql, scene.contract_id, scene.client, "status escrowAmount milestones { status }"
    )
    assert (seen["status"], seen["escrowAmount"]) == ("ACTIVE", "100.00")
    assert [m["status"] for m in seen["milestones"]] == ["FUNDED", "PAID"]
    # a second dispute: the contract shows the latest
    later = (
        await ok(
            gql,
            "openDispute",
            {"contractId": scene.contract_id, "reason": "The first part too"},
            scene.client,
        )
    )["dispute"]
    seen = await contract_as(
        gql, scene.contract_id, scene.freelancer, "status dispute { id status reason }"
    )
    assert seen["status"] == "DISPUTED"
    assert seen["dispute"] == {"id": later["id"], "status": "OPEN", "reason": "The first part too"}


# ---------------------------------------------------------------- history

EVENTS = """events(first: 50) { totalCount nodes {
  id kind status cursor createdAt actor { displayName } milestone { id title }
  contract { id } } }"""


async def test_contract_events_in_order_with_actor_and_milestone(gql):
    client, freelancer, _, proposal_id = await offer_scene()
    contract = (await ok(gql, "sendOffer", fixed_offer(proposal_id, "80.00"), client))["contract"]
    contract_id, milestone_id = contract["id"], contract["milestones"][0]["id"]
    await ok(gql, "addFunds", {"amount": "500"}, client)
    await ok(gql, "acceptOffer", {"contractId": contract_id}, freelancer)
    await ok(gql, "fundMilestone", {"milestoneId": milestone_id}, client)
    await ok(gql, "submitMilestone", {"milestoneId": milestone_id, "message": "v1"}, freelancer)
    await ok(
        gql, "requestMilestoneChanges", {"milestoneId": milestone_id, "message": "fix"}, client
    )
    await ok(gql, "submitMilestone", {"milestoneId": milestone_id, "message": "v2"}, freelancer)
    await ok(gql, "approveMilestone", {"milestoneId": milestone_id}, client)
    added = (
        await ok(
            gql,
            "addMilestone",
            {"contractId": contract_id, "milestone": {"title": "More", "amount": "20"}},
            client,
        )
    )["milestone"]
    await ok(gql, "pauseContract", {"contractId": contract_id}, client)
    await ok(gql, "resumeContract", {"contractId": contract_id}, client)
    await ok(gql, "endContract", {"contractId": contract_id}, freelancer)
    # then both parties see the same history, oldest first
    c, f = client.user.display_name, freelancer.user.display_name
    m = {"id": milestone_id, "title": "Part 1"}
    expected = [
        ("OFFER_SENT", "OFFERED", c, None),
        ("OFFER_ACCEPTED", "ACTIVE", f, None),
        ("MILESTONE_FUNDED", "ACTIVE", c, m),
        ("MILESTONE_SUBMITTED", "ACTIVE", f, m),
        ("MILESTONE_CHANGES_REQUESTED", "ACTIVE", c, m),
        ("MILESTONE_SUBMITTED", "ACTIVE", f, m),
        ("MILESTONE_PAID", "ACTIVE", c, m),
        ("MILESTONE_ADDED", "ACTIVE", c, {"id": added["id"], "title": "More"}),
        ("CONTRACT_PAUSED", "PAUSED", c, None),
        ("CONTRACT_RESUMED", "ACTIVE", c, None),
        ("CONTRACT_COMPLETED", "COMPLETED", f, None),
    ]
    histories = []
    for session in (client, freelancer):
        events = (await contract_as(gql, contract_id, session, EVENTS))["events"]
        assert events["totalCount"] == len(expected)
        nodes = events["nodes"]
        assert [
            (n["kind"], n["status"], n["actor"]["displayName"], n["milestone"]) for n in nodes
        ] == expected
        assert all(n["contract"] == {"id": contract_id} for n in nodes)
        assert [n["createdAt"] for n in nodes] == sorted(n["createdAt"] for n in nodes)
        assert len({n["cursor"] for n in nodes}) == len(nodes)
        histories.append(nodes)
    assert histories[0] == histories[1]
    # pages walk the same order
    nodes = histories[0]
    page = (
        await contract_as(
            gql,
            contract_id,
            client,
            f'events(first: 3, after: "{nodes[2]["cursor"]}") {{ nodes {{ id }} '
            f"pageInfo {{ hasNextPage }} }}",
        )
    )["events"]
    assert [n["id"] for n in page["nodes"]] == [n["id"] for n in nodes[3:6]]
    assert page["pageInfo"]["hasNextPage"] is True
    # an event is a node of its own
    event = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on ContractEvent { kind } } }",
        {"id": nodes[0]["id"]},
        token=freelancer.token,
    )
    assert event["node"] == {"kind": "OFFER_SENT"}


# ---------------------------------------------------------------- wallets


async def test_viewer_wallet_and_transactions(gql):
    scene = await make_scene(milestones=["100.00"], client_funds=None)
    fresh = await wallet_of(gql, scene.client, transactions=5)
    assert (
        fresh["available"],
        fresh["inEscrow"],
        fresh["currency"],
        fresh["transactions"]["nodes"],
    ) == ("0.00", "0.00", "USD", [])
    await ok(gql, "addFunds", {"amount": "300.00"}, scene.client)
    await ok(gql, "fundMilestone", {"milestoneId": scene.milestone_id}, scene.client)
    wallet = (await ok(gql, "withdrawFunds", {"amount": "50.00"}, scene.client))["wallet"]
    assert (wallet["available"], wallet["inEscrow"]) == ("145.00", "100.00")
    too_much = await call(gql, "withdrawFunds", {"amount": "145.01"}, scene.client)
    assert (codes_of(too_much), too_much["wallet"]) == (["INSUFFICIENT_FUNDS"], None)
    wallet = await wallet_of(gql, scene.client, transactions=10)
    nodes = wallet["transactions"]["nodes"]
    assert [(t["kind"], t["amount"], t["balanceAfter"]) for t in nodes] == [
        ("WITHDRAWAL", "-50.00", "145.00"),
        ("SERVICE_FEE", "-5.00", "195.00"),
        ("ESCROW_FUND", "-100.00", "200.00"),
        ("DEPOSIT", "300.00", "300.00"),
    ]
    assert wallet["transactions"]["totalCount"] == 4
    assert nodes[2]["contract"] == {"id": scene.contract_id}
    assert nodes[2]["milestone"] == {"id": scene.milestone_id}
    assert nodes[3]["contract"] is None and nodes[3]["memo"]
    transaction = await gql.execute(
        "query($id: ID!) { node(id: $id) { ... on Transaction { kind amount } } }",
        {"id": nodes[2]["id"]},
        token=scene.client.token,
    )
    assert transaction["node"] == {"kind": "ESCROW_FUND", "amount": "-100.00"}
    # the freelancer's wallet does not count the client's escrow
    assert (await wallet_of(gql, scene.freelancer))["inEscrow"] == "0.00"


async def test_purchase_connects_charges_the_wallet(gql):
    scene = await make_scene()
    freelancer = scene.freelancer
    before = await wallet_of(gql, freelancer)
    broke = await call(gql, "purchaseConnects", {"quantity": 10}, freelancer)
    assert (codes_of(broke), broke["connectsBalance"]) == (["INSUFFICIENT_FUNDS"], None)
    await ok(gql, "addFunds", {"amount": "5.00"}, freelancer)
    bought = await ok(gql, "purchaseConnects", {"quantity": 20}, freelancer)
    assert bought["connectsBalance"] == before["connects"] + 20
    assert bought["wallet"]["available"] == "2.00"  # 20 x 0.15
    for quantity in (0, 1001):
        payload = await call(gql, "purchaseConnects", {"quantity": quantity}, freelancer)
        assert errors_of(payload) == [(["input", "quantity"], "VALIDATION")]
    after = await wallet_of(gql, freelancer, transactions=1)
    assert [(t["kind"], t["amount"]) for t in after["transactions"]["nodes"]] == [
        ("CONNECTS_PURCHASE", "-3.00")
    ]
    assert after["connects"] == before["connects"] + 20
    # a client without a freelancer profile has nothing to buy connects for
    assert codes_of(await call(gql, "purchaseConnects", {"quantity": 1}, scene.client)) == [
        "FORBIDDEN"
    ]


FEE_QUOTE = """query($amount: Decimal!) { feeQuote(amount: $amount) {
  amount clientFee clientPays freelancerFee freelancerReceives } }"""


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("100", ("100.00", "5.00", "105.00", "10.00", "90.00")),
        ("100.10", ("100.10", "5.01", "105.11", "10.01", "90.09")),
        ("0.01", ("0.01", "0.00", "0.01", "0.00", "0.01")),
    ],
)
async def test_fee_quote(gql, amount, expected):
    data = await gql.execute(FEE_QUOTE, {"amount": amount})
    quote = data["feeQuote"]
    assert (
        quote["amount"],
        quote["clientFee"],
        quote["clientPays"],
        quote["freelancerFee"],
        quote["freelancerReceives"],
    ) == expected


@pytest.mark.parametrize("amount", ["0", "-1", "1.005", "abc"])
async def test_fee_quote_of_an_invalid_amount_is_an_error(gql, amount):
    body = await gql.execute_raw(FEE_QUOTE, {"amount": amount})
    assert body.get("data") is None
    assert body["errors"]
    if amount != "abc":  # a well-formed Decimal the quote refuses
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]


# ---------------------------------------------------------------- idempotency


async def test_fund_and_approve_with_the_same_key_twice_move_money_once(gql):
    scene = await make_scene(milestones=["100.00"])
    fund = {"milestoneId": scene.milestone_id, "idempotencyKey": "fund-1"}
    first = await ok(gql, "fundMilestone", fund, scene.client)
    second = await ok(gql, "fundMilestone", fund, scene.client)
    assert second == first
    approve = {"milestoneId": scene.milestone_id, "idempotencyKey": "approve-1"}
    first = await ok(gql, "approveMilestone", approve, scene.client)
    second = await ok(gql, "approveMilestone", approve, scene.client)
    assert second == first
    assert await JournalEntry.filter(kind="ESCROW_FUND").count() == 1
    assert await JournalEntry.filter(kind="ESCROW_RELEASE").count() == 1
    assert (await wallet_of(gql, scene.client))["available"] == "895.00"
    assert (await wallet_of(gql, scene.freelancer))["available"] == "90.00"
    events = await contract_as(gql, scene.contract_id, scene.client, "events { nodes { kind } }")
    assert [n["kind"] for n in events["events"]["nodes"]].count("MILESTONE_FUNDED") == 1


async def test_wallet_and_connects_retries_with_the_same_key_move_money_once(gql):
    scene = await make_scene(client_funds=None)
    session = scene.freelancer
    deposit = {"amount": "20.00", "idempotencyKey": "deposit-1"}
    assert await ok(gql, "addFunds", deposit, session) == await ok(
        gql, "addFunds", deposit, session
    )
    purchase = {"quantity": 10, "idempotencyKey": "buy-1"}
    first = await ok(gql, "purchaseConnects", purchase, session)
    assert await ok(gql, "purchaseConnects", purchase, session) == first
    withdrawal = {"amount": "1.00", "idempotencyKey": "out-1"}
    first = await ok(gql, "withdrawFunds", withdrawal, session)
    assert await ok(gql, "withdrawFunds", withdrawal, session) == first
    wallet = await wallet_of(gql, session, transactions=10)
    assert wallet["available"] == "17.50"  # 20 - 1.50 - 1.00
    assert [t["kind"] for t in wallet["transactions"]["nodes"]] == [
        "WITHDRAWAL",
        "CONNECTS_PURCHASE",
        "DEPOSIT",
    ]
    # keys are the user's own: the client may use the same one
    other = await ok(gql, "addFunds", deposit, scene.client)
    assert other["wallet"]["available"] == "20.00"


async def test_approve_timesheet_with_the_same_key_twice_pays_once(gql):
    scene = await make_scene(hourly_rate="50.00")
    today = utc_now().date()
    monday = today - timedelta(days=today.weekday())
    await ok(
        gql,
        "logTime",
        {"contractId": scene.contract_id, "date": today.isoformat(), "hours": "2", "memo": "work"},
        scene.freelancer,
    )
    week = {
        "contractId": scene.contract_id,
        "weekStart": monday.isoformat(),
        "idempotencyKey": "week-1",
    }
    first = await ok(gql, "approveTimesheet", week, scene.client)
    assert await ok(gql, "approveTimesheet", week, scene.client) == first
    assert await JournalEntry.filter(kind="HOURLY_PAYMENT").count() == 1
    assert (await wallet_of(gql, scene.freelancer))["available"] == "90.00"


async def test_the_same_key_for_another_operation_is_a_validation_error(gql):
    scene = await make_scene(milestones=["100.00"])
    await ok(
        gql,
        "fundMilestone",
        {"milestoneId": scene.milestone_id, "idempotencyKey": "shared"},
        scene.client,
    )
    for name, input in [
        ("approveMilestone", {"milestoneId": scene.milestone_id}),
        ("addFunds", {"amount": "10.00"}),
        ("withdrawFunds", {"amount": "10.00"}),
    ]:
        payload = await call(gql, name, {**input, "idempotencyKey": "shared"}, scene.client)
        assert errors_of(payload) == [(["input", "idempotencyKey"], "VALIDATION")], name
    assert (await milestone_as(gql, scene.milestone_id, scene.client))["status"] == "FUNDED"
    assert (await wallet_of(gql, scene.client))["available"] == "895.00"
    for key in ("", " ", "k" * 101):
        payload = await call(gql, "addFunds", {"amount": "1", "idempotencyKey": key}, scene.client)
        assert errors_of(payload) == [(["input", "idempotencyKey"], "VALIDATION")], key


async def test_a_failed_attempt_does_not_burn_its_key(gql):
    scene = await make_scene(milestones=["100.00"], client_funds="50.00")
    fund = {"milestoneId": scene.milestone_id, "idempotencyKey": "retry-me"}
    assert codes_of(await call(gql, "fundMilestone", fund, scene.client)) == ["INSUFFICIENT_FUNDS"]
    await ok(gql, "addFunds", {"amount": "100.00"}, scene.client)
    funded = await ok(gql, "fundMilestone", fund, scene.client)
    assert funded["milestone"]["status"] == "FUNDED"
    assert (await wallet_of(gql, scene.client))["available"] == "45.00"


PROPOSAL_ENDINGS = {
    "job-closed": ("closeJob(input: {jobId: $id})", "client", "DECLINED", "CLOSED"),
    "proposal-declined": (
        "declineProposal(input: {proposalId: $id})",
        "client",
        "DECLINED",
        "OPEN",
    ),
    "proposal-withdrawn": (
        "withdrawProposal(input: {proposalId: $id})",
        "freelancer",
        "WITHDRAWN",
        "OPEN",
    ),
}


@pytest.mark.parametrize("ending", list(PROPOSAL_ENDINGS))
async def test_an_offer_whose_proposal_is_no_longer_open_cannot_be_accepted(gql, ending):
    """Closing a job declines its open proposals and, nobody being hired, refunds their
    connects; a declined or withdrawn proposal is over too: the offer outstanding on it can
    no longer be accepted (it may still be declined or withdrawn)."""
    client, freelancer, job, proposal_id = await offer_scene()
    contract_id = (await ok(gql, "sendOffer", fixed_offer(proposal_id), client))["contract"]["id"]
    field, by, proposal_status, job_status = PROPOSAL_ENDINGS[ending]
    session = {"client": client, "freelancer": freelancer}[by]
    ended = await gql.execute(
        f"mutation($id: ID!) {{ done: {field} {{ userErrors {{ code }} }} }}",
        {"id": gid("Job", job.id) if ending == "job-closed" else proposal_id},
        token=session.token,
    )
    assert ended["done"] == {"userErrors": []}
    assert await refused(gql, "acceptOffer", {"contractId": contract_id}, freelancer) == [
        "INVALID_STATE"
    ]
    seen = await contract_as(gql, contract_id, freelancer, CONTRACT_WITH_HIRE)
    assert (seen["status"], seen["proposal"], seen["job"]) == (
        "OFFERED",
        {"status": proposal_status},
        {"status": job_status},
    )
    await ok(gql, "declineOffer", {"contractId": contract_id}, freelancer)
