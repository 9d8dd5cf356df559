"""Runtime configuration, read from environment variables.

With nothing set the server runs embedded: SQLite in a local file and in-process pub/sub.
"""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = "sqlite://./marketplace.db"
    broadcast_url: str = "memory://"
    # Comma-separated: ALLOWED_ORIGINS=https://app.example.com,https://admin.example.com
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    currency: str = "USD"
    log_level: str = "INFO"
    log_json: bool = True

    token_ttl_hours: int = 24 * 30
    # "fast" trades hash strength for speed; only the test suite sets it.
    password_hashing: str = "secure"
    login_window_seconds: int = 15 * 60
    login_max_failures_per_email: int = 5
    login_max_failures_per_address: int = 20

    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 5000
    max_body_bytes: int = 1024 * 1024
    max_page_size: int = 100
    default_page_size: int = 20
    max_query_nodes: int = 50_000
    max_subscriptions_per_connection: int = 100
    connection_init_timeout_seconds: float = 5.0
    # A websocket whose peer vanished without closing (a phone losing its network) is dropped
    # when a ping goes unanswered: within interval + timeout, so that its user shows offline
    # within 10 s with presence's 1 s grace (realtime/presence.py). uvicorn's default: 20 + 20 s.
    ws_ping_interval_seconds: float = 4.0
    ws_ping_timeout_seconds: float = 3.0
    # How long HTTP caches may keep an anonymous GET query's answer (schema/persisted.py).
    query_cache_max_age_seconds: int = 60
    # Queries run by the batch executor (schema/execution), graphql-core's otherwise.
    batch_execution: bool = True
    # Under the batch executor, on PostgreSQL: pages and levels whose whole selection maps to
    # columns answered by one statement that writes their JSON (schema/execution/sql.py).
    sql_reads: bool = True

    # Attachments (see models/attachments). Files live in UPLOAD_DIR on the local filesystem.
    upload_dir: str = "./uploads"
    # Per file, and per multipart request (the whole body, refused with 413 while streaming).
    max_upload_bytes: int = 25 * 1024 * 1024
    max_upload_request_bytes: int = 100 * 1024 * 1024
    # Files in one request; each mutation has its own, smaller limit (5 or 10).
    max_upload_files: int = 10
    attachment_url_ttl_seconds: int = 15 * 60
    # Signs download links. Unset: a random key kept in UPLOAD_DIR, shared by the processes of
    # one host; installations served from several hosts must set the same value on each.
    url_signing_key: str | None = None

    scheduler_interval_seconds: float = 30.0
    # Server processes only (see app.tune_garbage_collector); JSON, e.g. [700, 10, 1000].
    gc_thresholds: tuple[int, int, int] = (700, 10, 1000)

    # Prometheus metrics (observability/metrics.py). Off by default: operation names and error
    # codes tell an outsider what the API is asked and how it fails, so `marketplace serve`
    # publishes them on a port of their own, on the loopback unless told otherwise.
    metrics_enabled: bool = False
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9464
    # Distinct operation names each process labels its series with; later ones count as "other".
    metrics_max_operation_names: int = 200

    freelancer_fee_rate: Decimal = Decimal("0.10")
    client_fee_rate: Decimal = Decimal("0.05")
    connect_price: Decimal = Decimal("0.15")
    monthly_free_connects: int = 10

    @field_validator("url_signing_key")
    @classmethod
    def _long_enough(cls, value: str | None) -> str | None:
        if value is not None and len(value) < 32:
            raise ValueError("URL_SIGNING_KEY must be at least 32 characters")
        return value

    @field_validator("allowed_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value


@lru_cache
def get_settings() -> Settings:
    return Settings()
