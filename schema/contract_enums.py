"""The contracts family's enums, below all of its types: a contract's event reports the
contract's status, a milestone's actions depend on it, and neither may import the contract."""

from __future__ import annotations

from enum import Enum

import strawberry

from models.contracts import orm

# Domain enums, marked as GraphQL enums in place (strawberry.enum returns the class it marks)
# and bound by plain assignment, which mypy reads as a type alias.
ContractType = orm.ContractType
strawberry.enum(ContractType, name="ContractType")
ContractStatus = orm.ContractStatus
strawberry.enum(ContractStatus, name="ContractStatus")
MilestoneStatus = orm.MilestoneStatus
strawberry.enum(
    MilestoneStatus,
    name="MilestoneStatus",
    description=(
        "PENDING: agreed, not yet funded. FUNDED: its amount is held in escrow. SUBMITTED: work "
        "submitted for review. PAID: approved; escrow released to the freelancer."
    ),
)
ContractEventKind = orm.ContractEventKind
strawberry.enum(ContractEventKind, name="ContractEventKind")
TimeEntryStatus = orm.TimeEntryStatus
strawberry.enum(TimeEntryStatus, name="TimeEntryStatus")
DisputeStatus = orm.DisputeStatus
strawberry.enum(DisputeStatus, name="DisputeStatus")


@strawberry.enum
class ContractAction(Enum):
    ACCEPT_OFFER = "ACCEPT_OFFER"
    DECLINE_OFFER = "DECLINE_OFFER"
    WITHDRAW_OFFER = "WITHDRAW_OFFER"
    ADD_MILESTONE = "ADD_MILESTONE"
    LOG_TIME = "LOG_TIME"
    APPROVE_TIMESHEET = "APPROVE_TIMESHEET"
    PAUSE = "PAUSE"
    RESUME = "RESUME"
    END = "END"
    OPEN_DISPUTE = "OPEN_DISPUTE"
    REVIEW = "REVIEW"


@strawberry.enum
class MilestoneAction(Enum):
    FUND = "FUND"
    SUBMIT = "SUBMIT"
    REQUEST_CHANGES = "REQUEST_CHANGES"
    APPROVE = "APPROVE"
    REFUND = "REFUND"
