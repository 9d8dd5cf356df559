from __future__ import annotations

import strawberry

from models.proposals import connects
from models.users.orm import User as UserRow
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.viewer_wallet import wallet_of
from schema.contracts import Contract
from schema.core import Connection, described_field
from schema.fields.contracts import viewer_contracts
from schema.fields.interviews import viewer_interviews
from schema.fields.jobs import viewer_invitations, viewer_jobs
from schema.fields.notifications import unread_notification_count, viewer_notifications
from schema.fields.proposals import viewer_proposals
from schema.interviews import Interview
from schema.jobs import Invitation, Job
from schema.notifications import Notification
from schema.payments import Wallet
from schema.proposals import Proposal
from schema.users import User


@strawberry.type(description="The signed-in user's own view: everything that belongs to them.")
class Viewer:
    row: strawberry.Private[UserRow]

    @strawberry.field
    def user(self) -> User:
        return User.from_row(self.row)

    @described_field("0 without a freelancer profile.")
    async def connects_balance(self, info: Info) -> int:
        actor = await signed_in_actor(info)
        return (
            await connects.balance(actor.freelancer_profile_id)
            if actor.freelancer_profile_id
            else 0
        )

    jobs: Connection[Job] = strawberry.field(
        resolver=viewer_jobs, description="Jobs the viewer posted as a client."
    )
    proposals: Connection[Proposal] = strawberry.field(
        resolver=viewer_proposals, description="Proposals the viewer sent as a freelancer."
    )
    invitations: Connection[Invitation] = strawberry.field(
        resolver=viewer_invitations,
        description="Invitations received as a freelancer and sent as a client.",
    )
    contracts: Connection[Contract] = strawberry.field(
        resolver=viewer_contracts, description="Newest first."
    )

    @strawberry.field
    async def wallet(self) -> Wallet:
        return Wallet.from_balance(await wallet_of(self.row.id))

    interviews: Connection[Interview] = strawberry.field(
        resolver=viewer_interviews, description="Newest first."
    )
    notifications: Connection[Notification] = strawberry.field(
        resolver=viewer_notifications, description="Newest first."
    )
    unread_notification_count: int = strawberry.field(resolver=unread_notification_count)
