"""Channel names. One place, so publishers and subscribers cannot disagree."""

from uuid import UUID


def interview(interview_id: UUID) -> str:
    return f"interview:{interview_id}"


def contract(contract_id: UUID) -> str:
    return f"contract:{contract_id}"


def user(user_id: UUID) -> str:
    return f"user:{user_id}"
