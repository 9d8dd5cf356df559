"""A refund gives the client's marketplace fee back with the escrow: whole on a refund, pro
rata on a dispute split, once, in the refund's own transaction."""

from __future__ import annotations

import asyncio
import math
from decimal import Decimal
from fractions import Fraction

import pytest

from models.actors import actor_for
from models.contracts import disputes, milestones
from models.contracts.milestones import fee_return_key
from models.contracts.orm import Milestone, MilestoneStatus
from models.errors import DomainError, ErrorCode
from models.payments.accounts import wallet_balance
from models.payments.ledger import PLATFORM_KEY, fee_returned_cents
from models.payments.orm import Account, JournalEntry, TransactionKind
from tests.contracts_factory import make_contract
from tests.factories import make_user
from tests.ledger import assert_ledger_invariants
from tests.services import require_concurrent_postgres

pytestmark = pytest.mark.usefixtures("db")


@pytest.fixture(autouse=True)
async def ledger_holds(db):
    yield
    await assert_ledger_invariants()


def half_up(value: Fraction) -> int:
    return math.floor(value + Fraction(1, 2))


async def platform_balance() -> int:
    found = await Account.filter(key=PLATFORM_KEY).values_list("balance_cents", flat=True)
    return found[0] if found else 0


async def fee_refunds(milestone_id: object) -> list[int]:
    entries = await JournalEntry.filter(
        milestone_id=milestone_id, kind=TransactionKind.FEE_REFUND
    ).prefetch_related("postings")
    return [sum(p.amount_cents for p in e.postings if p.amount_cents > 0) for e in entries]


async def staff_actor():
    return await actor_for((await make_user(is_staff=True)).user)


def test_the_pro_rata_share_rounds_half_up_and_never_exceeds_the_fee():
    assert fee_returned_cents(1667, 23333, 33333) == 1167  # 1166.90 -> 1167
    assert fee_returned_cents(1667, 10000, 33333) == 500  # 500.11 -> 500
    assert fee_returned_cents(3, 1, 2) == 2  # 1.5 -> 2, half up
    assert fee_returned_cents(1667, 33333, 33333) == 1667
    assert fee_returned_cents(1667, 99999, 33333) == 1667  # capped at what was charged
    assert fee_returned_cents(0, 100, 100) == 0


async def test_a_full_refund_restores_the_clients_available_balance_exactly():
    contract, client, freelancer, *_ = await make_contract(milestones=["333.33"])
    milestone = await Milestone.get(contract_id=contract.id)
    before = await wallet_balance(client.user_id)
    await milestones.fund_milestone(client, milestone.id)
    assert await wallet_balance(client.user_id) == before - 33333 - 1667
    assert await platform_balance() == 1667
    await milestones.refund_milestone(freelancer, milestone.id)
    assert await wallet_balance(client.user_id) == before
    assert await platform_balance() == 0
    assert await fee_refunds(milestone.id) == [1667]
    assert await JournalEntry.filter(unique_key=fee_return_key(milestone.id)).count() == 1


async def test_a_milestone_dispute_split_returns_the_fee_pro_rata_to_the_cent():
    contract, client, freelancer, *_ = await make_contract(milestones=["333.33"])
    milestone = await Milestone.get(contract_id=contract.id)
    before = await wallet_balance(client.user_id)
    await milestones.fund_milestone(client, milestone.id)
    dispute, _ = await disputes.open_dispute(freelancer, contract.id, milestone.id, "Half done")
    await disputes.resolve_dispute(
        await staff_actor(),
        dispute.id,
        release=Decimal("100.00"),
        refund=Decimal("233.33"),
        note="Split",
    )
    # 5 % of 333.33 is 16.6665 -> 16.67 charged; 16.67 x 233.33 / 333.33 = 11.669 -> 11.67 back
    assert await fee_refunds(milestone.id) == [1167]
    assert await wallet_balance(client.user_id) == before - 33333 - 1667 + 23333 + 1167
    assert await wallet_balance(freelancer.user_id) == 10000 - 1000
    assert await platform_balance() == (1667 - 1167) + 1000


async def test_a_contract_dispute_over_several_milestones_returns_each_fee_in_its_part():
    amounts = [33333, 33333, 10000]
    contract, client, freelancer, *_ = await make_contract(
        milestones=["333.33", "333.33", "100.00"], client_funds="2000.00"
    )
    rows = await Milestone.filter(contract_id=contract.id).order_by("position")
    before = await wallet_balance(client.user_id)
    for row in rows:
        await milestones.fund_milestone(client, row.id)
    dispute, _ = await disputes.open_dispute(client, contract.id, None, "Partly delivered")
    await disputes.resolve_dispute(
        await staff_actor(), dispute.id, release=Decimal(400), refund=Decimal("366.66"), note="x"
    )
    charged = [half_up(Fraction(a, 20)) for a in amounts]  # 5 %
    refunded = [0, 33333 - 6667, 10000]
    expected = [half_up(Fraction(c * r, a)) for c, r, a in zip(charged, refunded, amounts)]
    assert expected == [0, 1334, 500]
    got = [sum(await fee_refunds(row.id)) for row in rows]
    assert got == expected
    assert all(back <= fee for back, fee in zip(got, charged))
    assert await wallet_balance(client.user_id) == (
        before - sum(amounts) - sum(charged) + sum(refunded) + sum(expected)
    )
    # the freelancer's side is untouched: the service fee on what was released
    assert await wallet_balance(freelancer.user_id) == (33333 - 3333) + (6667 - 667)
    statuses = [
        MilestoneStatus(status)
        for status in await Milestone.filter(contract_id=contract.id)
        .order_by("position")
        .values_list("status", flat=True)
    ]
    assert statuses == [MilestoneStatus.PAID, MilestoneStatus.PAID, MilestoneStatus.REFUNDED]


async def test_a_retried_refund_with_the_same_key_moves_nothing_twice():
    contract, client, freelancer, *_ = await make_contract(milestones=["100.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    before = await wallet_balance(client.user_id)
    await milestones.fund_milestone(client, milestone.id)
    first, _ = await milestones.refund_milestone(freelancer, milestone.id, "refund-1")
    again, events = await milestones.refund_milestone(freelancer, milestone.id, "refund-1")
    assert again.id == first.id and events == []
    assert await wallet_balance(client.user_id) == before
    assert await fee_refunds(milestone.id) == [500]
    with pytest.raises(DomainError) as error:  # a new key is a new request: refused
        await milestones.refund_milestone(freelancer, milestone.id, "refund-2")
    assert error.value.code == ErrorCode.INVALID_STATE
    assert await fee_refunds(milestone.id) == [500]


async def test_concurrent_refunds_return_the_fee_once(db):
    require_concurrent_postgres(db.backend)
    for _ in range(4):
        contract, client, freelancer, *_ = await make_contract(milestones=["120.00"])
        milestone = await Milestone.get(contract_id=contract.id)
        before = await wallet_balance(client.user_id)
        await milestones.fund_milestone(client, milestone.id)
        results = await asyncio.gather(
            *(milestones.refund_milestone(freelancer, milestone.id) for _ in range(10)),
            return_exceptions=True,
        )
        failed = [r for r in results if isinstance(r, BaseException)]
        assert len(failed) == 9, results
        assert all(
            isinstance(e, DomainError) and e.code == ErrorCode.INVALID_STATE for e in failed
        ), failed
        assert await fee_refunds(milestone.id) == [600]
        assert await wallet_balance(client.user_id) == before
