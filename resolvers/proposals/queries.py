from __future__ import annotations

from models.pagination import PageRequest
from models.proposals.orm import Proposal as ProposalRow
from models.proposals.orm import ProposalStatus
from resolvers.actors import signed_in_actor
from resolvers.context import Info
from resolvers.pages import Listing, listing


async def viewer_proposals(
    info: Info, request: PageRequest, status: ProposalStatus | None
) -> Listing[ProposalRow]:
    actor = await signed_in_actor(info)
    queryset = (
        ProposalRow.filter(freelancer_id=actor.freelancer_profile_id)
        if actor.freelancer_profile_id
        else ProposalRow.filter(id__in=[])
    )
    if status is not None:
        queryset = queryset.filter(status=status)
    return await listing(queryset, request, descending=True)
