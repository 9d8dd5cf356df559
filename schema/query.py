from __future__ import annotations

import strawberry

from schema import nodes
from schema.core import Connection, Node
from schema.fields import jobs, payments, profiles, users
from schema.jobs import Job
from schema.payments import FeeQuote
from schema.profiles import FreelancerProfile, Skill
from schema.viewer import Viewer


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=nodes.node)
    nodes: list[Node | None] = strawberry.field(resolver=nodes.nodes)
    viewer: Viewer | None = strawberry.field(
        resolver=users.viewer, description="Null when not signed in."
    )
    job: Job | None = strawberry.field(resolver=jobs.job)
    jobs: Connection[Job] = strawberry.field(resolver=jobs.jobs)
    freelancers: Connection[FreelancerProfile] = strawberry.field(resolver=profiles.freelancers)
    skills: list[Skill] = strawberry.field(resolver=profiles.skills)
    fee_quote: FeeQuote = strawberry.field(
        resolver=payments.fee_quote,
        description="What a payment of this amount costs the client and nets the freelancer "
        "under the current fees.",
    )
