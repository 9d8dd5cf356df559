"""The Tortoise config for `tortoise makemigrations` ([tool.tortoise] in pyproject.toml)."""

from models import tortoise_config
from settings import get_settings

TORTOISE_ORM = tortoise_config(get_settings().database_url)
