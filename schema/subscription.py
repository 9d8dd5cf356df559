from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from schema.contract_events import ContractEvent
from schema.fields import contracts, interviews, notifications, presence
from schema.interviews import Message
from schema.milestones import Milestone
from schema.notifications import Notification
from schema.presence import PresenceEvent, TypingEvent


@strawberry.type
class Subscription:
    message_added: AsyncGenerator[Message, None] = strawberry.subscription(
        resolver=interviews.message_added,
        description="New messages in an interview the viewer takes part in. With `after`, "
        "first replays every stored message after that cursor, then goes live, "
        "with no gap and no duplicate.",
    )
    typing_changed: AsyncGenerator[TypingEvent, None] = strawberry.subscription(
        resolver=presence.typing_changed,
        description="The other party of an interview the viewer takes part in starts or stops "
        "typing. Live only: nothing is stored or replayed. Holding it makes the viewer online "
        "for presenceChanged.",
    )
    presence_changed: AsyncGenerator[PresenceEvent, None] = strawberry.subscription(
        resolver=presence.presence_changed,
        description="Whether the other party of an interview is online (has a live "
        "subscription on it, on any server): first as it is now, then each change. Offline "
        "within 10 s of their socket dropping. Holding it makes the viewer online too.",
    )
    notification_added: AsyncGenerator[Notification, None] = strawberry.subscription(
        resolver=notifications.notification_added,
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
