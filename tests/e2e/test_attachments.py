"""Attachments against real `marketplace serve` processes: uploads from a real multipart client,
downloads by the parties and by strangers, signed links that expire, an endless upload cut off
while the server's memory stays flat, a path-traversal filename, a server killed between placing
a file and committing its row, and files in a resumed `messageAdded`."""

from __future__ import annotations

import asyncio
import os
import select
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from models.attachments.signing import sign
from tests.attachments_support import (
    PDF,
    PNG,
    PREFLIGHT,
    TEXT,
    FileSpec,
    multipart_body,
    sha256,
    with_nulls,
)
from tests.e2e.chat_support import (
    START_TIMEOUT,
    Chat,
    Party,
    cursor_before,
    execute,
    open_chat,
    send_message,
    sign_up,
    socket_to,
)
from tests.e2e.conftest import MARKETPLACE, PROJECT_ROOT, Server

SIGNING_KEY = "e2e-signing-key-" + "0" * 32
ATTACHMENT = "id filename contentType size sha256 url"
SEND_MESSAGE = (
    """
mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body cursor attachments { %s } }
    userErrors { field message code }
  }
}"""
    % ATTACHMENT
)
MESSAGE_ADDED = (
    """
subscription ($interviewId: ID!, $after: String) {
  messageAdded(interviewId: $interviewId, after: $after) {
    id body cursor attachments { %s }
  }
}"""
    % ATTACHMENT
)
MESSAGES = """
query ($id: ID!) { node(id: $id) { ... on Interview { messages(last: 10) {
  nodes { id body attachments { id } } } } } }"""
MiB = 1024 * 1024


def upload_dir(server: Server) -> Path:
    return server.log_path.parent / "uploads"


async def send_files(
    server: Server, chat: Chat, files: list[FileSpec], *, body: str = "files", sender: Party
) -> httpx.Response:
    data, parts = multipart_body(
        SEND_MESSAGE,
        {"input": with_nulls({"interviewId": chat.interview_id, "body": body}, len(files))},
        {f"input.attachments.{index}": spec for index, spec in enumerate(files)},
    )
    async with httpx.AsyncClient(base_url=server.http_url, timeout=60) as http:
        return await http.post(
            "/graphql",
            data=data,
            files=parts,
            headers={**PREFLIGHT, "authorization": f"Bearer {sender.token}"},
        )


async def sent(server: Server, chat: Chat, files: list[FileSpec], **options: Any) -> dict[str, Any]:
    response = await send_files(server, chat, files, sender=chat.client, **options)
    assert response.status_code == 200, response.text
    payload = response.json()["data"]["sendMessage"]
    assert payload["userErrors"] == [], payload
    return payload["message"]


async def get(
    server: Server, path: str, token: str | None = None, **headers: str
) -> httpx.Response:
    if token:
        headers["authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=server.http_url, timeout=30) as http:
        return await http.get(path, headers=headers)


def attachment_uuid(attachment: dict[str, Any]) -> uuid.UUID:
    return uuid.UUID(attachment["url"].split("?")[0].rsplit("/", 1)[1])


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def stored(directory: Path) -> list[Path]:
    return [path for path in (directory / "files").rglob("*") if path.is_file()]


@pytest.fixture(scope="module")
async def server(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Server]:
    from tests.e2e.conftest import run_server

    async with run_server(
        tmp_path_factory.mktemp("attachments"), URL_SIGNING_KEY=SIGNING_KEY
    ) as running:
        yield running


# --- uploading and downloading ----------------------------------------------------------------


async def test_uploaded_files_reach_the_other_party_and_no_one_else(server: Server) -> None:
    # given
    chat = await open_chat(server)
    stranger = await sign_up(server, "Stranger")
    # when the client sends two files with a real multipart client
    message = await sent(
        server, chat, [("design.png", PNG, "image/png"), ("brief.pdf", PDF, "application/pdf")]
    )
    # then
    png, pdf = message["attachments"]
    assert (png["filename"], png["contentType"], png["size"], png["sha256"]) == (
        "design.png",
        "image/png",
        len(PNG),
        sha256(PNG),
    )
    # the freelancer downloads by the signed link, and by their token
    by_link = await get(server, pdf["url"])
    assert (by_link.status_code, by_link.content) == (200, PDF)
    assert by_link.headers["content-disposition"] == 'attachment; filename="brief.pdf"'
    assert by_link.headers["content-type"] == "application/pdf"
    assert by_link.headers["x-content-type-options"] == "nosniff"
    path = f"/attachments/{attachment_uuid(png)}"
    by_token = await get(server, path, chat.freelancer.token)
    assert (by_token.status_code, by_token.content) == (200, PNG)
    # a range of it
    ranged = await get(server, path, chat.freelancer.token, range="bytes=0-7")
    assert (ranged.status_code, ranged.content) == (206, PNG[:8])
    # a stranger, or nobody, gets the same 404 as for a file that does not exist
    refused = await get(server, path, stranger.token)
    anonymous = await get(server, path)
    missing = await get(server, f"/attachments/{uuid.uuid4()}", stranger.token)
    assert refused.status_code == anonymous.status_code == missing.status_code == 404
    assert refused.text == missing.text


async def test_an_expired_link_is_a_404(server: Server) -> None:
    # given a link signed with the server's key, but expired a minute ago
    chat = await open_chat(server)
    [attachment] = (await sent(server, chat, [("notes.txt", TEXT, "text/plain")]))["attachments"]
    pk = attachment_uuid(attachment)
    expires = int(time.time()) - 60
    expired = (
        f"/attachments/{pk}?expires={expires}&signature={sign(SIGNING_KEY.encode(), pk, expires)}"
    )
    # then
    assert (await get(server, expired)).status_code == 404
    # while the same key's fresh link works
    fresh = int(time.time()) + 60
    good = f"/attachments/{pk}?expires={fresh}&signature={sign(SIGNING_KEY.encode(), pk, fresh)}"
    assert (await get(server, good)).content == TEXT


async def test_a_path_traversal_filename_is_stored_inside_upload_dir(server: Server) -> None:
    # given
    chat = await open_chat(server)
    target = upload_dir(server).parent / f"escaped-{uuid.uuid4().hex[:6]}.txt"
    hostile = "../" * 12 + str(target).lstrip("/")
    # when
    [attachment] = (await sent(server, chat, [(hostile, TEXT, "text/plain")]))["attachments"]
    # then
    assert attachment["filename"] == target.name
    assert not target.exists()
    [path] = [p for p in stored(upload_dir(server)) if p.name == str(attachment_uuid(attachment))]
    assert upload_dir(server) in path.parents
    assert path.read_bytes() == TEXT


# --- the size limit while streaming -----------------------------------------------------------

BOUNDARY = "e2e-boundary-7d1f"


def multipart_head(chat: Chat) -> bytes:
    import json

    operations = json.dumps(
        {
            "query": SEND_MESSAGE,
            "variables": {"input": with_nulls({"interviewId": chat.interview_id, "body": ""}, 1)},
        }
    )
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n{operations}'
        f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'
        '{"0": ["variables.input.attachments.0"]}'
        f'\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name="0"; filename="huge.pdf"'
        "\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.7\n"
    ).encode()


def stream_upload(
    server: Server, chat: Chat, total_bytes: int, *, declare_length: bool = False
) -> tuple[int, int]:
    """Streams a multipart upload of one `total_bytes` file, made up as it is sent, and stops
    as soon as the server answers. Returns (status, bytes of the file sent). A plain socket:
    the answer stays readable after the server hangs up on the rest of the body."""
    head = multipart_head(chat)
    framing = (
        f"Content-Length: {len(head) + total_bytes}\r\n"
        if declare_length
        else "Transfer-Encoding: chunked\r\n"
    )
    request = (
        f"POST /graphql HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Authorization: Bearer {chat.client.token}\r\nApollo-Require-Preflight: 1\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n{framing}\r\n"
    ).encode()

    def frame(piece: bytes) -> bytes:
        return piece if declare_length else b"%x\r\n%s\r\n" % (len(piece), piece)

    chunk = bytes(range(256)) * 4096  # 1 MiB, the same each time: nothing is held
    sent = 0
    pending = request + frame(head)
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        connection.setblocking(False)
        try:
            while True:
                readable, writable, _ = select.select([connection], [connection], [], 30)
                if readable:
                    break
                if not pending:
                    if sent >= total_bytes:
                        break
                    pending = frame(chunk)
                    sent += len(chunk)
                if writable:
                    pending = pending[connection.send(pending) :]
        except (BrokenPipeError, ConnectionResetError):
            pass
        connection.setblocking(True)
        answer = b""
        while b"\r\n" not in answer:
            piece = connection.recv(4096)
            assert piece, "the server hung up without answering"
            answer += piece
    return int(answer.split()[1]), sent


@pytest.fixture
async def small_limits(
    start_server: Callable[..., Awaitable[Server]],
) -> Server:
    return await start_server(MAX_UPLOAD_BYTES=str(8 * MiB), MAX_UPLOAD_REQUEST_BYTES=str(32 * MiB))


async def test_an_endless_upload_is_cut_off_while_memory_stays_flat(small_limits: Server) -> None:
    # given a server that already handled an upload (its parser is loaded and warm)
    server = small_limits
    chat = await open_chat(server)
    await sent(server, chat, [("warm.pdf", PDF, "application/pdf")])
    before = rss_bytes(server.process.pid)
    # when a client streams a 200 MiB file, made up as it goes, with no Content-Length
    status, sent_bytes = await asyncio.to_thread(stream_upload, server, chat, 200 * MiB)
    # then the server refused it once past MAX_UPLOAD_REQUEST_BYTES, long before the end
    after = rss_bytes(server.process.pid)
    assert status == 413
    assert sent_bytes < 80 * MiB, sent_bytes
    # and its memory grew by a small fraction of what it read
    assert after - before < 16 * MiB, (before, after)
    # and nothing of the upload stayed on disk
    assert list((upload_dir(server) / "incoming").iterdir()) == []
    assert len(stored(upload_dir(server))) == 1
    # and the server is fine
    assert (await get(server, "/healthz")).status_code == 200


async def test_an_announced_over_size_body_is_refused_before_it_is_sent(
    small_limits: Server,
) -> None:
    chat = await open_chat(small_limits)
    status, sent_bytes = await asyncio.to_thread(
        lambda: stream_upload(small_limits, chat, 200 * MiB, declare_length=True)
    )
    assert status == 413
    assert sent_bytes < 80 * MiB


async def test_a_file_over_the_per_file_limit_is_a_user_error(small_limits: Server) -> None:
    chat = await open_chat(small_limits)
    big = PDF + b"0" * (9 * MiB)
    response = await send_files(
        small_limits, chat, [("big.pdf", big, "application/pdf")], sender=chat.client
    )
    payload = response.json()["data"]["sendMessage"]
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "attachments", "0"], "FILE_TOO_LARGE")
    ]
    assert list((upload_dir(small_limits) / "incoming").iterdir()) == []


# --- a crash between placing the file and committing the row ---------------------------------


async def test_a_crash_before_the_commit_leaves_no_visible_orphan_and_the_sweeper_takes_it(
    shared_database: str, start_server: Callable[..., Awaitable[Server]], tmp_path: Path
) -> None:
    # given a server on PostgreSQL, and a transaction of ours that keeps attachment rows from
    # being inserted: the upload will wait between placing its file and inserting its row
    uploads = tmp_path / "shared-uploads"
    env = {"UPLOAD_DIR": str(uploads), "URL_SIGNING_KEY": SIGNING_KEY}
    server = await start_server(shared_database, migrate=False, **env)
    chat = await open_chat(server)
    blocker = await asyncpg.connect(shared_database.replace("postgres://", "postgresql://", 1))
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("LOCK TABLE attachments IN SHARE MODE")
    upload = asyncio.create_task(
        send_files(server, chat, [("deliverable.pdf", PDF, "application/pdf")], sender=chat.client)
    )
    try:
        # when its file is in place, the server dies before it could commit
        async with asyncio.timeout(30):
            while not stored(uploads):
                await asyncio.sleep(0.05)
        server.process.send_signal(signal.SIGKILL)
        await asyncio.to_thread(server.process.wait)
        with pytest.raises(httpx.TransportError):
            await upload
    finally:
        await transaction.rollback()
        await blocker.close()
    [orphan] = stored(uploads)
    orphan_id = uuid.UUID(orphan.name)
    # then, served again, nothing of that message or its file is visible
    again = await start_server(shared_database, migrate=False, **env)
    data = await execute(again, MESSAGES, {"id": chat.interview_id}, token=chat.client.token)
    assert [node["body"] for node in data["node"]["messages"]["nodes"]] == [
        chat.first_message["body"]
    ]
    assert (await get(again, f"/attachments/{orphan_id}", chat.client.token)).status_code == 404
    expires = int(time.time()) + 60
    signed = (
        f"/attachments/{orphan_id}?expires={expires}"
        f"&signature={sign(SIGNING_KEY.encode(), orphan_id, expires)}"
    )
    assert (await get(again, signed)).status_code == 404
    # and the sweeper removes the file (no grace: nothing is in flight now)
    swept = await asyncio.to_thread(
        subprocess.run,
        [str(MARKETPLACE), "sweep-uploads", "--grace-seconds", "0"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": shared_database, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert swept.returncode == 0, swept.stderr
    assert "removed 1 orphaned files" in swept.stdout
    assert stored(uploads) == []
    # while a file sent since, committed, stays
    await sent(again, chat, [("after.pdf", PDF, "application/pdf")])
    swept = await asyncio.to_thread(
        subprocess.run,
        [str(MARKETPLACE), "sweep-uploads", "--grace-seconds", "0"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "DATABASE_URL": shared_database, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "removed 0 orphaned files" in swept.stdout
    assert len(stored(uploads)) == 1


# --- live and resumed subscriptions -----------------------------------------------------------


async def test_message_added_carries_files_live_and_on_resume(server: Server) -> None:
    # given
    chat = await open_chat(server)
    async with socket_to(server, chat.freelancer.token) as socket:
        live = await socket.subscribe(
            MESSAGE_ADDED,
            {"interviewId": chat.interview_id, "after": chat.first_message["cursor"]},
        )
        # when
        message = await sent(
            server, chat, [("a.png", PNG, "image/png"), ("b.pdf", PDF, "application/pdf")]
        )
        # then the live event carries the files, with links that work
        [delivered] = await live.take(1, timeout=START_TIMEOUT)
        assert delivered["id"] == message["id"]
        assert [(f["filename"], f["sha256"]) for f in delivered["attachments"]] == [
            ("a.png", sha256(PNG)),
            ("b.pdf", sha256(PDF)),
        ]
        assert (await get(server, delivered["attachments"][1]["url"])).content == PDF
        await socket.complete(live)
        # and a subscription resumed from before the message replays it with its files
        resumed = await socket.subscribe(
            MESSAGE_ADDED,
            {"interviewId": chat.interview_id, "after": await cursor_before(chat, message)},
        )
        [replayed] = await resumed.take(1, timeout=START_TIMEOUT)
        assert replayed["id"] == message["id"]
        assert [f["id"] for f in replayed["attachments"]] == [
            f["id"] for f in message["attachments"]
        ]
        assert (await get(server, replayed["attachments"][0]["url"])).content == PNG
        # and a text message after it arrives with none
        await send_message(chat, "thanks")
        [plain] = await resumed.take(1)
        assert (plain["body"], plain["attachments"]) == ("thanks", [])
