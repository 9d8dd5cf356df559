from __future__ import annotations

import strawberry
from strawberry.permission import BasePermission

from auth.permissions import IsAuthenticated
from models.interviews import typing as typing_rules
from schema.contracts import ContractPayload
from schema.disputes import DisputePayload
from schema.fields import (
    contracts,
    interviews,
    jobs,
    notifications,
    payments,
    presence,
    profiles,
    proposals,
    reviews,
    users,
)
from schema.hourly import TimeEntryPayload
from schema.interviews import InterviewPayload, MessagePayload
from schema.jobs import InvitationPayload, JobPayload
from schema.milestones import MilestonePayload
from schema.notifications import MarkNotificationsReadPayload
from schema.payments import WalletPayload
from schema.presence import SetTypingPayload
from schema.profiles import ClientProfilePayload, FreelancerProfilePayload, PortfolioItemPayload
from schema.proposals import ConnectsPayload, ProposalPayload
from schema.reviews import ReviewPayload
from schema.users import AuthPayload, LogOutPayload

# Typed as strawberry's parameter is: a list[type[IsAuthenticated]] would not do (list is invariant).
signed_in: list[type[BasePermission]] = [IsAuthenticated]


@strawberry.type
class Mutation:
    sign_up: AuthPayload = strawberry.mutation(resolver=users.sign_up)
    log_in: AuthPayload = strawberry.mutation(resolver=users.log_in)
    log_out: LogOutPayload = strawberry.mutation(
        resolver=users.log_out,
        permission_classes=signed_in,
        description="Revokes the token the request was made with.",
    )

    create_freelancer_profile: FreelancerProfilePayload = strawberry.mutation(
        resolver=profiles.create_freelancer_profile, permission_classes=signed_in
    )
    update_freelancer_profile: FreelancerProfilePayload = strawberry.mutation(
        resolver=profiles.update_freelancer_profile, permission_classes=signed_in
    )
    add_portfolio_item: PortfolioItemPayload = strawberry.mutation(
        resolver=profiles.add_portfolio_item, permission_classes=signed_in
    )
    create_client_profile: ClientProfilePayload = strawberry.mutation(
        resolver=profiles.create_client_profile, permission_classes=signed_in
    )
    update_client_profile: ClientProfilePayload = strawberry.mutation(
        resolver=profiles.update_client_profile, permission_classes=signed_in
    )

    post_job: JobPayload = strawberry.mutation(resolver=jobs.post_job, permission_classes=signed_in)
    update_job: JobPayload = strawberry.mutation(
        resolver=jobs.update_job, permission_classes=signed_in
    )
    publish_job: JobPayload = strawberry.mutation(
        resolver=jobs.publish_job, permission_classes=signed_in
    )
    close_job: JobPayload = strawberry.mutation(
        resolver=jobs.close_job,
        permission_classes=signed_in,
        description="Closes a job to new proposals; pending proposals are declined and, if "
        "nobody was hired, their connects are refunded.",
    )
    invite_freelancer: InvitationPayload = strawberry.mutation(
        resolver=jobs.invite_freelancer, permission_classes=signed_in
    )
    respond_to_invitation: InvitationPayload = strawberry.mutation(
        resolver=jobs.respond_to_invitation, permission_classes=signed_in
    )

    submit_proposal: ProposalPayload = strawberry.mutation(
        resolver=proposals.submit_proposal,
        permission_classes=signed_in,
        description="Spends the job's connectsRequired from the freelancer's balance.",
    )
    withdraw_proposal: ProposalPayload = strawberry.mutation(
        resolver=proposals.withdraw_proposal, permission_classes=signed_in
    )
    shortlist_proposal: ProposalPayload = strawberry.mutation(
        resolver=proposals.shortlist_proposal, permission_classes=signed_in
    )
    decline_proposal: ProposalPayload = strawberry.mutation(
        resolver=proposals.decline_proposal, permission_classes=signed_in
    )
    purchase_connects: ConnectsPayload = strawberry.mutation(
        resolver=payments.purchase_connects, permission_classes=signed_in
    )

    start_interview: InterviewPayload = strawberry.mutation(
        resolver=interviews.start_interview, permission_classes=signed_in
    )
    send_message: MessagePayload = strawberry.mutation(
        resolver=interviews.send_message, permission_classes=signed_in
    )
    mark_interview_read: InterviewPayload = strawberry.mutation(
        resolver=interviews.mark_interview_read, permission_classes=signed_in
    )
    set_typing: SetTypingPayload = strawberry.mutation(
        resolver=presence.set_typing,
        permission_classes=signed_in,
        description="Shows the other party of an interview that the viewer types (or stopped). "
        f"Not stored; repeats within {typing_rules.REFRESH_SECONDS:g} s are coalesced, and "
        f"more than {typing_rules.LIMIT} `typing: true` per {typing_rules.WINDOW_SECONDS:g} s "
        "are RATE_LIMITED. Also accepted over the websocket.",
    )

    mark_notifications_read: MarkNotificationsReadPayload = strawberry.mutation(
        resolver=notifications.mark_notifications_read, permission_classes=signed_in
    )

    send_offer: ContractPayload = strawberry.mutation(
        resolver=contracts.send_offer, permission_classes=signed_in
    )
    withdraw_offer: ContractPayload = strawberry.mutation(
        resolver=contracts.withdraw_offer, permission_classes=signed_in
    )
    accept_offer: ContractPayload = strawberry.mutation(
        resolver=contracts.accept_offer, permission_classes=signed_in
    )
    decline_offer: ContractPayload = strawberry.mutation(
        resolver=contracts.decline_offer, permission_classes=signed_in
    )
    pause_contract: ContractPayload = strawberry.mutation(
        resolver=contracts.pause_contract, permission_classes=signed_in
    )
    resume_contract: ContractPayload = strawberry.mutation(
        resolver=contracts.resume_contract, permission_classes=signed_in
    )
    end_contract: ContractPayload = strawberry.mutation(
        resolver=contracts.end_contract,
        permission_classes=signed_in,
        description="Ends an active contract: COMPLETED when every funded milestone is paid, "
        "else refused until escrow is settled.",
    )

    add_milestone: MilestonePayload = strawberry.mutation(
        resolver=contracts.add_milestone, permission_classes=signed_in
    )
    fund_milestone: MilestonePayload = strawberry.mutation(
        resolver=contracts.fund_milestone,
        permission_classes=signed_in,
        description="Moves the milestone's amount (plus the client fee) from the client's "
        "wallet into escrow.",
    )
    submit_milestone: MilestonePayload = strawberry.mutation(
        resolver=contracts.submit_milestone, permission_classes=signed_in
    )
    request_milestone_changes: MilestonePayload = strawberry.mutation(
        resolver=contracts.request_milestone_changes, permission_classes=signed_in
    )
    approve_milestone: MilestonePayload = strawberry.mutation(
        resolver=contracts.approve_milestone,
        permission_classes=signed_in,
        description="Releases the escrow to the freelancer, less the service fee. Exactly once.",
    )
    refund_milestone: MilestonePayload = strawberry.mutation(
        resolver=contracts.refund_milestone,
        permission_classes=signed_in,
        description="By the freelancer: returns a funded milestone's escrow to the client.",
    )

    log_time: TimeEntryPayload = strawberry.mutation(
        resolver=contracts.log_time,
        permission_classes=signed_in,
        description="By the freelancer on an active hourly contract; a week's hours may not "
        "exceed weeklyLimitHours.",
    )
    approve_timesheet: ContractPayload = strawberry.mutation(
        resolver=contracts.approve_timesheet,
        permission_classes=signed_in,
        description="By the client: pays the week's logged hours from the wallet to the "
        "freelancer, less the service fee.",
    )

    add_funds: WalletPayload = strawberry.mutation(
        resolver=payments.add_funds, permission_classes=signed_in
    )
    withdraw_funds: WalletPayload = strawberry.mutation(
        resolver=payments.withdraw_funds, permission_classes=signed_in
    )

    open_dispute: DisputePayload = strawberry.mutation(
        resolver=contracts.open_dispute, permission_classes=signed_in
    )
    resolve_dispute: DisputePayload = strawberry.mutation(
        resolver=contracts.resolve_dispute,
        permission_classes=signed_in,
        description="Staff only: splits the disputed escrow between the parties.",
    )

    submit_review: ReviewPayload = strawberry.mutation(
        resolver=reviews.submit_review,
        permission_classes=signed_in,
        description="Either party, once, after the contract has ended; hidden from the other "
        "party until both have reviewed or the review window has passed.",
    )
