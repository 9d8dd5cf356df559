from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from resolvers.contracts import queries as contracts
from resolvers.interviews import resolvers as interviews
from schema.contracts import ContractEvent, Milestone
from schema.interviews import Message
from schema.notifications import Notification


@strawberry.type
class Subscription:
    message_added: AsyncGenerator[Message, None] = strawberry.subscription(
        resolver=interviews.message_added,
        description="New messages in an interview the viewer takes part in. With `after`, "
        "first replays every stored message after that cursor, then goes live, "
        "with no gap and no duplicate.",
    )
    notification_added: AsyncGenerator[Notification, None] = strawberry.subscription(
        resolver=interviews.notification_added,
        description="The viewer's new notifications; `after` replays as for messageAdded.",
    )
    contract_updated: AsyncGenerator[ContractEvent, None] = strawberry.subscription(
        resolver=contracts.contract_updated,
        description="Events of one contract the viewer is party to, or, without contractId, of "
        "all of them. `after` replays as for messageAdded.",
    )
    milestone_updated: AsyncGenerator[Milestone, None] = strawberry.subscription(
        resolver=contracts.milestone_updated,
        description="The milestone, as it is after each change, for one contract or all of "
        "the viewer's.",
    )
