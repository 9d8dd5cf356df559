"""Offers, contracts, milestones, timesheets, disputes and wallets: one action per mutation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar
from uuid import UUID

from models.actors import Actor
from models.contracts import actions, disputes, hourly, milestones, orm
from models.contracts.actions import MilestoneDraft
from models.events import Published
from models.payments import wallet
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.ids import decode_id
from resolvers.publish import publish
from resolvers.uploads import incoming_files
from resolvers.viewer_wallet import wallet_of
from schema.compat import attempt
from schema.contracts import (
    AddMilestoneInput,
    ApproveTimesheetInput,
    Contract,
    ContractIdInput,
    ContractPayload,
    Dispute,
    DisputePayload,
    EndContractInput,
    LogTimeInput,
    Milestone,
    MilestoneIdInput,
    MilestoneInput,
    MilestonePayload,
    OpenDisputeInput,
    RequestMilestoneChangesInput,
    ResolveDisputeInput,
    SendOfferInput,
    SubmitMilestoneInput,
    TimeEntry,
    TimeEntryPayload,
)
from schema.core import UserError
from schema.payments import AddFundsInput, WalletPayload, WithdrawFundsInput
from schema.proposals import ConnectsPayload, PurchaseConnectsInput

RowT = TypeVar("RowT")


async def _act(
    info: Info, run: Callable[[], Awaitable[tuple[RowT, list[Published]]]]
) -> tuple[RowT | None, list[UserError]]:
    """Run one action; publish its events once it has committed; map business errors."""
    result, errors = await attempt(run())
    if result is None:
        return None, errors
    row, events = result
    await publish(info, events)
    return row, []


def _contract_payload(row: orm.Contract | None, errors: list[UserError]) -> ContractPayload:
    return ContractPayload(contract=Contract.from_row(row) if row else None, user_errors=errors)


def _milestone_payload(row: orm.Milestone | None, errors: list[UserError]) -> MilestonePayload:
    return MilestonePayload(milestone=Milestone.from_row(row) if row else None, user_errors=errors)


def _contract_id(global_id: str) -> UUID:
    return decode_id(global_id, "Contract", field=["input", "contractId"])


def _milestone_id(global_id: str) -> UUID:
    return decode_id(global_id, "Milestone", field=["input", "milestoneId"])


def _draft(milestone: MilestoneInput) -> MilestoneDraft:
    return MilestoneDraft(
        title=milestone.title,
        amount=milestone.amount,
        description=milestone.description,
        due_date=milestone.due_date,
    )


async def send_offer(info: Info, input: SendOfferInput) -> ContractPayload:
    async def run() -> ContractResult:
        return await actions.send_offer(
            await signed_in_actor(info),
            decode_id(input.proposal_id, "Proposal", field=["input", "proposalId"]),
            title=input.title,
            terms=input.terms,
            contract_type=input.contract_type,
            milestones=[_draft(m) for m in input.milestones] if input.milestones else None,
            hourly_rate=input.hourly_rate,
            weekly_limit_hours=input.weekly_limit_hours,
            deadline=input.deadline,
        )

    return _contract_payload(*await _act(info, run))


ContractResult = tuple[orm.Contract, list[Published]]
MilestoneResult = tuple[orm.Milestone, list[Published]]


def _contract_move(
    action: Callable[[Actor, UUID], Awaitable[ContractResult]],
) -> Callable[[Info, ContractIdInput], Coroutine[Any, Any, ContractPayload]]:
    async def resolve(info: Info, input: ContractIdInput) -> ContractPayload:
        async def run() -> ContractResult:
            return await action(await signed_in_actor(info), _contract_id(input.contract_id))

        return _contract_payload(*await _act(info, run))

    return resolve


withdraw_offer = _contract_move(actions.withdraw_offer)
accept_offer = _contract_move(actions.accept_offer)
decline_offer = _contract_move(actions.decline_offer)
pause_contract = _contract_move(actions.pause_contract)
resume_contract = _contract_move(actions.resume_contract)


async def end_contract(info: Info, input: EndContractInput) -> ContractPayload:
    async def run() -> ContractResult:
        return await actions.end_contract(
            await signed_in_actor(info), _contract_id(input.contract_id), input.reason
        )

    return _contract_payload(*await _act(info, run))


async def add_milestone(info: Info, input: AddMilestoneInput) -> MilestonePayload:
    async def run() -> MilestoneResult:
        return await actions.add_milestone(
            await signed_in_actor(info), _contract_id(input.contract_id), _draft(input.milestone)
        )

    return _milestone_payload(*await _act(info, run))


def _milestone_money(
    action: Callable[[Actor, UUID, str | None], Awaitable[MilestoneResult]],
) -> Callable[[Info, MilestoneIdInput], Coroutine[Any, Any, MilestonePayload]]:
    async def resolve(info: Info, input: MilestoneIdInput) -> MilestonePayload:
        async def run() -> MilestoneResult:
            return await action(
                await signed_in_actor(info),
                _milestone_id(input.milestone_id),
                input.idempotency_key,
            )

        return _milestone_payload(*await _act(info, run))

    return resolve


fund_milestone = _milestone_money(milestones.fund_milestone)
approve_milestone = _milestone_money(milestones.approve_milestone)
refund_milestone = _milestone_money(milestones.refund_milestone)


async def submit_milestone(info: Info, input: SubmitMilestoneInput) -> MilestonePayload:
    async def run() -> MilestoneResult:
        return await milestones.submit(
            await signed_in_actor(info),
            _milestone_id(input.milestone_id),
            input.message,
            input.attachment_urls or [],
            files=incoming_files(input.attachments, ["input", "attachments"]),
        )

    return _milestone_payload(*await _act(info, run))


async def request_milestone_changes(
    info: Info, input: RequestMilestoneChangesInput
) -> MilestonePayload:
    async def run() -> MilestoneResult:
        return await milestones.request_changes(
            await signed_in_actor(info), _milestone_id(input.milestone_id), input.message
        )

    return _milestone_payload(*await _act(info, run))


async def log_time(info: Info, input: LogTimeInput) -> TimeEntryPayload:
    async def run() -> tuple[orm.TimeEntry, list[Published]]:
        return await hourly.log_time(
            await signed_in_actor(info),
            _contract_id(input.contract_id),
            input.date,
            input.hours,
            input.memo,
        )

    row, errors = await _act(info, run)
    return TimeEntryPayload(time_entry=TimeEntry.from_row(row) if row else None, user_errors=errors)


async def approve_timesheet(info: Info, input: ApproveTimesheetInput) -> ContractPayload:
    async def run() -> ContractResult:
        return await hourly.approve_timesheet(
            await signed_in_actor(info),
            _contract_id(input.contract_id),
            input.week_start,
            input.idempotency_key,
        )

    return _contract_payload(*await _act(info, run))


async def open_dispute(info: Info, input: OpenDisputeInput) -> DisputePayload:
    async def run() -> tuple[orm.Dispute, list[Published]]:
        milestone_id = _milestone_id(input.milestone_id) if input.milestone_id else None
        return await disputes.open_dispute(
            await signed_in_actor(info), _contract_id(input.contract_id), milestone_id, input.reason
        )

    row, errors = await _act(info, run)
    return DisputePayload(dispute=Dispute.from_row(row) if row else None, user_errors=errors)


async def resolve_dispute(info: Info, input: ResolveDisputeInput) -> DisputePayload:
    async def run() -> tuple[orm.Dispute, list[Published]]:
        return await disputes.resolve_dispute(
            await signed_in_actor(info),
            decode_id(input.dispute_id, "Dispute", field=["input", "disputeId"]),
            release=input.release_to_freelancer,
            refund=input.refund_to_client,
            note=input.note,
        )

    row, errors = await _act(info, run)
    return DisputePayload(dispute=Dispute.from_row(row) if row else None, user_errors=errors)


async def add_funds(info: Info, input: AddFundsInput) -> WalletPayload:
    actor = await signed_in_actor(info)
    _, errors = await attempt(wallet.add_funds(actor, input.amount, input.idempotency_key))
    return WalletPayload(
        wallet=None if errors else await wallet_of(actor.user_id), user_errors=errors
    )


async def withdraw_funds(info: Info, input: WithdrawFundsInput) -> WalletPayload:
    actor = await signed_in_actor(info)
    _, errors = await attempt(wallet.withdraw_funds(actor, input.amount, input.idempotency_key))
    return WalletPayload(
        wallet=None if errors else await wallet_of(actor.user_id), user_errors=errors
    )


async def purchase_connects(info: Info, input: PurchaseConnectsInput) -> ConnectsPayload:
    actor = await signed_in_actor(info)
    balance, errors = await attempt(
        wallet.purchase_connects(actor, input.quantity, input.idempotency_key)
    )
    return ConnectsPayload(
        connects_balance=balance,
        wallet=None if errors else await wallet_of(actor.user_id),
        user_errors=errors,
    )
