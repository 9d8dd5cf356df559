"""Shortcuts for the contract and money API tests: scenes built through the model actions, every
contract, milestone, wallet and dispute mutation by name, and small readers over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from models.actors import Actor
from models.contracts.orm import Contract, Milestone
from models.users.actions import Session
from schema.core import encode_global_id
from tests.contracts_factory import make_contract

CONTRACT = """id status contractType totalAmount escrowAmount paidAmount allowedActions
  hourlyRate weeklyLimitHours offerExpiresAt startedAt endedAt reviewDeadline
  milestones { id position title status amount allowedActions }"""
MILESTONE = """id position title status amount allowedActions autoReleaseAt fundedAt
  submittedAt paidAt submissions { message attachmentUrls }
  contract { id status escrowAmount paidAmount totalAmount }"""
TIME_ENTRY = "id date hours amount memo status contract { id }"
DISPUTE = """id status reason releasedToFreelancer refundedToClient resolutionNote resolvedAt
  openedBy { displayName } milestone { id } contract { id status escrowAmount paidAmount }"""
WALLET = "available inEscrow currency"

CONTRACT_PAYLOAD = f"contract {{ {CONTRACT} }}"
MILESTONE_PAYLOAD = f"milestone {{ {MILESTONE} }}"
DISPUTE_PAYLOAD = f"dispute {{ {DISPUTE} }}"
WALLET_PAYLOAD = f"wallet {{ {WALLET} }}"

# mutation -> (input type, payload selection without userErrors)
MUTATIONS: dict[str, tuple[str, str]] = {
    "sendOffer": ("SendOfferInput", CONTRACT_PAYLOAD),
    "withdrawOffer": ("ContractIdInput", CONTRACT_PAYLOAD),
    "acceptOffer": ("ContractIdInput", CONTRACT_PAYLOAD),
    "declineOffer": ("ContractIdInput", CONTRACT_PAYLOAD),
    "pauseContract": ("ContractIdInput", CONTRACT_PAYLOAD),
    "resumeContract": ("ContractIdInput", CONTRACT_PAYLOAD),
    "endContract": ("EndContractInput", CONTRACT_PAYLOAD),
    "addMilestone": ("AddMilestoneInput", MILESTONE_PAYLOAD),
    "fundMilestone": ("MilestoneIdInput", MILESTONE_PAYLOAD),
    "submitMilestone": ("SubmitMilestoneInput", MILESTONE_PAYLOAD),
    "requestMilestoneChanges": ("RequestMilestoneChangesInput", MILESTONE_PAYLOAD),
    "approveMilestone": ("MilestoneIdInput", MILESTONE_PAYLOAD),
    "refundMilestone": ("MilestoneIdInput", MILESTONE_PAYLOAD),
    "logTime": ("LogTimeInput", f"timeEntry {{ {TIME_ENTRY} }}"),
    "approveTimesheet": ("ApproveTimesheetInput", CONTRACT_PAYLOAD),
    "openDispute": ("OpenDisputeInput", DISPUTE_PAYLOAD),
    "resolveDispute": ("ResolveDisputeInput", DISPUTE_PAYLOAD),
    "addFunds": ("AddFundsInput", WALLET_PAYLOAD),
    "withdrawFunds": ("WithdrawFundsInput", WALLET_PAYLOAD),
    "purchaseConnects": ("PurchaseConnectsInput", f"connectsBalance {WALLET_PAYLOAD}"),
}


def mutation(name: str) -> str:
    input_type, selection = MUTATIONS[name]
    return (
        f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ {selection} "
        f"userErrors {{ field code message }} }} }}"
    )


def gid(type_name: str, pk: Any) -> str:
    return str(encode_global_id(type_name, pk))


def token_of(session: Session | None) -> str | None:
    return session.token if session is not None else None


async def call(
    gql: Any, name: str, input: dict[str, Any], session: Session | None
) -> dict[str, Any]:
    """The mutation's payload (userErrors included); no GraphQL error allowed."""
    data = await gql.execute(mutation(name), {"input": input}, token=token_of(session))
    return data[name]


async def ok(gql: Any, name: str, input: dict[str, Any], session: Session) -> dict[str, Any]:
    """The payload of a mutation that must succeed."""
    payload = await call(gql, name, input, session)
    assert payload["userErrors"] == [], (name, payload["userErrors"])
    return payload


def errors_of(payload: dict[str, Any]) -> list[tuple[list[str] | None, str]]:
    return [(error["field"], error["code"]) for error in payload["userErrors"]]


def codes_of(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]


async def refused(gql: Any, name: str, input: dict[str, Any], session: Session | None) -> list[str]:
    """The userError codes of a mutation that must fail, with nothing in the payload."""
    payload = await call(gql, name, input, session)
    assert all(value is None for key, value in payload.items() if key != "userErrors"), payload
    assert payload["userErrors"], payload
    return codes_of(payload)


async def node(
    gql: Any, global_id: str, session: Session | None, selection: str
) -> dict[str, Any] | None:
    type_name = _type_of(global_id)
    data = await gql.execute(
        f"query($id: ID!) {{ node(id: $id) {{ __typename "
        f"... on {type_name} {{ {selection} }} }} }}",
        {"id": global_id},
        token=token_of(session),
    )
    return data["node"]


def _type_of(global_id: str) -> str:
    from resolvers.ids import parse_global_id

    parsed = parse_global_id(global_id)
    assert parsed is not None, global_id
    return parsed[0]


async def contract_as(
    gql: Any, contract_id: str, session: Session | None, selection: str = CONTRACT
) -> dict[str, Any] | None:
    return await node(gql, contract_id, session, selection)


async def milestone_as(
    gql: Any, milestone_id: str, session: Session | None, selection: str = MILESTONE
) -> dict[str, Any] | None:
    return await node(gql, milestone_id, session, selection)


async def wallet_of(gql: Any, session: Session, transactions: int = 0) -> dict[str, Any]:
    extra = (
        f" transactions(first: {transactions}) {{ totalCount nodes {{ id kind amount "
        f"balanceAfter memo contract {{ id }} milestone {{ id }} }} }}"
        if transactions
        else ""
    )
    data = await gql.execute(
        f"{{ viewer {{ connectsBalance wallet {{ {WALLET}{extra} }} }} }}", token=session.token
    )
    return {**data["viewer"]["wallet"], "connects": data["viewer"]["connectsBalance"]}


@dataclass
class Scene:
    """A contract between a client and a freelancer (default: accepted, one 100.00 milestone,
    1000.00 in the client's wallet)."""

    row: Contract
    client: Session
    freelancer: Session
    client_actor: Actor
    freelancer_actor: Actor
    milestone_ids: list[str]

    @property
    def contract_id(self) -> str:
        return gid("Contract", self.row.id)

    @property
    def milestone_id(self) -> str:
        return self.milestone_ids[0]

    def session(self, party: str) -> Session:
        return {"client": self.client, "freelancer": self.freelancer}[party]


async def make_scene(**options: Any) -> Scene:
    contract, client_actor, freelancer_actor, client, freelancer = await make_contract(**options)
    milestones = await Milestone.filter(contract_id=contract.id).order_by("position")
    return Scene(
        row=contract,
        client=client,
        freelancer=freelancer,
        client_actor=client_actor,
        freelancer_actor=freelancer_actor,
        milestone_ids=[gid("Milestone", milestone.id) for milestone in milestones],
    )
