"""Channel names. One place, so publishers and subscribers cannot disagree."""

from uuid import UUID


def interview(interview_id: UUID) -> str:
    return f"interview:{interview_id}"


def contract(contract_id: UUID) -> str:
    return f"contract:{contract_id}"


def user(user_id: UUID) -> str:
    return f"user:{user_id}"


# Ephemeral channels: what is published there is never stored and never replayed.


def typing(interview_id: UUID) -> str:
    return f"typing:{interview_id}"


def presence(interview_id: UUID) -> str:
    """Each process's announcements of who it holds live on the interview."""
    return f"presence:{interview_id}"


# "Who is here on interview X?": one channel for every interview, so that a process holding
# subscriptions needs a single Redis subscription to answer, however many interviews it holds.
PRESENCE_PROBES = "presence-probes"
