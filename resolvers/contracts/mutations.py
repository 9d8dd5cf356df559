"""Offers, contracts, milestones, timesheets, disputes and wallets: one action per mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

from models.actors import Actor
from models.contracts import actions, disputes, hourly, milestones, orm
from models.contracts.actions import MilestoneDraft
from models.events import Published
from models.payments import wallet
from models.payments.wallet import WalletBalance
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.errors import Outcome, attempt
from resolvers.ids import decode_id
from resolvers.publish import publish
from resolvers.uploads import incoming_files
from resolvers.viewer_wallet import wallet_of

RowT = TypeVar("RowT")

ContractResult = tuple[orm.Contract, list[Published]]
MilestoneResult = tuple[orm.Milestone, list[Published]]


async def _act(
    info: Info, run: Callable[[], Awaitable[tuple[RowT, list[Published]]]]
) -> Outcome[RowT]:
    """Run one action; publish its events once it has committed; map business errors."""
    result, problems = await attempt(run())
    if result is None:
        return None, problems
    row, events = result
    await publish(info, events)
    return row, []


def _contract_id(global_id: str) -> UUID:
    return decode_id(global_id, "Contract", field=["input", "contractId"])


def _milestone_id(global_id: str) -> UUID:
    return decode_id(global_id, "Milestone", field=["input", "milestoneId"])


async def send_offer(
    info: Info,
    proposal_id: str,
    *,
    title: str,
    terms: str,
    contract_type: orm.ContractType,
    milestones: Sequence[MilestoneDraft] | None,
    hourly_rate: Decimal | None,
    weekly_limit_hours: int | None,
    deadline: date | None,
) -> Outcome[orm.Contract]:
    async def run() -> ContractResult:
        return await actions.send_offer(
            await signed_in_actor(info),
            decode_id(proposal_id, "Proposal", field=["input", "proposalId"]),
            title=title,
            terms=terms,
            contract_type=contract_type,
            milestones=list(milestones) if milestones else None,
            hourly_rate=hourly_rate,
            weekly_limit_hours=weekly_limit_hours,
            deadline=deadline,
        )

    return await _act(info, run)


def _contract_move(
    action: Callable[[Actor, UUID], Awaitable[ContractResult]],
) -> Callable[[Info, str], Coroutine[Any, Any, Outcome[orm.Contract]]]:
    async def resolve(info: Info, contract_id: str) -> Outcome[orm.Contract]:
        async def run() -> ContractResult:
            return await action(await signed_in_actor(info), _contract_id(contract_id))

        return await _act(info, run)

    return resolve


withdraw_offer = _contract_move(actions.withdraw_offer)
accept_offer = _contract_move(actions.accept_offer)
decline_offer = _contract_move(actions.decline_offer)
pause_contract = _contract_move(actions.pause_contract)
resume_contract = _contract_move(actions.resume_contract)


async def end_contract(info: Info, contract_id: str, reason: str | None) -> Outcome[orm.Contract]:
    async def run() -> ContractResult:
        return await actions.end_contract(
            await signed_in_actor(info), _contract_id(contract_id), reason
        )

    return await _act(info, run)


async def add_milestone(
    info: Info, contract_id: str, milestone: MilestoneDraft
) -> Outcome[orm.Milestone]:
    async def run() -> MilestoneResult:
        return await actions.add_milestone(
            await signed_in_actor(info), _contract_id(contract_id), milestone
        )

    return await _act(info, run)


def _milestone_money(
    action: Callable[[Actor, UUID, str | None], Awaitable[MilestoneResult]],
) -> Callable[[Info, str, str | None], Coroutine[Any, Any, Outcome[orm.Milestone]]]:
    async def resolve(
        info: Info, milestone_id: str, idempotency_key: str | None
    ) -> Outcome[orm.Milestone]:
        async def run() -> MilestoneResult:
            return await action(
                await signed_in_actor(info), _milestone_id(milestone_id), idempotency_key
            )

        return await _act(info, run)

    return resolve


fund_milestone = _milestone_money(milestones.fund_milestone)
approve_milestone = _milestone_money(milestones.approve_milestone)
refund_milestone = _milestone_money(milestones.refund_milestone)


async def submit_milestone(
    info: Info,
    milestone_id: str,
    message: str,
    attachment_urls: list[str] | None,
    attachments: Sequence[object] | None,
) -> Outcome[orm.Milestone]:
    async def run() -> MilestoneResult:
        return await milestones.submit(
            await signed_in_actor(info),
            _milestone_id(milestone_id),
            message,
            attachment_urls or [],
            files=incoming_files(attachments, ["input", "attachments"]),
        )

    return await _act(info, run)


async def request_milestone_changes(
    info: Info, milestone_id: str, message: str
) -> Outcome[orm.Milestone]:
    async def run() -> MilestoneResult:
        return await milestones.request_changes(
            await signed_in_actor(info), _milestone_id(milestone_id), message
        )

    return await _act(info, run)


async def log_time(
    info: Info, contract_id: str, day: date, hours: Decimal, memo: str
) -> Outcome[orm.TimeEntry]:
    async def run() -> tuple[orm.TimeEntry, list[Published]]:
        return await hourly.log_time(
            await signed_in_actor(info), _contract_id(contract_id), day, hours, memo
        )

    return await _act(info, run)


async def approve_timesheet(
    info: Info, contract_id: str, week_start: date, idempotency_key: str | None
) -> Outcome[orm.Contract]:
    async def run() -> ContractResult:
        return await hourly.approve_timesheet(
            await signed_in_actor(info), _contract_id(contract_id), week_start, idempotency_key
        )

    return await _act(info, run)


async def open_dispute(
    info: Info, contract_id: str, milestone_id: str | None, reason: str
) -> Outcome[orm.Dispute]:
    async def run() -> tuple[orm.Dispute, list[Published]]:
        milestone = _milestone_id(milestone_id) if milestone_id else None
        return await disputes.open_dispute(
            await signed_in_actor(info), _contract_id(contract_id), milestone, reason
        )

    return await _act(info, run)


async def resolve_dispute(
    info: Info, dispute_id: str, *, release: Decimal, refund: Decimal, note: str
) -> Outcome[orm.Dispute]:
    async def run() -> tuple[orm.Dispute, list[Published]]:
        return await disputes.resolve_dispute(
            await signed_in_actor(info),
            decode_id(dispute_id, "Dispute", field=["input", "disputeId"]),
            release=release,
            refund=refund,
            note=note,
        )

    return await _act(info, run)


async def add_funds(
    info: Info, amount: Decimal, idempotency_key: str | None
) -> Outcome[WalletBalance]:
    actor = await signed_in_actor(info)
    _, problems = await attempt(wallet.add_funds(actor, amount, idempotency_key))
    return (None, problems) if problems else (await wallet_of(actor.user_id), [])


async def withdraw_funds(
    info: Info, amount: Decimal, idempotency_key: str | None
) -> Outcome[WalletBalance]:
    actor = await signed_in_actor(info)
    _, problems = await attempt(wallet.withdraw_funds(actor, amount, idempotency_key))
    return (None, problems) if problems else (await wallet_of(actor.user_id), [])


async def purchase_connects(
    info: Info, quantity: int, idempotency_key: str | None
) -> Outcome[tuple[int, WalletBalance]]:
    """The freelancer's connects balance after the purchase, and their wallet."""
    actor = await signed_in_actor(info)
    balance, problems = await attempt(wallet.purchase_connects(actor, quantity, idempotency_key))
    if balance is None:
        return None, problems
    return (balance, await wallet_of(actor.user_id)), []
