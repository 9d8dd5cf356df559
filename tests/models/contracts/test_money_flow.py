"""Escrow from funding to release, refund, dispute and timesheets, with the ledger checked."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from models.actors import actor_for
from models.contracts import actions, disputes, hourly, milestones
from models.contracts.orm import Contract, ContractStatus, Milestone, MilestoneStatus
from models.errors import DomainError, ErrorCode
from models.payments import wallet
from models.payments.accounts import wallet_balance
from models.payments.orm import JournalEntry
from tests.contracts_factory import make_contract
from tests.factories import make_user
from tests.ledger import assert_ledger_invariants

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(autouse=True)
async def ledger_holds(db):
    # Depends on `db` so that the check runs before the tables are emptied.
    yield
    await assert_ledger_invariants()


async def test_fund_submit_approve_pays_the_freelancer_less_the_fee():
    # given
    contract, client, freelancer, *_ = await make_contract(milestones=["200.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    # when
    await milestones.fund_milestone(client, milestone.id)
    await milestones.submit(freelancer, milestone.id, "Done", ["https://x.example/pr/1"])
    await milestones.approve_milestone(client, milestone.id)
    # then: client paid 200 + 5% fee; freelancer got 200 - 10%
    assert await wallet_balance(client.user_id) == 100000 - 20000 - 1000
    assert await wallet_balance(freelancer.user_id) == 20000 - 2000
    contract = await Contract.get(id=contract.id)
    assert (contract.funded_cents, contract.paid_cents, contract.refunded_cents) == (20000,) * 2 + (
        0,
    )
    assert (await Milestone.get(id=milestone.id)).status == MilestoneStatus.PAID


async def test_a_second_approval_moves_nothing():
    contract, client, *_ = await make_contract(milestones=["200.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    await milestones.fund_milestone(client, milestone.id)
    await milestones.approve_milestone(client, milestone.id)
    with pytest.raises(DomainError) as error:
        await milestones.approve_milestone(client, milestone.id)
    assert error.value.code == ErrorCode.INVALID_STATE
    assert await JournalEntry.filter(unique_key=f"settle:{milestone.id}").count() == 1


async def test_idempotency_key_replays_the_first_result():
    contract, client, *_ = await make_contract(milestones=["200.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    first, _ = await milestones.fund_milestone(client, milestone.id, "fund-1")
    again, events = await milestones.fund_milestone(client, milestone.id, "fund-1")
    assert again.id == first.id and events == []
    assert await wallet_balance(client.user_id) == 100000 - 20000 - 1000


async def test_funding_needs_money_in_the_wallet():
    contract, client, *_ = await make_contract(milestones=["2000.00"], client_funds="100.00")
    milestone = await Milestone.get(contract_id=contract.id)
    with pytest.raises(DomainError) as error:
        await milestones.fund_milestone(client, milestone.id)
    assert error.value.code == ErrorCode.INSUFFICIENT_FUNDS
    assert (await Milestone.get(id=milestone.id)).status == MilestoneStatus.PENDING
    assert await wallet_balance(client.user_id) == 10000


async def test_refund_returns_escrow_and_end_completes_or_cancels():
    contract, client, freelancer, *_ = await make_contract(milestones=["100.00", "50.00"])
    first, _second = await Milestone.filter(contract_id=contract.id).order_by("position")
    await milestones.fund_milestone(client, first.id)
    with pytest.raises(DomainError):
        await actions.end_contract(client, contract.id)  # escrow unsettled
    await milestones.refund_milestone(freelancer, first.id)
    ended, _ = await actions.end_contract(client, contract.id)
    assert ended.status == ContractStatus.CANCELLED  # nothing was paid
    assert await wallet_balance(client.user_id) == 100000  # the marketplace fee came back too


async def test_dispute_splits_the_frozen_escrow_exactly():
    contract, client, freelancer, *_ = await make_contract(milestones=["100.00", "60.00"])
    for milestone in await Milestone.filter(contract_id=contract.id):
        await milestones.fund_milestone(client, milestone.id)
    dispute, _ = await disputes.open_dispute(client, contract.id, None, "Work not delivered")
    assert (await Contract.get(id=contract.id)).status == ContractStatus.DISPUTED
    with pytest.raises(DomainError):  # frozen: no release while disputed
        await milestones.approve_milestone(
            client, (await Milestone.filter(contract_id=contract.id).first()).id
        )
    staff = await actor_for((await make_user(is_staff=True)).user)
    with pytest.raises(DomainError) as error:
        await disputes.resolve_dispute(
            staff, dispute.id, release=Decimal(100), refund=Decimal("59.99"), note="split"
        )
    assert error.value.code == ErrorCode.VALIDATION
    with pytest.raises(DomainError) as error:
        await disputes.resolve_dispute(
            client, dispute.id, release=Decimal(0), refund=Decimal(160), note="mine"
        )
    assert error.value.code == ErrorCode.FORBIDDEN
    await disputes.resolve_dispute(
        staff, dispute.id, release=Decimal(120), refund=Decimal(40), note="split"
    )
    first, second = await Milestone.filter(contract_id=contract.id).order_by("position")
    assert (first.status, first.released_cents) == (MilestoneStatus.PAID, 10000)
    assert (second.released_cents, second.refunded_cents) == (2000, 4000)
    assert await wallet_balance(freelancer.user_id) == 12000 - 1200
    assert (await Contract.get(id=contract.id)).status == ContractStatus.ACTIVE


async def test_hourly_week_within_the_limit_is_paid_once():
    contract, client, freelancer, *_ = await make_contract(
        hourly_rate="40.00", weekly_limit_hours=10
    )
    monday = date(2026, 11, 16)
    await hourly.log_time(freelancer, contract.id, monday, Decimal(6), "API", today=monday)
    with pytest.raises(DomainError) as error:
        await hourly.log_time(
            freelancer,
            contract.id,
            monday + timedelta(days=1),
            Decimal("4.01"),
            "more",
            today=monday + timedelta(days=1),
        )
    assert error.value.code == ErrorCode.VALIDATION
    await hourly.log_time(
        freelancer,
        contract.id,
        monday + timedelta(days=2),
        Decimal("1.5"),
        "tests",
        today=monday + timedelta(days=2),
    )
    await hourly.approve_timesheet(client, contract.id, monday, "week-47")
    await hourly.approve_timesheet(client, contract.id, monday, "week-47")  # replay
    assert await wallet_balance(freelancer.user_id) == 30000 - 3000  # 7.5 h x 40
    assert await wallet_balance(client.user_id) == 100000 - 30000 - 1500
    with pytest.raises(DomainError):
        await hourly.approve_timesheet(client, contract.id, monday)


async def test_withdrawals_never_overdraw_and_connects_cost_money():
    _, client, freelancer, *_ = await make_contract(client_funds="10.00")
    with pytest.raises(DomainError) as error:
        await wallet.withdraw_funds(client, Decimal("10.01"))
    assert error.value.code == ErrorCode.INSUFFICIENT_FUNDS
    await wallet.withdraw_funds(client, Decimal("10.00"))
    assert await wallet_balance(client.user_id) == 0
    await wallet.add_funds(freelancer, Decimal("3.00"))
    before = await wallet.purchase_connects(freelancer, 10, "buy-1")
    assert before == await wallet.purchase_connects(freelancer, 10, "buy-1")
    assert await wallet_balance(freelancer.user_id) == 300 - 150


async def test_scheduler_expires_offers_and_auto_releases_with_an_injected_clock():
    from models.base import utc_now
    from models.scheduler import run_due

    offer, *_ = await make_contract(accept=False, client_funds=None)
    contract, client, freelancer, *_ = await make_contract(milestones=["80.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    await milestones.fund_milestone(client, milestone.id)
    await milestones.submit(freelancer, milestone.id, "Done", [])
    # when: 6 days later nothing is due
    assert await run_due(utc_now() + timedelta(days=6)) == []
    # then: after the windows, both rules fire, once
    later = utc_now() + timedelta(days=15)
    assert await run_due(later)
    assert await run_due(later) == []
    assert (await Contract.get(id=offer.id)).status == ContractStatus.EXPIRED
    assert (await Milestone.get(id=milestone.id)).status == MilestoneStatus.PAID
    assert await wallet_balance(freelancer.user_id) == 8000 - 800
