"""Contracts: offers, the contract's moves, milestones, hours, disputes; the viewer's list
and the live feeds of a contract's events and milestones."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable, Coroutine
from typing import Any

import strawberry

from models.contracts import orm
from models.contracts.actions import MilestoneDraft
from resolvers.context import Info
from resolvers.contracts import mutations, queries
from resolvers.errors import Outcome
from resolvers.pages import page_request
from schema.contract_enums import ContractStatus
from schema.contract_events import ContractEvent
from schema.contracts import (
    Contract,
    ContractIdInput,
    ContractPayload,
    EndContractInput,
    SendOfferInput,
)
from schema.core import Connection, connection_of, user_errors
from schema.disputes import Dispute, DisputePayload, OpenDisputeInput, ResolveDisputeInput
from schema.hourly import ApproveTimesheetInput, LogTimeInput, TimeEntry, TimeEntryPayload
from schema.milestones import (
    AddMilestoneInput,
    Milestone,
    MilestoneIdInput,
    MilestoneInput,
    MilestonePayload,
    RequestMilestoneChangesInput,
    SubmitMilestoneInput,
)
from schema.streams import serve


def _contract_payload(outcome: Outcome[orm.Contract]) -> ContractPayload:
    row, problems = outcome
    return ContractPayload(
        contract=Contract.from_row(row) if row else None, user_errors=user_errors(problems)
    )


def _milestone_payload(outcome: Outcome[orm.Milestone]) -> MilestonePayload:
    row, problems = outcome
    return MilestonePayload(
        milestone=Milestone.from_row(row) if row else None, user_errors=user_errors(problems)
    )


def _draft(milestone: MilestoneInput) -> MilestoneDraft:
    return MilestoneDraft(
        title=milestone.title,
        amount=milestone.amount,
        description=milestone.description,
        due_date=milestone.due_date,
    )


async def send_offer(info: Info, input: SendOfferInput) -> ContractPayload:
    return _contract_payload(
        await mutations.send_offer(
            info,
            input.proposal_id,
            title=input.title,
            terms=input.terms,
            contract_type=input.contract_type,
            milestones=[_draft(m) for m in input.milestones] if input.milestones else None,
            hourly_rate=input.hourly_rate,
            weekly_limit_hours=input.weekly_limit_hours,
            deadline=input.deadline,
        )
    )


def _contract_move(
    move: Callable[[Info, str], Awaitable[Outcome[orm.Contract]]],
) -> Callable[[Info, ContractIdInput], Coroutine[Any, Any, ContractPayload]]:
    async def resolve(info: Info, input: ContractIdInput) -> ContractPayload:
        return _contract_payload(await move(info, input.contract_id))

    return resolve


withdraw_offer = _contract_move(mutations.withdraw_offer)
accept_offer = _contract_move(mutations.accept_offer)
decline_offer = _contract_move(mutations.decline_offer)
pause_contract = _contract_move(mutations.pause_contract)
resume_contract = _contract_move(mutations.resume_contract)


async def end_contract(info: Info, input: EndContractInput) -> ContractPayload:
    return _contract_payload(await mutations.end_contract(info, input.contract_id, input.reason))


async def add_milestone(info: Info, input: AddMilestoneInput) -> MilestonePayload:
    return _milestone_payload(
        await mutations.add_milestone(info, input.contract_id, _draft(input.milestone))
    )


def _milestone_money(
    move: Callable[[Info, str, str | None], Awaitable[Outcome[orm.Milestone]]],
) -> Callable[[Info, MilestoneIdInput], Coroutine[Any, Any, MilestonePayload]]:
    async def resolve(info: Info, input: MilestoneIdInput) -> MilestonePayload:
        return _milestone_payload(await move(info, input.milestone_id, input.idempotency_key))

    return resolve


fund_milestone = _milestone_money(mutations.fund_milestone)
approve_milestone = _milestone_money(mutations.approve_milestone)
refund_milestone = _milestone_money(mutations.refund_milestone)


async def submit_milestone(info: Info, input: SubmitMilestoneInput) -> MilestonePayload:
    return _milestone_payload(
        await mutations.submit_milestone(
            info, input.milestone_id, input.message, input.attachment_urls, input.attachments
        )
    )


async def request_milestone_changes(
    info: Info, input: RequestMilestoneChangesInput
) -> MilestonePayload:
    return _milestone_payload(
        await mutations.request_milestone_changes(info, input.milestone_id, input.message)
    )


async def log_time(info: Info, input: LogTimeInput) -> TimeEntryPayload:
    row, problems = await mutations.log_time(
        info, input.contract_id, input.date, input.hours, input.memo
    )
    return TimeEntryPayload(
        time_entry=TimeEntry.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def approve_timesheet(info: Info, input: ApproveTimesheetInput) -> ContractPayload:
    return _contract_payload(
        await mutations.approve_timesheet(
            info, input.contract_id, input.week_start, input.idempotency_key
        )
    )


async def open_dispute(info: Info, input: OpenDisputeInput) -> DisputePayload:
    row, problems = await mutations.open_dispute(
        info, input.contract_id, input.milestone_id, input.reason
    )
    return DisputePayload(
        dispute=Dispute.from_row(row) if row else None, user_errors=user_errors(problems)
    )


async def resolve_dispute(info: Info, input: ResolveDisputeInput) -> DisputePayload:
    row, problems = await mutations.resolve_dispute(
        info,
        input.dispute_id,
        release=input.release_to_freelancer,
        refund=input.refund_to_client,
        note=input.note,
    )
    return DisputePayload(
        dispute=Dispute.from_row(row) if row else None, user_errors=user_errors(problems)
    )


# ---------------------------------------------------------------- the viewer's contracts


async def viewer_contracts(
    info: Info,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
    status: ContractStatus | None = None,
) -> Connection[Contract]:
    found = await queries.viewer_contracts(info, page_request(first, after, last, before), status)
    return connection_of(found, Contract.from_row)


# ---------------------------------------------------------------- subscriptions


async def contract_updated(
    info: Info, contract_id: strawberry.ID | None = None, after: str | None = None
) -> AsyncGenerator[ContractEvent, None]:
    plan = await queries.contract_event_stream(info, contract_id, after)
    async for event in serve(info, plan, ContractEvent.from_envelope):
        yield event


async def milestone_updated(
    info: Info, contract_id: strawberry.ID | None = None
) -> AsyncGenerator[Milestone, None]:
    """Live only: each milestone as it is after each change."""
    plan = await queries.milestone_stream(info, contract_id)
    async for milestone in serve(info, plan, Milestone.from_envelope):
        yield milestone
