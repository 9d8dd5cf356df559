"""Who sees and who may touch contracts, milestones, hours, disputes and ledger lines.

One client and one freelancer with four contracts between them (an open offer, an active
fixed-price contract with milestones pending, funded and submitted, an active hourly contract
with hours logged, a disputed contract), seen by five viewers: the client, the freelancer,
another user (with a contract of their own), a staff member and an anonymous visitor.

Staff read every contract (to resolve disputes) but act on none except through
resolveDispute: for every other mutation a contract is no more theirs than a stranger's.
Strangers get NOT_FOUND, never FORBIDDEN; the wrong party gets what the rules table says
(FORBIDDEN where the action exists for the other party, INVALID_STATE where it does not exist
in the current status); anonymous callers get a top-level UNAUTHENTICATED error.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from models.actors import Actor
from models.base import utc_now
from models.contracts import actions, disputes, hourly, milestones
from models.contracts.actions import MilestoneDraft
from models.contracts.orm import Contract, ContractEvent, ContractType, Milestone, TimeEntry
from models.jobs.actions import post_job
from models.payments import wallet
from models.payments.orm import JournalEntry
from models.proposals import connects
from models.proposals.actions import submit_proposal
from models.proposals.orm import ConnectsReason
from models.users.actions import Session
from tests.contracts_factory import make_contract
from tests.factories import make_user
from tests.ledger import assert_ledger_invariants
from tests.resolvers.contracts_support import call, gid, mutation, ok

pytestmark = pytest.mark.usefixtures("db")

VIEWERS = ["client", "freelancer", "other", "staff", "anonymous"]
CONTRACT_OBJECTS = [
    "offer",
    "fixed",
    "hourly",
    "disputed",
    "milestone",
    "dispute",
    "event",
    "time_entry",
]
OBJECTS = [*CONTRACT_OBJECTS, "client_transaction", "freelancer_transaction"]
SEES: dict[str, set[str]] = {
    **{name: {"client", "freelancer", "staff"} for name in CONTRACT_OBJECTS},
    "client_transaction": {"client"},
    "freelancer_transaction": {"freelancer"},
}
TYPENAMES = {
    "offer": "Contract",
    "fixed": "Contract",
    "hourly": "Contract",
    "disputed": "Contract",
    "milestone": "Milestone",
    "dispute": "Dispute",
    "event": "ContractEvent",
    "time_entry": "TimeEntry",
    "client_transaction": "Transaction",
    "freelancer_transaction": "Transaction",
}


@dataclass
class World:
    sessions: dict[str, Session | None]
    ids: dict[str, str]
    other_contract_id: str
    rows: dict[str, Contract]

    def token(self, viewer: str) -> str | None:
        session = self.sessions[viewer]
        return session.token if session else None


async def _contract(
    client: Actor,
    freelancer: Actor,
    *,
    amounts: list[str] | None = None,
    hourly_rate: str | None = None,
    accept: bool = True,
) -> Contract:
    job = await post_job(
        client,
        {
            "title": "Another job",
            "description": "More work",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": Decimal(300),
            "experience_level": "ENTRY",
        },
    )
    proposal, _ = await submit_proposal(
        freelancer,
        job.id,
        cover_letter="Again",
        bid_amount=Decimal(250),
        estimated_duration_days=5,
    )
    if hourly_rate is not None:
        contract, _ = await actions.send_offer(
            client,
            proposal.id,
            title="Hourly",
            terms="t",
            contract_type=ContractType.HOURLY,
            milestones=None,
            hourly_rate=Decimal(hourly_rate),
            weekly_limit_hours=20,
            deadline=None,
        )
    else:
        contract, _ = await actions.send_offer(
            client,
            proposal.id,
            title="Fixed",
            terms="t",
            contract_type=ContractType.FIXED,
            milestones=[
                MilestoneDraft(title=f"M{i + 1}", amount=Decimal(amount))
                for i, amount in enumerate(amounts or ["30.00"])
            ],
            hourly_rate=None,
            weekly_limit_hours=None,
            deadline=None,
        )
    if accept:
        contract, _ = await actions.accept_offer(freelancer, contract.id)
    return contract


async def build_world(gql: Any) -> World:
    fixed, client_actor, freelancer_actor, client, freelancer = await make_contract(
        milestones=["100.00", "60.00", "40.00"], client_funds="2000.00"
    )
    await connects.credit(freelancer_actor.freelancer_profile_id, 100, ConnectsReason.PURCHASE)
    funded, submitted, pending = await Milestone.filter(contract_id=fixed.id).order_by("position")
    await milestones.fund_milestone(client_actor, funded.id)
    await milestones.fund_milestone(client_actor, submitted.id)
    await milestones.submit(freelancer_actor, submitted.id, "Done", [])
    offer = await _contract(client_actor, freelancer_actor, accept=False)
    hourly_contract = await _contract(client_actor, freelancer_actor, hourly_rate="30.00")
    entry, _ = await hourly.log_time(
        freelancer_actor, hourly_contract.id, utc_now().date(), Decimal(2), "Work"
    )
    disputed = await _contract(client_actor, freelancer_actor, amounts=["50.00"])
    [frozen] = await Milestone.filter(contract_id=disputed.id)
    await milestones.fund_milestone(client_actor, frozen.id)
    dispute, _ = await disputes.open_dispute(client_actor, disputed.id, None, "Late")
    await wallet.add_funds(freelancer_actor, Decimal("10.00"))
    other_contract, _, _, other, _ = await make_contract()
    staff = await make_user(is_staff=True)
    event = await ContractEvent.filter(contract_id=fixed.id).order_by("seq").first()
    assert event is not None
    transactions = {}
    for party, session in (("client", client), ("freelancer", freelancer)):
        data = await gql.execute(
            "{ viewer { wallet { transactions(first: 1) { nodes { id } } } } }", token=session.token
        )
        [line] = data["viewer"]["wallet"]["transactions"]["nodes"]
        transactions[party] = line["id"]
    return World(
        sessions={
            "client": client,
            "freelancer": freelancer,
            "other": other,
            "staff": staff,
            "anonymous": None,
        },
        ids={
            "offer": gid("Contract", offer.id),
            "fixed": gid("Contract", fixed.id),
            "hourly": gid("Contract", hourly_contract.id),
            "disputed": gid("Contract", disputed.id),
            "milestone": gid("Milestone", funded.id),
            "funded": gid("Milestone", funded.id),
            "submitted": gid("Milestone", submitted.id),
            "pending": gid("Milestone", pending.id),
            "frozen": gid("Milestone", frozen.id),
            "dispute": gid("Dispute", dispute.id),
            "event": gid("ContractEvent", event.public_id),
            "time_entry": gid("TimeEntry", entry.id),
            "client_transaction": transactions["client"],
            "freelancer_transaction": transactions["freelancer"],
        },
        other_contract_id=gid("Contract", other_contract.id),
        rows={"offer": offer, "fixed": fixed, "hourly": hourly_contract, "disputed": disputed},
    )


@pytest.fixture
async def world(gql) -> World:
    return await build_world(gql)


async def snapshot() -> dict[str, Any]:
    """Everything a refused mutation must leave as it was."""
    return {
        "contracts": sorted(
            (str(c.id), c.status, c.funded_cents, c.paid_cents, c.refunded_cents)
            for c in await Contract.all()
        ),
        "milestones": sorted((str(m.id), m.status, m.position) for m in await Milestone.all()),
        "events": await ContractEvent.all().count(),
        "entries": await JournalEntry.all().count(),
        "time_entries": sorted((str(t.id), t.status) for t in await TimeEntry.all()),
    }


# ---------------------------------------------------------------- reading

NODE = "query($id: ID!) { node(id: $id) { __typename id } }"
NODES = "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }"


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
    other = await gql.execute(NODE, {"id": world.other_contract_id}, token=world.token(viewer))
    assert (other["node"] is not None) == (viewer in ("other", "staff"))


PARTY_VIEW = """query($id: ID!) { node(id: $id) { ... on Contract {
  allowedActions canReview
  milestones { status allowedActions }
  events(first: 50) { totalCount nodes { kind actor { id } } }
  dispute { status }
} } }"""


@pytest.mark.parametrize("viewer", ["client", "freelancer", "staff"])
async def test_what_each_party_may_do_is_theirs_and_staff_may_do_nothing(gql, world, viewer):
    data = await gql.execute(PARTY_VIEW, {"id": world.ids["fixed"]}, token=world.token(viewer))
    contract = data["node"]
    expected = {
        "client": (
            ["ADD_MILESTONE", "PAUSE", "END", "OPEN_DISPUTE"],
            [["APPROVE"], ["REQUEST_CHANGES", "APPROVE"], ["FUND"]],
        ),
        "freelancer": (["END", "OPEN_DISPUTE"], [["SUBMIT", "REFUND"], ["REFUND"], []]),
        "staff": ([], [[], [], []]),
    }[viewer]
    assert contract["allowedActions"] == expected[0]
    assert [m["status"] for m in contract["milestones"]] == ["FUNDED", "SUBMITTED", "PENDING"]
    assert [m["allowedActions"] for m in contract["milestones"]] == expected[1]
    assert contract["canReview"] is False
    assert contract["events"]["totalCount"] == len(contract["events"]["nodes"]) == 5
    disputed = await gql.execute(
        PARTY_VIEW, {"id": world.ids["disputed"]}, token=world.token(viewer)
    )
    assert disputed["node"]["dispute"] == {"status": "OPEN"}
    assert disputed["node"]["allowedActions"] == []
    assert disputed["node"]["milestones"] == [{"status": "FUNDED", "allowedActions": []}]


VIEWER_CONTRACTS = """query($status: ContractStatus) { viewer {
  contracts(first: 50, status: $status) { totalCount nodes { id } } } }"""


VIEWER_CONTRACT_IDS = """query($status: ContractStatus) { viewer {
  contracts(first: 50, status: $status) { edges { node { id } } } } }"""


@pytest.mark.parametrize("viewer", VIEWERS)
async def test_viewer_contracts(gql, world, viewer):
    data = await gql.execute(VIEWER_CONTRACTS, token=world.token(viewer))
    if viewer == "anonymous":
        assert data["viewer"] is None
        return
    connection = data["viewer"]["contracts"]
    own = {
        "client": {world.ids[n] for n in ("offer", "fixed", "hourly", "disputed")},
        "other": {world.other_contract_id},
        "staff": set(),
    }
    own["freelancer"] = own["client"]
    assert {node["id"] for node in connection["nodes"]} == own[viewer]
    assert connection["totalCount"] == len(own[viewer])
    if viewer in ("client", "freelancer"):  # newest first
        assert [node["id"] for node in connection["nodes"]] == [
            world.ids[n] for n in ("disputed", "hourly", "offer", "fixed")
        ]
    active = await gql.execute(VIEWER_CONTRACTS, {"status": "ACTIVE"}, token=world.token(viewer))
    expected_active = {
        "client": {world.ids["fixed"], world.ids["hourly"]},
        "freelancer": {world.ids["fixed"], world.ids["hourly"]},
        "other": {world.other_contract_id},
        "staff": set(),
    }[viewer]
    assert {n["id"] for n in active["viewer"]["contracts"]["nodes"]} == expected_active
    # Without totalCount, PostgreSQL answers the page in one statement: the same contracts.
    for status, expected in ((None, own[viewer]), ("ACTIVE", expected_active)):
        page = await gql.execute(VIEWER_CONTRACT_IDS, {"status": status}, token=world.token(viewer))
        assert {e["node"]["id"] for e in page["viewer"]["contracts"]["edges"]} == expected


# ---------------------------------------------------------------- acting

Target = tuple[str, str, dict[str, Any]]  # mutation, field at fault for strangers, input


def targets(world: World) -> dict[str, Target]:
    ids = world.ids
    today = utc_now().date()
    monday = date.fromordinal(today.toordinal() - today.weekday())
    return {
        "withdrawOffer": ("withdrawOffer", "contractId", {"contractId": ids["offer"]}),
        "acceptOffer": ("acceptOffer", "contractId", {"contractId": ids["offer"]}),
        "declineOffer": ("declineOffer", "contractId", {"contractId": ids["offer"]}),
        "pauseContract": ("pauseContract", "contractId", {"contractId": ids["fixed"]}),
        "resumeContract": ("resumeContract", "contractId", {"contractId": ids["fixed"]}),
        "endContract(offer)": ("endContract", "contractId", {"contractId": ids["offer"]}),
        "addMilestone": (
            "addMilestone",
            "contractId",
            {"contractId": ids["fixed"], "milestone": {"title": "Extra", "amount": "10.00"}},
        ),
        "fundMilestone": ("fundMilestone", "milestoneId", {"milestoneId": ids["pending"]}),
        "submitMilestone": (
            "submitMilestone",
            "milestoneId",
            {"milestoneId": ids["funded"], "message": "Done"},
        ),
        "requestMilestoneChanges": (
            "requestMilestoneChanges",
            "milestoneId",
            {"milestoneId": ids["submitted"], "message": "Again"},
        ),
        "approveMilestone": ("approveMilestone", "milestoneId", {"milestoneId": ids["submitted"]}),
        "approveMilestone(pending)": (
            "approveMilestone",
            "milestoneId",
            {"milestoneId": ids["pending"]},
        ),
        "approveMilestone(disputed)": (
            "approveMilestone",
            "milestoneId",
            {"milestoneId": ids["frozen"]},
        ),
        "refundMilestone": ("refundMilestone", "milestoneId", {"milestoneId": ids["funded"]}),
        "logTime": (
            "logTime",
            "contractId",
            {"contractId": ids["hourly"], "date": today.isoformat(), "hours": "1", "memo": "More"},
        ),
        "approveTimesheet": (
            "approveTimesheet",
            "contractId",
            {"contractId": ids["hourly"], "weekStart": monday.isoformat()},
        ),
        "openDispute(offer)": (
            "openDispute",
            "contractId",
            {"contractId": ids["offer"], "reason": "Why"},
        ),
        "resolveDispute": (
            "resolveDispute",
            "disputeId",
            {
                "disputeId": ids["dispute"],
                "releaseToFreelancer": "25.00",
                "refundToClient": "25.00",
                "note": "Halves",
            },
        ),
    }


# What the parties get from each; absent: the party may do it (not tried here).
PARTY_CODES: dict[str, dict[str, str]] = {
    "withdrawOffer": {"freelancer": "FORBIDDEN"},
    "acceptOffer": {"client": "FORBIDDEN"},
    "declineOffer": {"client": "FORBIDDEN"},
    "pauseContract": {"freelancer": "FORBIDDEN"},
    "resumeContract": {"client": "INVALID_STATE", "freelancer": "INVALID_STATE"},
    "endContract(offer)": {"client": "INVALID_STATE", "freelancer": "INVALID_STATE"},
    "addMilestone": {"freelancer": "FORBIDDEN"},
    "fundMilestone": {"freelancer": "FORBIDDEN"},
    "submitMilestone": {"client": "FORBIDDEN"},
    "requestMilestoneChanges": {"freelancer": "FORBIDDEN"},
    "approveMilestone": {"freelancer": "FORBIDDEN"},
    "approveMilestone(pending)": {"client": "INVALID_STATE", "freelancer": "INVALID_STATE"},
    # the party check comes before the contract's status
    "approveMilestone(disputed)": {"client": "INVALID_STATE", "freelancer": "FORBIDDEN"},
    "refundMilestone": {"client": "FORBIDDEN"},
    "logTime": {"client": "FORBIDDEN"},
    "approveTimesheet": {"freelancer": "FORBIDDEN"},
    "openDispute(offer)": {"client": "INVALID_STATE", "freelancer": "INVALID_STATE"},
    "resolveDispute": {"client": "FORBIDDEN", "freelancer": "FORBIDDEN"},
}
STAFF_MAY = {"resolveDispute"}


def expected_error(name: str, viewer: str, field: str) -> tuple[list[str] | None, str] | None:
    if viewer in ("other", "staff"):
        if viewer == "staff" and name in STAFF_MAY:
            return None
        return (["input", field], "NOT_FOUND")
    code = PARTY_CODES[name].get(viewer)
    return (None, code) if code else None


@pytest.mark.parametrize("viewer", ["client", "freelancer", "other", "staff"])
async def test_money_mutations_by_the_wrong_viewer(gql, world, viewer):
    before = await snapshot()
    tried = 0
    for name, (operation, field, input) in targets(world).items():
        expected = expected_error(name, viewer, field)
        if expected is None:
            continue
        payload = await call(gql, operation, input, world.sessions[viewer])
        assert all(value is None for key, value in payload.items() if key != "userErrors"), (
            name,
            payload,
        )
        errors = [(e["field"], e["code"]) for e in payload["userErrors"]]
        if expected[1] == "NOT_FOUND":
            assert errors == [expected], name
        else:
            assert [code for _, code in errors] == [expected[1]], name
        tried += 1
    assert tried == {"client": 11, "freelancer": 13, "other": 18, "staff": 17}[viewer]
    assert await snapshot() == before
    await assert_ledger_invariants()


ANONYMOUS = [*[name for name in PARTY_CODES], "addFunds", "withdrawFunds", "purchaseConnects"]


@pytest.mark.parametrize("name", ANONYMOUS)
async def test_anonymous_money_mutations_are_unauthenticated(gql, world, name):
    if name in PARTY_CODES:
        operation, _, input = targets(world)[name]
    else:
        operation, input = (
            name,
            ({"quantity": 5} if name == "purchaseConnects" else {"amount": "10.00"}),
        )
    before = await snapshot()
    body = await gql.execute_raw(mutation(operation), {"input": input})
    assert body["data"] is None
    assert [error["extensions"]["code"] for error in body["errors"]] == ["UNAUTHENTICATED"]
    assert body["errors"][0]["path"] == [operation]
    assert await snapshot() == before


async def test_resolve_dispute_by_a_party_is_forbidden_and_by_staff_resolves(gql, world):
    _, _, input = targets(world)["resolveDispute"]
    for party in ("client", "freelancer"):
        payload = await call(gql, "resolveDispute", input, world.sessions[party])
        assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    resolved = (await ok(gql, "resolveDispute", input, world.sessions["staff"]))["dispute"]
    assert (resolved["status"], resolved["releasedToFreelancer"], resolved["refundedToClient"]) == (
        "RESOLVED",
        "25.00",
        "25.00",
    )
    assert resolved["contract"]["status"] == "ACTIVE"
    # what staff resolved, the parties see
    for party in ("client", "freelancer"):
        data = await gql.execute(
            "query($id: ID!) { node(id: $id) { ... on Dispute { status } } }",
            {"id": world.ids["dispute"]},
            token=world.token(party),
        )
        assert data["node"] == {"status": "RESOLVED"}
    await assert_ledger_invariants()


async def test_ids_of_the_wrong_type_are_not_found(gql, world):
    """A milestone's ID where a contract's is expected, and the other way round."""
    client = world.sessions["client"]
    payload = await call(gql, "pauseContract", {"contractId": world.ids["funded"]}, client)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "contractId"], "NOT_FOUND")
    ]
    payload = await call(gql, "fundMilestone", {"milestoneId": world.ids["fixed"]}, client)
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "milestoneId"], "NOT_FOUND")
    ]
    payload = await call(
        gql,
        "resolveDispute",
        {
            "disputeId": world.ids["fixed"],
            "releaseToFreelancer": "1",
            "refundToClient": "1",
            "note": "x",
        },
        world.sessions["staff"],
    )
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "disputeId"], "NOT_FOUND")
    ]
