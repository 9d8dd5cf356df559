"""Money actions racing each other on PostgreSQL, in truly overlapping transactions.

Tortoise runs each `in_transaction()` on its own connection from the asyncpg pool (5 by
default), so the gathered actions below hold several open transactions at once. A tracker around
the transaction every money action opens (`models.payments.idempotency.once`) records which
server backend each one runs on, and proves both that transactions overlapped and that no two
open at the same time ever shared a connection. SQLite runs one transaction at a time: these
tests are skipped there (and fail under CI=true without PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from tortoise.transactions import in_transaction

from models.actors import Actor, actor_for
from models.contracts import actions, disputes, milestones
from models.contracts.actions import MilestoneDraft
from models.contracts.milestones import settle_key
from models.contracts.orm import (
    Contract,
    ContractEvent,
    ContractEventKind,
    ContractType,
    Milestone,
    MilestoneStatus,
)
from models.errors import DomainError, ErrorCode
from models.jobs.actions import post_job
from models.payments import idempotency, wallet
from models.payments.accounts import wallet_balance
from models.payments.ledger import fee_cents, wallet_key
from models.payments.orm import (
    Account,
    IdempotencyRecord,
    JournalEntry,
    Posting,
    TransactionKind,
)
from models.proposals.actions import submit_proposal
from settings import get_settings
from tests.contracts_factory import make_contract
from tests.factories import make_user
from tests.ledger import assert_ledger_invariants
from tests.services import require_concurrent_postgres


@pytest.fixture
async def postgres(db):
    require_concurrent_postgres(db.backend)
    yield db
    await assert_ledger_invariants()


@dataclass
class Overlap:
    open_backends: list[int] = field(default_factory=list)
    peak: int = 0
    backends: set[int] = field(default_factory=set)
    transactions: int = 0


@pytest.fixture
def overlap(monkeypatch: pytest.MonkeyPatch) -> Overlap:
    """Wrap the transaction of every money action (idempotency.once opens it, with or without
    a key) to see which PostgreSQL backend runs it and how many are open together."""
    seen = Overlap()

    @contextlib.asynccontextmanager
    async def tracked(connection_name: str | None = None) -> AsyncIterator[object]:
        async with in_transaction(connection_name) as connection:
            row = await connection.execute_query_dict("SELECT pg_backend_pid() AS pid")
            pid = row[0]["pid"]
            # each concurrent transaction has a connection of its own
            assert pid not in seen.open_backends, (pid, seen.open_backends)
            seen.open_backends.append(pid)
            seen.backends.add(pid)
            seen.transactions += 1
            seen.peak = max(seen.peak, len(seen.open_backends))
            try:
                yield connection
            finally:
                seen.open_backends.remove(pid)

    monkeypatch.setattr(idempotency, "in_transaction", tracked)
    return seen


def assert_overlapped(seen: Overlap) -> None:
    assert seen.peak > 1 and len(seen.backends) > 1, seen


def split_results(results: Sequence[object]) -> tuple[list[Any], list[BaseException]]:
    done = [result for result in results if not isinstance(result, BaseException)]
    failed = [result for result in results if isinstance(result, BaseException)]
    return done, failed


def assert_domain_errors(failed: list[BaseException], *codes: ErrorCode) -> None:
    """Every failure is a business error with one of these codes (not a deadlock, not a
    unique violation leaking out)."""
    unexpected = [
        error for error in failed if not isinstance(error, DomainError) or error.code not in codes
    ]
    assert not unexpected, unexpected


async def wallet_postings(user_id: object) -> list[int]:
    account = await Account.get(key=wallet_key(user_id))
    return list(
        await Posting.filter(account_id=account.id)
        .order_by("id")
        .values_list("balance_after_cents", flat=True)
    )


def client_fee(cents: int) -> int:
    return fee_cents(cents, get_settings().client_fee_rate)


def service_fee(cents: int) -> int:
    return fee_cents(cents, get_settings().freelancer_fee_rate)


async def funded_milestone(
    amount: str = "200.00", *, extra: Sequence[str] = ()
) -> tuple[Contract, Milestone, Actor, Actor]:
    contract, client, freelancer, *_ = await make_contract(milestones=[amount, *extra])
    milestone = await Milestone.get(contract_id=contract.id, position=1)
    await milestones.fund_milestone(client, milestone.id)
    return contract, milestone, client, freelancer


async def another_contract(client: Actor, freelancer: Actor, amounts: Sequence[str]) -> Contract:
    """A second accepted fixed-price contract between the same two people."""
    job = await post_job(
        client,
        {
            "title": "More work",
            "description": "The next part",
            "skills": ["python"],
            "budget_type": "FIXED",
            "budget": Decimal(500),
            "experience_level": "EXPERT",
        },
    )
    proposal, _ = await submit_proposal(
        freelancer,
        job.id,
        cover_letter="Again",
        bid_amount=Decimal(450),
        estimated_duration_days=10,
    )
    contract, _ = await actions.send_offer(
        client,
        proposal.id,
        title="More work",
        terms="Milestones",
        contract_type=ContractType.FIXED,
        milestones=[
            MilestoneDraft(title=f"Step {index + 1}", amount=Decimal(amount))
            for index, amount in enumerate(amounts)
        ],
        hourly_rate=None,
        weekly_limit_hours=None,
        deadline=None,
    )
    contract, _ = await actions.accept_offer(freelancer, contract.id)
    return contract


# --- approvals ---------------------------------------------------------------------------------


async def test_fifty_approvals_of_one_milestone_pay_once(postgres, overlap):
    contract, milestone, client, freelancer = await funded_milestone("200.00")
    client_before = await wallet_balance(client.user_id)
    started = overlap.transactions

    results = await asyncio.gather(
        *(milestones.approve_milestone(client, milestone.id) for _ in range(50)),
        return_exceptions=True,
    )

    assert_overlapped(overlap)
    assert overlap.transactions - started == 50
    done, failed = split_results(results)
    assert len(done) == 1 and len(failed) == 49
    assert_domain_errors(failed, ErrorCode.INVALID_STATE)
    [(paid, events)] = done
    assert paid.status == MilestoneStatus.PAID and events
    assert await wallet_balance(freelancer.user_id) == 20000 - service_fee(20000)
    assert await wallet_balance(client.user_id) == client_before
    assert await JournalEntry.filter(unique_key=settle_key(milestone.id)).count() == 1
    assert (
        await JournalEntry.filter(
            milestone_id=milestone.id, kind=TransactionKind.ESCROW_RELEASE
        ).count()
        == 1
    )
    # the fee on funding and the service fee on the release: no second service fee
    assert (
        await JournalEntry.filter(
            milestone_id=milestone.id, kind=TransactionKind.SERVICE_FEE
        ).count()
        == 2
    )
    contract = await Contract.get(id=contract.id)
    assert (contract.funded_cents, contract.paid_cents, contract.refunded_cents) == (
        20000,
        20000,
        0,
    )
    assert (
        await ContractEvent.filter(
            milestone_id=milestone.id, kind=ContractEventKind.MILESTONE_PAID
        ).count()
        == 1
    )
    assert (await Milestone.get(id=milestone.id)).released_cents == 20000


async def test_approve_racing_refund_of_one_milestone_settles_it_once(postgres, overlap):
    outcomes = set()
    for _ in range(6):
        contract, milestone, client, freelancer = await funded_milestone("120.00")
        client_before = await wallet_balance(client.user_id)
        calls: list[Awaitable[object]] = []
        for index in range(10):
            calls.append(
                milestones.approve_milestone(client, milestone.id)
                if index % 2
                else milestones.refund_milestone(freelancer, milestone.id)
            )
        results = await asyncio.gather(*calls, return_exceptions=True)

        done, failed = split_results(results)
        assert len(done) == 1 and len(failed) == 9, results
        assert_domain_errors(failed, ErrorCode.INVALID_STATE)
        [(settled, _)] = done
        outcomes.add(MilestoneStatus(settled.status))
        assert await JournalEntry.filter(unique_key=settle_key(milestone.id)).count() == 1
        contract = await Contract.get(id=contract.id)
        if settled.status == MilestoneStatus.PAID:
            assert await wallet_balance(freelancer.user_id) == 12000 - service_fee(12000)
            assert await wallet_balance(client.user_id) == client_before
            assert (contract.paid_cents, contract.refunded_cents) == (12000, 0)
        else:
            assert settled.status == MilestoneStatus.REFUNDED
            assert await wallet_balance(freelancer.user_id) == 0
            assert await wallet_balance(client.user_id) == client_before + 12000 + client_fee(12000)
            assert (contract.paid_cents, contract.refunded_cents) == (0, 12000)
    assert_overlapped(overlap)
    assert outcomes <= {MilestoneStatus.PAID, MilestoneStatus.REFUNDED}


# --- funding and refunds -----------------------------------------------------------------------


async def test_funding_one_milestone_while_another_is_refunded(postgres, overlap):
    """Both lock the same contract (and the client's wallet and the escrow): both succeed, in
    either order, and the totals add up."""
    for _ in range(8):
        contract, refunded, client, freelancer = await funded_milestone("150.00", extra=["80.00"])
        to_fund = await Milestone.get(contract_id=contract.id, position=2)
        before = await wallet_balance(client.user_id)

        results = await asyncio.gather(
            milestones.fund_milestone(client, to_fund.id),
            milestones.refund_milestone(freelancer, refunded.id),
            return_exceptions=True,
        )

        _done, failed = split_results(results)
        assert not failed, failed
        assert await wallet_balance(client.user_id) == (
            before - 8000 - client_fee(8000) + 15000 + client_fee(15000)
        )
        contract = await Contract.get(id=contract.id)
        assert (contract.funded_cents, contract.paid_cents, contract.refunded_cents) == (
            23000,
            0,
            15000,
        )
        statuses = dict(
            await Milestone.filter(contract_id=contract.id).values_list("position", "status")
        )
        assert statuses == {1: MilestoneStatus.REFUNDED, 2: MilestoneStatus.FUNDED}
    assert_overlapped(overlap)


async def test_twenty_fundings_of_one_milestone_charge_once(postgres, overlap):
    contract, client, *_ = await make_contract(milestones=["300.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    before = await wallet_balance(client.user_id)

    results = await asyncio.gather(
        *(milestones.fund_milestone(client, milestone.id) for _ in range(20)),
        return_exceptions=True,
    )

    assert_overlapped(overlap)
    done, failed = split_results(results)
    assert len(done) == 1 and len(failed) == 19
    assert_domain_errors(failed, ErrorCode.INVALID_STATE)
    assert await wallet_balance(client.user_id) == before - 30000 - client_fee(30000)
    assert (
        await JournalEntry.filter(
            milestone_id=milestone.id, kind=TransactionKind.ESCROW_FUND
        ).count()
        == 1
    )
    assert (await Contract.get(id=contract.id)).funded_cents == 30000


async def test_twenty_fundings_with_one_idempotency_key_move_money_once(postgres, overlap):
    contract, client, *_ = await make_contract(milestones=["300.00"])
    milestone = await Milestone.get(contract_id=contract.id)
    before = await wallet_balance(client.user_id)

    results = await asyncio.gather(
        *(milestones.fund_milestone(client, milestone.id, "fund-once") for _ in range(20)),
        return_exceptions=True,
    )

    assert_overlapped(overlap)
    done, failed = split_results(results)
    assert not failed, failed  # every retry is answered with the first result
    assert {result.id for result, _ in done} == {milestone.id}
    assert sum(1 for _, events in done if events) == 1  # only the first one did anything
    assert await wallet_balance(client.user_id) == before - 30000 - client_fee(30000)
    assert (
        await JournalEntry.filter(
            milestone_id=milestone.id, kind=TransactionKind.ESCROW_FUND
        ).count()
        == 1
    )
    assert await IdempotencyRecord.filter(user_id=client.user_id, key="fund-once").count() == 1
    assert (await Milestone.get(id=milestone.id)).status == MilestoneStatus.FUNDED


# --- the wallet --------------------------------------------------------------------------------


async def test_withdrawal_racing_funding_on_a_wallet_that_covers_one(postgres, overlap):
    """The wallet holds exactly what either needs (the milestone plus the marketplace fee):
    one wins, the other is refused, and the wallet never dips below zero, even briefly."""
    needed = 10000 + client_fee(10000)
    for round_ in range(10):
        contract, client, *_ = await make_contract(
            milestones=["100.00"], client_funds=str(Decimal(needed) / 100)
        )
        milestone = await Milestone.get(contract_id=contract.id)
        calls = [
            milestones.fund_milestone(client, milestone.id),
            wallet.withdraw_funds(client, Decimal(needed) / 100),
        ]
        if round_ % 2:
            calls.reverse()
        results = await asyncio.gather(*calls, return_exceptions=True)

        done, failed = split_results(results)
        assert len(done) == 1 and len(failed) == 1, results
        assert_domain_errors(failed, ErrorCode.INSUFFICIENT_FUNDS)
        assert await wallet_balance(client.user_id) == 0
        assert min(await wallet_postings(client.user_id)) >= 0
        status = (await Milestone.get(id=milestone.id)).status
        funded = await JournalEntry.filter(milestone_id=milestone.id).count()
        withdrawn = await JournalEntry.filter(
            kind=TransactionKind.WITHDRAWAL, postings__account__user_id=client.user_id
        ).count()
        if status == MilestoneStatus.FUNDED:
            assert (funded, withdrawn) == (2, 0)  # escrow and fee, no withdrawal
        else:
            assert status == MilestoneStatus.PENDING and (funded, withdrawn) == (0, 1)
        assert (await Contract.get(id=contract.id)).funded_cents == (
            10000 if status == MilestoneStatus.FUNDED else 0
        )
    assert_overlapped(overlap)


async def test_many_withdrawals_never_overdraw(postgres, overlap):
    _, client, *_ = await make_contract(client_funds="100.00")

    results = await asyncio.gather(
        *(wallet.withdraw_funds(client, Decimal("15.00")) for _ in range(12)),
        return_exceptions=True,
    )

    assert_overlapped(overlap)
    done, failed = split_results(results)
    assert len(done) == 6 and len(failed) == 6
    assert_domain_errors(failed, ErrorCode.INSUFFICIENT_FUNDS)
    assert await wallet_balance(client.user_id) == 1000
    assert min(await wallet_postings(client.user_id)) >= 0


# --- lock order: no deadlocks between different kinds of movement ------------------------------


async def test_a_release_racing_connects_purchases_of_the_same_freelancer(postgres, overlap):
    """A release takes the freelancer's wallet, then the platform's fee account; a connects
    purchase pays the platform from that wallet. Locked by id alone, the platform account
    (older than the wallet) came first in the purchase and the two deadlocked."""
    for _ in range(8):
        _, milestone, client, freelancer = await funded_milestone("100.00")
        await wallet.add_funds(freelancer, Decimal("50.00"))  # a wallet newer than the fees

        results = await asyncio.gather(
            milestones.approve_milestone(client, milestone.id),
            wallet.purchase_connects(freelancer, 10),
            wallet.purchase_connects(freelancer, 10),
            return_exceptions=True,
        )

        _done, failed = split_results(results)
        assert not failed, failed
        assert await wallet_balance(freelancer.user_id) == (
            5000 + 10000 - service_fee(10000) - 2 * 150
        )
    assert_overlapped(overlap)


async def test_a_dispute_split_racing_the_clients_funding_elsewhere(postgres, overlap):
    """Resolving a split pays the freelancer and the fee (locking the platform account), then
    refunds the client; meanwhile the client funds another contract (wallet, then platform).
    The resolution takes its wallets first, so neither waits for the other in reverse."""
    staff = await actor_for((await make_user(is_staff=True)).user)
    for _ in range(8):
        contract, client, freelancer, *_ = await make_contract(milestones=["100.00", "100.00"])
        for milestone in await Milestone.filter(contract_id=contract.id):
            await milestones.fund_milestone(client, milestone.id)
        dispute, _ = await disputes.open_dispute(client, contract.id, None, "Half done")
        other = await another_contract(client, freelancer, ["50.00"])
        to_fund = await Milestone.get(contract_id=other.id)
        before = await wallet_balance(client.user_id)

        results = await asyncio.gather(
            disputes.resolve_dispute(
                staff, dispute.id, release=Decimal(150), refund=Decimal(50), note="Split"
            ),
            milestones.fund_milestone(client, to_fund.id),
            return_exceptions=True,
        )

        _done, failed = split_results(results)
        assert not failed, failed
        # half of the second milestone refunded, with half of its marketplace fee
        refunded = 5000 + client_fee(10000) // 2
        assert await wallet_balance(client.user_id) == before + refunded - 5000 - client_fee(5000)
        assert await wallet_balance(freelancer.user_id) == (
            10000 - service_fee(10000) + 5000 - service_fee(5000)
        )
