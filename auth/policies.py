"""Who may see what. Shared by queries, mutations and subscriptions; denial looks like absence."""

from __future__ import annotations

from uuid import UUID

from models.actors import Actor
from models.contracts.access import party_of
from models.contracts.orm import Contract
from models.contracts.rules import Party
from models.jobs.orm import Invitation, Job, JobStatus, JobVisibility
from models.proposals.orm import Proposal
from models.proposals.rules import Role
from models.users.orm import User


def can_see_email(viewer: User | None, owner_id: UUID) -> bool:
    return viewer is not None and viewer.id == owner_id


def can_view_job(actor: Actor | None, job: Job, *, invited: bool) -> bool:
    """Drafts are their client's alone; invite-only jobs are their client's and invitees'."""
    own = actor is not None and actor.client_profile_id == job.client_id
    if own:
        return True
    if job.status == JobStatus.DRAFT:
        return False
    return job.visibility == JobVisibility.PUBLIC or invited


def proposal_role(actor: Actor | None, proposal: Proposal, job_client_id: UUID) -> Role | None:
    """The proposing freelancer and the job's client see a proposal; nobody else does."""
    if actor is None:
        return None
    if actor.freelancer_profile_id == proposal.freelancer_id:
        return Role.FREELANCER
    if actor.client_profile_id == job_client_id:
        return Role.CLIENT
    return None


def can_view_invitation(actor: Actor | None, invitation: Invitation, job_client_id: UUID) -> bool:
    return actor is not None and (
        actor.freelancer_profile_id == invitation.freelancer_id
        or actor.client_profile_id == job_client_id
    )


def contract_party(actor: Actor | None, contract: Contract) -> Party | None:
    """The actor's side of a contract: client, freelancer, staff (who see every contract to
    resolve disputes), or None: then the contract does not exist for them."""
    party = party_of(actor, contract)
    if party is None and actor is not None and actor.is_staff:
        return Party.STAFF
    return party
