"""`marketplace serve|migrate|seed|export-schema|create-staff|run-due|sweep-uploads`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from settings import get_settings

SCHEMA_FILE = Path(__file__).resolve().parent / "schema.graphql"


def export_schema_sdl() -> str:
    from schema import build_schema

    return build_schema().as_str().rstrip() + "\n"


def prepare_uploads() -> None:
    """UPLOAD_DIR and its signing key, made before any server process starts, so the workers
    of `--workers N` find them rather than race to make them."""
    from models.attachments.signing import installation_key
    from models.attachments.storage import get_storage

    settings = get_settings()
    get_storage().prepare()
    if not settings.url_signing_key:
        installation_key(Path(settings.upload_dir))


async def run_migrations(database_url: str) -> None:
    from tortoise import Tortoise
    from tortoise.migrations.api.migrate import migrate

    from models import tortoise_config
    from models.profiles.catalog import ensure_skill_catalog

    config = tortoise_config(database_url)
    try:
        await migrate(config=config)
        await Tortoise.init(config=config)
        await ensure_skill_catalog()
    finally:
        await Tortoise.close_connections()


async def with_database(action: Callable[[], Awaitable[Any]]) -> Any:
    from tortoise import Tortoise

    from models import tortoise_config

    await Tortoise.init(config=tortoise_config(get_settings().database_url))
    try:
        return await action()
    finally:
        await Tortoise.close_connections()


# Subscription messages are small JSON; a deflate context per socket cost more memory than it
# saved bandwidth (measured: 139 vs 98 KiB per connection). The protocol is uvicorn's
# websockets-sansio one, offering itself as a frame writer to shared subscriptions.
WEBSOCKET_OPTIONS: dict[str, Any] = {
    "ws": "schema.wsprotocol:FrameWritingProtocol",
    "ws_per_message_deflate": False,
}


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from schema.requestlog import configure_logging

    settings = get_settings()
    configure_logging(settings.log_level, json=settings.log_json)
    metrics = None
    if settings.metrics_enabled:
        from observability.scrape import MetricsEndpoint

        # Before uvicorn imports the app, here or in a worker: see observability/scrape.py.
        try:
            metrics = MetricsEndpoint.start(settings.metrics_host, settings.metrics_port)
        except OSError as error:
            where = f"{settings.metrics_host}:{settings.metrics_port}"
            print(
                f"error: cannot serve metrics on {where} (METRICS_PORT): {error}", file=sys.stderr
            )
            return 2
    try:
        if args.migrate:
            asyncio.run(run_migrations(settings.database_url))
        prepare_uploads()
        uvicorn.run(
            "app:app",
            host=args.host,
            port=args.port,
            workers=args.workers,
            reload=args.reload,
            timeout_graceful_shutdown=args.graceful_timeout,
            log_config=None,
            proxy_headers=args.proxy_headers,
            ws_ping_interval=settings.ws_ping_interval_seconds,
            ws_ping_timeout=settings.ws_ping_timeout_seconds,
            **WEBSOCKET_OPTIONS,
        )
    finally:
        if metrics is not None:
            metrics.stop()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    asyncio.run(run_migrations(get_settings().database_url))
    prepare_uploads()
    print("database is up to date")
    return 0


def cmd_seed(args: argparse.Namespace) -> int:
    from models.seed import seed_demo

    created = asyncio.run(with_database(lambda: seed_demo(force=args.force)))
    print(created)
    return 0


def cmd_run_due(args: argparse.Namespace) -> int:
    """Run the time-based rules once (offer expiry, auto-release) and publish their events to
    BROADCAST_URL, where server processes' subscribers receive them."""
    from models.scheduler import run_due
    from realtime.broadcast import create_broadcast
    from realtime.publish import publish_all

    async def run() -> int:
        events = await run_due()
        async with create_broadcast(get_settings().broadcast_url) as broadcast:
            await publish_all(broadcast, events)
        return len(events)

    print(f"{asyncio.run(with_database(run))} events from due rules")
    return 0


def cmd_sweep_uploads(args: argparse.Namespace) -> int:
    """Delete stored files that no attachment row owns (a crash between placing a file and
    committing its row, or an owner deleted since) and abandoned partial uploads, once older
    than the grace period. Safe while servers run; run it daily (cron)."""
    from models.attachments.actions import sweep

    swept = asyncio.run(with_database(lambda: sweep(grace_seconds=args.grace_seconds)))
    print(f"removed {swept.orphans} orphaned files and {swept.incoming} abandoned uploads")
    return 0


def cmd_export_schema(args: argparse.Namespace) -> int:
    sdl = export_schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl)
        print(f"wrote {args.output}")
    return 0


def cmd_create_staff(args: argparse.Namespace) -> int:
    from models.errors import DomainError
    from models.users import actions
    from models.users.orm import User

    async def create() -> str:
        email = args.email.strip().lower()
        if await User.filter(email=email).exists():
            await actions.make_staff(email)
            return f"{email} is now staff"
        password = (
            args.password
            or os.environ.get("STAFF_PASSWORD")
            or getpass.getpass("Password for the new staff account: ")
        )
        await actions.sign_up(
            email=email, password=password, display_name=args.display_name or "Staff", is_staff=True
        )
        return f"created staff account {email}"

    try:
        print(asyncio.run(with_database(create)))
    except DomainError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="marketplace", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP and websocket server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--reload", action="store_true")
    serve.add_argument(
        "--graceful-timeout",
        type=int,
        default=10,
        help="seconds to let open requests and sockets finish on shutdown",
    )
    serve.add_argument(
        "--no-migrate",
        dest="migrate",
        action="store_false",
        help="skip applying migrations before starting",
    )
    serve.add_argument("--proxy-headers", action="store_true")
    serve.set_defaults(func=cmd_serve)

    commands.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    seed = commands.add_parser("seed", help="fill the database with a demo marketplace")
    seed.add_argument("--force", action="store_true", help="seed even if data exists")
    seed.set_defaults(func=cmd_seed)

    commands.add_parser("run-due", help="apply due time-based rules once").set_defaults(
        func=cmd_run_due
    )

    sweep = commands.add_parser(
        "sweep-uploads", help="delete stored files without an attachment, and partial uploads"
    )
    sweep.add_argument(
        "--grace-seconds",
        type=float,
        default=3600.0,
        help="leave files younger than this (default 3600): longer than any upload's "
        "transaction, so a file about to be committed is never taken",
    )
    sweep.set_defaults(func=cmd_sweep_uploads)

    export = commands.add_parser("export-schema", help="print the GraphQL SDL")
    export.add_argument(
        "-o",
        "--output",
        default="-",
        help=f"file (default stdout); the committed one is {SCHEMA_FILE.name}",
    )
    export.set_defaults(func=cmd_export_schema)

    staff = commands.add_parser("create-staff", help="create a staff account, or promote one")
    staff.add_argument("email")
    staff.add_argument("--password", help="default: $STAFF_PASSWORD, else prompted")
    staff.add_argument("--display-name")
    staff.set_defaults(func=cmd_create_staff)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
