"""Offers, escrow and wallets through the API."""

from decimal import Decimal

import pytest

from models.contracts.orm import Milestone
from schema.core import encode_global_id
from tests.conftest import count_statements
from tests.contracts_factory import make_contract
from tests.ledger import assert_ledger_invariants

CONTRACT_FIELDS = """
  id status escrowAmount paidAmount totalAmount allowedActions
  milestones { id status amount allowedActions }
"""
FUND = f"""
mutation($input: MilestoneIdInput!) {{
  fundMilestone(input: $input) {{ milestone {{ status contract {{ {CONTRACT_FIELDS} }} }}
                                 userErrors {{ field code message }} }}
}}"""
APPROVE = FUND.replace("fundMilestone", "approveMilestone")
WALLET = "{ viewer { wallet { available inEscrow transactions(first: 10) { nodes { kind amount balanceAfter } } } } }"
VIEWER_CONTRACTS = """
query($first: Int) { viewer { contracts(first: $first) { nodes {
  id status escrowAmount
  milestones { title status }
  events(first: 10) { nodes { kind actor { displayName } } }
  client { companyName user { displayName } }
  freelancer { title user { displayName } }
} } } }"""


async def test_the_client_funds_and_approves_and_the_ledger_shows_it(gql, db):
    contract, _client, _freelancer, client_session, freelancer_session = await make_contract(
        milestones=["200.00"]
    )
    milestone = await Milestone.get(contract_id=contract.id)
    milestone_id = encode_global_id("Milestone", milestone.id)
    # when
    funded = await gql.execute(
        FUND,
        {"input": {"milestoneId": milestone_id, "idempotencyKey": "k1"}},
        token=client_session.token,
    )
    replay = await gql.execute(
        FUND,
        {"input": {"milestoneId": milestone_id, "idempotencyKey": "k1"}},
        token=client_session.token,
    )
    approved = await gql.execute(
        APPROVE, {"input": {"milestoneId": milestone_id}}, token=client_session.token
    )
    # then
    assert funded["fundMilestone"]["milestone"]["contract"]["escrowAmount"] == "200.00"
    assert replay["fundMilestone"] == funded["fundMilestone"]
    assert approved["approveMilestone"]["milestone"]["status"] == "PAID"
    assert approved["approveMilestone"]["milestone"]["contract"]["paidAmount"] == "200.00"
    client_wallet = (await gql.execute(WALLET, token=client_session.token))["viewer"]["wallet"]
    assert client_wallet["available"] == "790.00"
    assert [(t["kind"], t["amount"]) for t in client_wallet["transactions"]["nodes"]] == [
        ("SERVICE_FEE", "-10.00"),
        ("ESCROW_FUND", "-200.00"),
        ("DEPOSIT", "1000.00"),
    ]
    freelancer_wallet = (await gql.execute(WALLET, token=freelancer_session.token))["viewer"][
        "wallet"
    ]
    assert freelancer_wallet["available"] == "180.00"
    await assert_ledger_invariants()


async def test_a_second_approval_is_invalid_state_and_strangers_see_nothing(gql, db):
    contract, _, _, client_session, freelancer_session = await make_contract(milestones=["50.00"])
    _, _, _, stranger_session, _ = await make_contract()
    milestone_id = encode_global_id("Milestone", (await Milestone.get(contract_id=contract.id)).id)
    await gql.execute(FUND, {"input": {"milestoneId": milestone_id}}, token=client_session.token)
    await gql.execute(APPROVE, {"input": {"milestoneId": milestone_id}}, token=client_session.token)
    again = await gql.execute(
        APPROVE, {"input": {"milestoneId": milestone_id}}, token=client_session.token
    )
    assert again["approveMilestone"]["userErrors"][0]["code"] == "INVALID_STATE"
    by_freelancer = await gql.execute(
        APPROVE, {"input": {"milestoneId": milestone_id}}, token=freelancer_session.token
    )
    assert by_freelancer["approveMilestone"]["userErrors"][0]["code"] in (
        "FORBIDDEN",
        "INVALID_STATE",
    )
    by_stranger = await gql.execute(
        APPROVE, {"input": {"milestoneId": milestone_id}}, token=stranger_session.token
    )
    assert by_stranger["approveMilestone"]["userErrors"][0]["code"] == "NOT_FOUND"
    node = await gql.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": milestone_id},
        token=stranger_session.token,
    )
    assert node["node"] is None


@pytest.mark.parametrize("amount", ["0", "-1", "1.005", "1e3", "12345678901234567890"])
async def test_decimal_edge_cases_are_validation_errors_and_move_nothing(gql, db, amount):
    _, _, _, client_session, _ = await make_contract()
    data = await gql.execute(
        "mutation($a: Decimal!) { addFunds(input: {amount: $a}) { wallet { available } "
        "userErrors { field code } } }",
        {"a": amount},
        token=client_session.token,
    )
    assert data["addFunds"]["userErrors"] == [{"field": ["input", "amount"], "code": "VALIDATION"}]
    assert (await gql.execute(WALLET, token=client_session.token))["viewer"]["wallet"][
        "available"
    ] == "1000.00"


async def test_fee_quote():
    from resolvers.contracts.queries import fee_quote

    quote = fee_quote(Decimal("100.10"))
    assert (
        quote.client_fee,
        quote.client_pays,
        quote.freelancer_fee,
        quote.freelancer_receives,
    ) == (Decimal("5.01"), Decimal("105.11"), Decimal("10.01"), Decimal("90.09"))


async def test_viewer_contracts_statement_count_does_not_grow_with_page_size(gql, db):
    contract, client, freelancer, client_session, _ = await make_contract(
        milestones=["10.00", "20.00"]
    )
    from models.contracts.actions import MilestoneDraft, send_offer
    from models.contracts.orm import ContractType
    from models.proposals.orm import Proposal

    proposal = await Proposal.get(id=contract.proposal_id)
    # More offers from the same client to the same freelancer's proposals on new jobs.
    from models.jobs.actions import post_job
    from models.proposals import connects
    from models.proposals.actions import submit_proposal
    from models.proposals.orm import ConnectsReason

    await connects.credit(freelancer.freelancer_profile_id, 500, ConnectsReason.PURCHASE)
    for index in range(55):
        job = await post_job(
            client,
            {
                "title": f"Job {index}",
                "description": "d",
                "skills": ["python"],
                "budget_type": "FIXED",
                "budget": Decimal(100),
                "experience_level": "ENTRY",
            },
        )
        offer_proposal, _ = await submit_proposal(
            freelancer,
            job.id,
            cover_letter="c",
            bid_amount=Decimal(90),
            estimated_duration_days=None,
        )
        await send_offer(
            client,
            offer_proposal.id,
            title=f"C{index}",
            terms="t",
            contract_type=ContractType.FIXED,
            milestones=[MilestoneDraft(title="M", amount=Decimal(90))],
            hourly_rate=None,
            weekly_limit_hours=None,
            deadline=None,
        )
    assert proposal is not None
    counts = []
    for size in (5, 50):
        with count_statements() as counter:
            data = await gql.execute(VIEWER_CONTRACTS, {"first": size}, token=client_session.token)
        assert len(data["viewer"]["contracts"]["nodes"]) == size
        counts.append(counter.count)
    print(f"statements for viewer.contracts(first: 5/50): {counts}")
    assert counts[0] == counts[1]
