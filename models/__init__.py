"""The domain: tables, pure rules and transactional actions. Imports nothing above it."""

from typing import Any

MODEL_MODULES = [
    "models.users.orm",
    "models.profiles.orm",
    "models.jobs.orm",
    "models.proposals.orm",
    "models.notifications.orm",
    "models.interviews.orm",
    "models.contracts.orm",
    "models.payments.orm",
    "models.reviews.orm",
]


def tortoise_config(db_url: str) -> dict[str, Any]:
    from models.database import connection_config

    return {
        "connections": {"default": connection_config(db_url)},
        "apps": {
            "models": {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }
