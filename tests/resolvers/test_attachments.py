"""Attachments through the HTTP API of the in-process app: multipart uploads to sendMessage,
submitProposal and submitMilestone, their limits, and downloads at /attachments/<id>."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx
import pytest

from models.actors import actor_for
from models.attachments.storage import get_storage
from models.interviews import actions as interviews
from models.users.actions import Session
from resolvers.ids import parse_global_id
from tests.attachments_support import (
    ELF,
    HTML,
    JPEG,
    PDF,
    PNG,
    PREFLIGHT,
    TEXT,
    ZIP,
    FileSpec,
    attachment_paths,
    multipart_body,
    sha256,
    with_nulls,
)
from tests.conftest import Database, count_statements
from tests.contracts_factory import make_contract
from tests.factories import make_client, make_freelancer, make_user
from tests.resolvers.contracts_support import gid
from tests.resolvers.marketplace_support import job_id, make_job, make_proposal

ATTACHMENT = "id filename contentType size sha256 url createdAt"
SEND_MESSAGE = (
    """
mutation ($input: SendMessageInput!) {
  sendMessage(input: $input) {
    message { id body attachments { %s } }
    userErrors { field message code }
  }
}"""
    % ATTACHMENT
)
SUBMIT_PROPOSAL = (
    """
mutation ($input: SubmitProposalInput!) {
  submitProposal(input: $input) {
    proposal { id attachments { %s } }
    userErrors { field message code }
  }
}"""
    % ATTACHMENT
)
SUBMIT_MILESTONE = (
    """
mutation ($input: SubmitMilestoneInput!) {
  submitMilestone(input: $input) {
    milestone { id status submissions { message attachments { %s } } }
    userErrors { field message code }
  }
}"""
    % ATTACHMENT
)
MESSAGES = """
query ($id: ID!, $last: Int!) {
  node(id: $id) { ... on Interview { messages(last: $last) { nodes {
    id body attachments { id filename size url } } } } }
}"""
ATTACHMENT_NODE = "query ($id: ID!) { node(id: $id) { ... on Attachment { id filename } } }"


@dataclass
class Chat:
    client: Session
    freelancer: Session
    interview_id: str


async def open_chat() -> Chat:
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    job = await make_job(client)
    proposal = await make_proposal(freelancer, job)
    interview, _ = await interviews.start_interview(await actor_for(client.user), proposal.id, "Hi")
    return Chat(client=client, freelancer=freelancer, interview_id=gid("Interview", interview.id))


async def upload(
    http: httpx.AsyncClient,
    query: str,
    input: dict[str, Any],
    files: list[FileSpec],
    *,
    token: str | None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    data, parts = multipart_body(
        query,
        {"input": with_nulls(input, len(files))},
        dict(zip(attachment_paths(len(files)), files, strict=True)),
    )
    all_headers = {**PREFLIGHT, **(headers or {})}
    if token:
        all_headers["authorization"] = f"Bearer {token}"
    return await http.post("/graphql", data=data, files=parts, headers=all_headers)


async def payload_of(response: httpx.Response, name: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    return body["data"][name]


async def send_files(
    http: httpx.AsyncClient, chat: Chat, files: list[FileSpec], *, body: str = "See attached"
) -> dict[str, Any]:
    response = await upload(
        http,
        SEND_MESSAGE,
        {"interviewId": chat.interview_id, "body": body},
        files,
        token=chat.client.token,
    )
    return await payload_of(response, "sendMessage")


def bearer(session: Session) -> dict[str, str]:
    return {"authorization": f"Bearer {session.token}"}


def attachment_pk(attachment: dict[str, Any]) -> UUID:
    parsed = parse_global_id(attachment["id"])
    assert parsed is not None and parsed[0] == "Attachment"
    return parsed[1]


def stored_files() -> list[Path]:
    root = get_storage().root
    return sorted(path for path in root.rglob("*") if path.is_file() and path.parent != root)


# --- sending and reading ----------------------------------------------------------------------


async def test_a_message_carries_its_files_to_both_parties(
    db: Database, http: httpx.AsyncClient, gql: Any
) -> None:
    # given
    chat = await open_chat()
    # when
    payload = await send_files(
        http, chat, [("mockup.png", PNG, "image/png"), ("notes.txt", TEXT, "text/plain")]
    )
    # then
    assert payload["userErrors"] == []
    files = payload["message"]["attachments"]
    assert [(f["filename"], f["contentType"], f["size"], f["sha256"]) for f in files] == [
        ("mockup.png", "image/png", len(PNG), sha256(PNG)),
        ("notes.txt", "text/plain", len(TEXT), sha256(TEXT)),
    ]
    # and the freelancer sees them in the chat, and downloads them by the signed link
    data = await gql.execute(
        MESSAGES, {"id": chat.interview_id, "last": 1}, token=chat.freelancer.token
    )
    [message] = data["node"]["messages"]["nodes"]
    assert [f["filename"] for f in message["attachments"]] == ["mockup.png", "notes.txt"]
    response = await http.get(message["attachments"][0]["url"])
    assert response.status_code == 200
    assert response.content == PNG
    assert response.headers["content-type"] == "image/png"
    assert response.headers["content-disposition"] == 'attachment; filename="mockup.png"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "private"
    text = await http.get(message["attachments"][1]["url"])
    assert text.content == TEXT
    assert text.headers["content-type"] == "text/plain; charset=utf-8"


async def test_a_message_may_be_only_files(db: Database, http: httpx.AsyncClient) -> None:
    chat = await open_chat()
    payload = await send_files(http, chat, [("brief.pdf", PDF, "application/pdf")], body="")
    assert payload["userErrors"] == []
    assert payload["message"]["body"] == ""
    assert [f["contentType"] for f in payload["message"]["attachments"]] == ["application/pdf"]


async def test_a_message_without_files_still_needs_text(db: Database, gql: Any) -> None:
    chat = await open_chat()
    data = await gql.execute(
        SEND_MESSAGE,
        {"input": {"interviewId": chat.interview_id, "body": "  ", "attachments": []}},
        token=chat.client.token,
    )
    assert [e["field"] for e in data["sendMessage"]["userErrors"]] == [["input", "body"]]


async def test_downloads_by_bearer_token_are_for_the_parties_only(
    db: Database, http: httpx.AsyncClient
) -> None:
    # given
    chat = await open_chat()
    [attachment] = (await send_files(http, chat, [("brief.pdf", PDF, "application/pdf")]))[
        "message"
    ]["attachments"]
    path = f"/attachments/{attachment_pk(attachment)}"
    stranger = await make_user()
    # then
    for party in (chat.client, chat.freelancer):
        response = await http.get(path, headers=bearer(party))
        assert (response.status_code, response.content) == (200, PDF)
    for headers in (bearer(stranger), {}, {"authorization": "Bearer not-a-token"}):
        response = await http.get(path, headers=headers)
        assert response.status_code == 404
        assert PDF[:8] not in response.content
    # and a stranger's 404 is the same as for an id that does not exist
    missing = await http.get(f"/attachments/{UUID(int=1)}", headers=bearer(stranger))
    refused = await http.get(path, headers=bearer(stranger))
    assert (missing.status_code, missing.text) == (refused.status_code, refused.text)
    assert (await http.get("/attachments/not-a-uuid")).status_code == 404


async def test_signed_links_expire_and_cannot_be_altered(
    db: Database, app: Any, http: httpx.AsyncClient
) -> None:
    # given
    chat = await open_chat()
    sent = await send_files(
        http, chat, [("a.pdf", PDF, "application/pdf"), ("b.png", PNG, "image/png")]
    )
    first, second = sent["message"]["attachments"]
    links = app.state.links
    # when the link expired a second ago
    expired = links.url(attachment_pk(first), now=time.time() - links.ttl_seconds - 61)
    # then
    assert (await http.get(expired)).status_code == 404
    # and a link is for its own file only, and its expiry cannot be extended
    _, query = first["url"].split("?")
    assert (await http.get(f"/attachments/{attachment_pk(second)}?{query}")).status_code == 404
    expires = int(query.split("expires=")[1].split("&")[0])
    stretched = first["url"].replace(f"expires={expires}", f"expires={expires + 3600}")
    assert (await http.get(stretched)).status_code == 404
    assert (await http.get(first["url"] + "x")).status_code == 404
    assert (await http.get(first["url"])).status_code == 200


async def test_ranges_and_head(db: Database, http: httpx.AsyncClient) -> None:
    chat = await open_chat()
    [attachment] = (await send_files(http, chat, [("brief.pdf", PDF, "application/pdf")]))[
        "message"
    ]["attachments"]
    url = attachment["url"]
    # a byte range
    partial = await http.get(url, headers={"range": "bytes=5-14"})
    assert partial.status_code == 206
    assert partial.content == PDF[5:15]
    assert partial.headers["content-range"] == f"bytes 5-14/{len(PDF)}"
    # a suffix
    tail = await http.get(url, headers={"range": "bytes=-4"})
    assert (tail.status_code, tail.content) == (206, PDF[-4:])
    # past the end
    beyond = await http.get(url, headers={"range": f"bytes={len(PDF) + 10}-"})
    assert beyond.status_code == 416
    assert beyond.headers["content-range"] == f"bytes */{len(PDF)}"
    # HEAD: the headers of GET, no body
    head = await http.head(url)
    assert head.status_code == 200
    assert head.headers["content-length"] == str(len(PDF))
    assert head.headers["accept-ranges"] == "bytes"
    assert head.content == b""


# --- limits ---------------------------------------------------------------------------------


async def test_at_most_five_files_per_message(db: Database, http: httpx.AsyncClient) -> None:
    chat = await open_chat()
    before = stored_files()
    payload = await send_files(http, chat, [(f"p{i}.png", PNG, "image/png") for i in range(6)])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "attachments"], "TOO_MANY_FILES")
    ]
    assert payload["message"] is None
    # and nothing of the refused request stays on disk
    assert stored_files() == before


async def test_more_files_than_any_mutation_takes_are_refused_while_parsing(
    db: Database, http: httpx.AsyncClient
) -> None:
    chat = await open_chat()
    response = await upload(
        http,
        SEND_MESSAGE,
        {"interviewId": chat.interview_id, "body": "many"},
        [(f"p{i}.png", PNG, "image/png") for i in range(11)],
        token=chat.client.token,
    )
    assert response.status_code == 400
    assert "Too many files" in response.text


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("logo.png", HTML),  # a web page called an image
        ("report.pdf", ELF),  # a program called a document
        ("notes.txt", PNG),  # binary called text
        ("page.html", HTML),  # not on the list at all
        ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>"),  # scriptable
        ("tool.exe", b"MZ" + bytes(64)),
        ("noextension", PDF),
        ("table.csv", b"a,b\x00,c"),  # text with a NUL
        ("table.csv", b"a,b,\xff\xfe"),  # not UTF-8
    ],
)
async def test_a_file_must_be_what_its_name_says(
    db: Database, http: httpx.AsyncClient, filename: str, content: bytes
) -> None:
    chat = await open_chat()
    payload = await send_files(http, chat, [(filename, content, "application/pdf")])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "attachments", "0"], "UNSUPPORTED_FILE_TYPE")
    ]


@pytest.mark.parametrize(
    ("filename", "content", "content_type"),
    [
        ("photo.JPG", JPEG, "image/jpeg"),
        ("archive.zip", ZIP, "application/zip"),
        (
            "plan.docx",
            ZIP,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("README.md", TEXT, "text/markdown"),
        ("data.csv", b"a,b\n1,2\n", "text/csv"),
    ],
)
async def test_allowed_kinds(
    db: Database, http: httpx.AsyncClient, filename: str, content: bytes, content_type: str
) -> None:
    chat = await open_chat()
    payload = await send_files(http, chat, [(filename, content, "application/octet-stream")])
    assert payload["userErrors"] == []
    assert payload["message"]["attachments"][0]["contentType"] == content_type


async def test_an_empty_file_is_refused(db: Database, http: httpx.AsyncClient) -> None:
    chat = await open_chat()
    payload = await send_files(http, chat, [("empty.txt", b"", "text/plain")])
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "attachments", "0"], "VALIDATION")
    ]


async def test_filenames_lose_their_paths_and_control_characters(
    db: Database, http: httpx.AsyncClient
) -> None:
    # given
    chat = await open_chat()
    root = get_storage().root
    outside = root.parent / "passwd.txt"
    # when
    payload = await send_files(
        http,
        chat,
        [
            ("../../passwd.txt", TEXT, "text/plain"),
            ("C:\\Users\\me\\report.pdf", PDF, "application/pdf"),
            # a right-to-left override that shows "…gnp.exe" as "…exe.png"
            ("invoice\u202egnp.exe: 1.png", PNG, "image/png"),
        ],
    )
    # then
    names = [f["filename"] for f in payload["message"]["attachments"]]
    assert names == ["passwd.txt", "report.pdf", "invoicegnp.exe_ 1.png"]
    assert not outside.exists()
    # and the stored files are named by their ids, inside UPLOAD_DIR
    for attachment in payload["message"]["attachments"]:
        [path] = [p for p in stored_files() if p.name == str(attachment_pk(attachment))]
        assert root in path.parents
    # and the header carries the cleaned name
    response = await http.get(payload["message"]["attachments"][2]["url"])
    assert response.headers["content-disposition"] == (
        "attachment; filename*=utf-8''invoicegnp.exe_%201.png"
    )


async def test_control_characters_in_a_raw_filename(db: Database, http: httpx.AsyncClient) -> None:
    # given a multipart body written by hand: httpx would percent-encode these characters
    chat = await open_chat()
    operations = json.dumps(
        {
            "query": SEND_MESSAGE,
            "variables": {"input": with_nulls({"interviewId": chat.interview_id, "body": ""}, 1)},
        }
    )
    boundary = "b0undary"
    body = b"".join(
        [
            f'--{boundary}\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'.encode(),
            operations.encode(),
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="map"\r\n\r\n'.encode(),
            b'{"0": ["variables.input.attachments.0"]}',
            f"\r\n--{boundary}\r\n".encode(),
            b'Content-Disposition: form-data; name="0"; filename="re\x07po\x1brt\x7f.pdf"\r\n',
            b"Content-Type: application/pdf\r\n\r\n",
            PDF,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )
    # when
    response = await http.post(
        "/graphql",
        content=body,
        headers={
            **PREFLIGHT,
            **bearer(chat.client),
            "content-type": f"multipart/form-data; boundary={boundary}",
        },
    )
    # then
    payload = await payload_of(response, "sendMessage")
    assert [f["filename"] for f in payload["message"]["attachments"]] == ["report.pdf"]


async def test_a_multipart_request_must_force_a_preflight(
    db: Database, http: httpx.AsyncClient
) -> None:
    chat = await open_chat()
    data, parts = multipart_body(
        SEND_MESSAGE,
        {"input": with_nulls({"interviewId": chat.interview_id, "body": "x"}, 1)},
        {"input.attachments.0": ("a.png", PNG, "image/png")},
    )
    response = await http.post("/graphql", data=data, files=parts, headers=bearer(chat.client))
    assert response.status_code == 400
    assert "Apollo-Require-Preflight" in response.text


async def test_a_string_is_not_a_file(db: Database, gql: Any) -> None:
    chat = await open_chat()
    data = await gql.execute(
        SEND_MESSAGE,
        {"input": {"interviewId": chat.interview_id, "body": "x", "attachments": ["/etc/passwd"]}},
        token=chat.client.token,
    )
    assert [(e["field"], e["code"]) for e in data["sendMessage"]["userErrors"]] == [
        (["input", "attachments", "0"], "VALIDATION")
    ]


async def test_files_no_action_took_are_not_kept(db: Database, http: httpx.AsyncClient) -> None:
    # given: a request with a file that no variable refers to, and one that fails
    chat = await open_chat()
    data, parts = multipart_body(
        SEND_MESSAGE,
        {"input": {"interviewId": chat.interview_id, "body": "no files"}},
        {},
    )
    parts = [("stray", ("stray.png", PNG, "image/png"))]
    before = stored_files()
    # when
    response = await http.post(
        "/graphql", data=data, files=parts, headers={**PREFLIGHT, **bearer(chat.client)}
    )
    # then
    assert (await payload_of(response, "sendMessage"))["userErrors"] == []
    assert stored_files() == before
    assert list(get_storage().incoming_dir.iterdir()) == []


# --- proposals and milestone submissions -------------------------------------------------------


async def test_a_proposal_carries_samples_to_the_jobs_client(
    db: Database, http: httpx.AsyncClient, gql: Any
) -> None:
    # given
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    other_freelancer, _ = await make_freelancer()
    job = await make_job(client)
    # when
    response = await upload(
        http,
        SUBMIT_PROPOSAL,
        {"jobId": job_id(job), "coverLetter": "See my samples", "bidAmount": "300"},
        [("portfolio.pdf", PDF, "application/pdf"), ("shot.png", PNG, "image/png")],
        token=freelancer.token,
    )
    # then
    payload = await payload_of(response, "submitProposal")
    assert payload["userErrors"] == []
    proposal_id = payload["proposal"]["id"]
    data = await gql.execute(
        "query ($id: ID!) { node(id: $id) { ... on Proposal { attachments { filename url } } } }",
        {"id": proposal_id},
        token=client.token,
    )
    files = data["node"]["attachments"]
    assert [f["filename"] for f in files] == ["portfolio.pdf", "shot.png"]
    assert (await http.get(files[1]["url"])).content == PNG
    # and another freelancer can neither see nor fetch them
    pk = attachment_pk(payload["proposal"]["attachments"][0])
    assert (
        await http.get(f"/attachments/{pk}", headers=bearer(other_freelancer))
    ).status_code == 404
    data = await gql.execute(
        ATTACHMENT_NODE,
        {"id": payload["proposal"]["attachments"][0]["id"]},
        token=other_freelancer.token,
    )
    assert data["node"] is None
    data = await gql.execute(
        ATTACHMENT_NODE, {"id": payload["proposal"]["attachments"][0]["id"]}, token=client.token
    )
    assert data["node"]["filename"] == "portfolio.pdf"


async def test_a_proposal_takes_at_most_five_files(
    db: Database, http: httpx.AsyncClient, gql: Any
) -> None:
    client, _ = await make_client()
    freelancer, _ = await make_freelancer()
    job = await make_job(client)
    balance = "{ viewer { connectsBalance } }"
    before = (await gql.execute(balance, token=freelancer.token))["viewer"]["connectsBalance"]
    response = await upload(
        http,
        SUBMIT_PROPOSAL,
        {"jobId": job_id(job), "coverLetter": "Many samples", "bidAmount": "300"},
        [(f"s{i}.png", PNG, "image/png") for i in range(6)],
        token=freelancer.token,
    )
    payload = await payload_of(response, "submitProposal")
    assert [e["code"] for e in payload["userErrors"]] == ["TOO_MANY_FILES"]
    # and the refused proposal spent nothing
    after = (await gql.execute(balance, token=freelancer.token))["viewer"]["connectsBalance"]
    assert after == before


async def test_a_milestone_is_submitted_with_its_deliverables(
    db: Database, http: httpx.AsyncClient
) -> None:
    # given a funded milestone
    contract, client_actor, _, client, freelancer = await make_contract()
    from models.contracts import milestones as milestone_actions
    from models.contracts.orm import Milestone

    milestone = await Milestone.get(contract_id=contract.id)
    await milestone_actions.fund_milestone(client_actor, milestone.id)
    staff = await make_user(is_staff=True)
    stranger = await make_user()
    # when
    response = await upload(
        http,
        SUBMIT_MILESTONE,
        {"milestoneId": gid("Milestone", milestone.id), "message": "Done, see files"},
        [(f"deliverable{i}.zip", ZIP, "application/zip") for i in range(10)],
        token=freelancer.token,
    )
    # then
    payload = await payload_of(response, "submitMilestone")
    assert payload["userErrors"] == []
    [submission] = payload["milestone"]["submissions"]
    assert [f["filename"] for f in submission["attachments"]] == [
        f"deliverable{i}.zip" for i in range(10)
    ]
    path = f"/attachments/{attachment_pk(submission['attachments'][3])}"
    # the parties, and staff (who resolve the contract's disputes), may fetch them
    for session in (client, freelancer, staff):
        assert (await http.get(path, headers=bearer(session))).status_code == 200
    assert (await http.get(path, headers=bearer(stranger))).status_code == 404


async def test_a_milestone_takes_at_most_ten_files(db: Database, http: httpx.AsyncClient) -> None:
    contract, client_actor, _, _, freelancer = await make_contract()
    from models.contracts import milestones as milestone_actions
    from models.contracts.orm import Milestone

    milestone = await Milestone.get(contract_id=contract.id)
    await milestone_actions.fund_milestone(client_actor, milestone.id)
    # more than ten would not even parse (MAX_UPLOAD_FILES): ten plus a bad one
    files = [(f"d{i}.zip", ZIP, "application/zip") for i in range(9)] + [("x.exe", ELF, "x")]
    response = await upload(
        http,
        SUBMIT_MILESTONE,
        {"milestoneId": gid("Milestone", milestone.id), "message": "Done"},
        files,
        token=freelancer.token,
    )
    payload = await payload_of(response, "submitMilestone")
    assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
        (["input", "attachments", "9"], "UNSUPPORTED_FILE_TYPE")
    ]
    assert payload["milestone"] is None


# --- loading --------------------------------------------------------------------------------


async def test_a_page_of_messages_loads_its_files_in_one_query(
    db: Database, http: httpx.AsyncClient, gql: Any
) -> None:
    # given
    chat = await open_chat()
    for index in range(8):
        await send_files(
            http, chat, [(f"f{index}.png", PNG, "image/png"), (f"g{index}.txt", TEXT, "text/plain")]
        )
    # when
    counts = []
    for size in (2, 8):
        with count_statements() as counter:
            data = await gql.execute(
                MESSAGES, {"id": chat.interview_id, "last": size}, token=chat.client.token
            )
        nodes = data["node"]["messages"]["nodes"]
        assert len(nodes) == size and all(len(node["attachments"]) == 2 for node in nodes)
        counts.append(counter.count)
    # then
    assert counts[0] == counts[1], counts


async def test_a_text_message_costs_no_attachment_statement(db: Database, gql: Any) -> None:
    chat = await open_chat()
    with count_statements() as counter:
        data = await gql.execute(
            "mutation ($input: SendMessageInput!) { sendMessage(input: $input) { "
            "message { id } userErrors { code } } }",
            {"input": {"interviewId": chat.interview_id, "body": "plain"}},
            token=chat.client.token,
        )
    assert data["sendMessage"]["userErrors"] == []
    assert not [s for s in counter.statements if "attachments" in s]


async def test_files_are_inserted_in_one_statement(db: Database, http: httpx.AsyncClient) -> None:
    chat = await open_chat()
    # the first message notifies the freelancer; the next ones are coalesced into it
    await send_files(http, chat, [("first.png", PNG, "image/png")])
    counts = []
    for files in (1, 5):
        with count_statements() as counter:
            payload = await send_files(
                http, chat, [(f"f{i}.png", PNG, "image/png") for i in range(files)]
            )
        assert len(payload["message"]["attachments"]) == files
        inserts = [s for s in counter.statements if 'INSERT INTO "attachments"' in s]
        assert len(inserts) == 1, inserts
        counts.append(counter.count)
    # and the whole request costs the same for one file as for five
    assert counts[0] == counts[1], counts


@pytest.fixture
async def small_limits_app(db: Database) -> AsyncIterator[Any]:
    from app import create_app
    from settings import get_settings

    application = create_app(
        get_settings().model_copy(
            update={
                "broadcast_url": "memory://",
                "max_upload_bytes": 4096,
                "max_upload_request_bytes": 64 * 1024,
            }
        ),
        manage_database=False,
    )
    async with application.router.lifespan_context(application):
        yield application


async def test_size_limits(db: Database, small_limits_app: Any) -> None:
    transport = httpx.ASGITransport(app=small_limits_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        chat = await open_chat()
        before = stored_files()
        # a file over MAX_UPLOAD_BYTES: a userError with the file's path
        payload = await send_files(
            http, chat, [("ok.png", PNG[:4000], "image/png"), ("big.png", PNG * 2, "image/png")]
        )
        assert [(e["field"], e["code"]) for e in payload["userErrors"]] == [
            (["input", "attachments", "1"], "FILE_TOO_LARGE")
        ]
        # a request over MAX_UPLOAD_REQUEST_BYTES: 413 before the schema sees it
        response = await upload(
            http,
            SEND_MESSAGE,
            {"interviewId": chat.interview_id, "body": "huge"},
            [(f"p{i}.png", PNG * 8, "image/png") for i in range(10)],
            token=chat.client.token,
        )
        assert response.status_code == 413
        assert stored_files() == before
        assert list(get_storage().incoming_dir.iterdir()) == []
