"""No request crashes the server: documents drawn from the schema (see hostile_documents.py),
deep, wide and odd, sent over HTTP anonymously and with a client's, a freelancer's or a
stranger's token, and over a websocket (where some messages are also of the wrong shape).

Whatever the request, the answer is never a 5xx, its body is JSON with `data` or `errors`, no
error is the masked "Internal server error" and nothing is logged as unexpected; a socket
answers with protocol messages, or closes with 4400 for an invalid one, and never crashes.

The default run draws the same 200 requests and 40 socket messages every time (derandomized,
no example database): about half a minute per database. `HYPOTHESIS_PROFILE=long` draws
3,000 and 500 new ones (random seed) to look for new crashes; each one found gets its own
regression test.
"""

from __future__ import annotations

import json
import logging
import os
from typing import Any

import httpx
import pytest
from graphql import GraphQLError, OperationDefinitionNode, parse
from hypothesis import HealthCheck, Phase, event, given, note, settings
from hypothesis import strategies as st

from models.contracts.orm import Contract, Milestone
from models.jobs.orm import Job
from models.profiles.orm import ClientProfile, FreelancerProfile, Skill
from models.proposals.orm import Proposal
from models.users import actions as users
from models.users.orm import User
from schema import build_schema
from schema.core import encode_global_id
from schema.socket_messages import malformed
from tests.asgi_websocket import ASGIWebSocket, Closed
from tests.conftest import Database
from tests.contracts_factory import make_contract
from tests.factories import PASSWORD, make_user
from tests.resolvers.hostile_documents import Pools, Request, requests
from tests.resolvers.marketplace_support import make_job, make_proposal

LONG_RUN = os.environ.get("HYPOTHESIS_PROFILE") == "long"
# A resolver's coroutine that nobody awaits (the batch executor leaving a level half started)
# warns when it is collected; here that fails the run instead of scrolling past.
pytestmark = [
    pytest.mark.filterwarnings("error:coroutine .* was never awaited:RuntimeWarning"),
    pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning"),
]
SCHEMA = build_schema()._schema
GRAPHQL_RESPONSE = "application/graphql-response+json"
ADDRESS = "192.0.2.44"  # signs the scene's users back in; not the test client's address


class Scene:
    """A client and a freelancer with a contract (two milestones), a stranger's job with a
    proposal, and a pool of their real global IDs and cursors for the documents to use."""

    def __init__(self) -> None:
        self.sessions: dict[str, tuple[str, str]] = {}  # who -> (email, token)
        self.pools = Pools()

    @classmethod
    async def build(cls, gql: Any) -> Scene:
        scene = cls()
        _, _, _, client, freelancer = await make_contract(milestones=["100.00", "50.00"])
        stranger = await make_user()
        await make_proposal(freelancer, await make_job(client, title="Another job"))
        for who, session in (
            ("client", client),
            ("freelancer", freelancer),
            ("stranger", stranger),
        ):
            scene.sessions[who] = (session.user.email, session.token)
        for model in (Job, Proposal, Contract, Milestone, User, FreelancerProfile, ClientProfile):
            for row in await model.all():
                scene.pools.ids.append(str(encode_global_id(model.__name__, row.id)))
        skill = await Skill.first()
        assert skill is not None
        scene.pools.ids.append(str(encode_global_id("Skill", skill.id)))
        page = await gql.execute("{ jobs(first: 1) { pageInfo { endCursor } } }")
        scene.pools.cursors.append(page["jobs"]["pageInfo"]["endCursor"])
        return scene

    async def token(self, who: str | None) -> str | None:
        """A live token of `who` (signed in again if a drawn logOut revoked it)."""
        if who is None:
            return None
        email, token = self.sessions[who]
        if not await users.token_is_live(token):
            token = (await users.log_in(email=email, password=PASSWORD, address=ADDRESS)).token
            self.sessions[who] = (email, token)
        return token


def errors_in(log: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in log.records if record.levelno >= logging.ERROR]


def crashes_in(body: Any) -> list[Any]:
    return [
        error
        for error in (body.get("errors") or [] if isinstance(body, dict) else [])
        if error.get("message") == "Internal server error"
        or (error.get("extensions") or {}).get("code") == "INTERNAL_SERVER_ERROR"
    ]


def assert_answered(response: httpx.Response, request: Request) -> None:
    note(f"status {response.status_code}: {response.text[:2000]}")
    assert response.status_code < 500
    if request.operation == "mutation" and response.status_code == 405:
        return  # a mutation over GET
    assert response.status_code in (200, 400), response.text
    body = response.json()
    assert isinstance(body, dict) and ("data" in body or body.get("errors")), body
    assert all(isinstance(error.get("message"), str) for error in body.get("errors") or [])
    assert not crashes_in(body), body
    codes = sorted({(e.get("extensions") or {}).get("code", "-") for e in body.get("errors") or []})
    event(f"{request.operation} {response.status_code} {'data' if body.get('data') else 'no data'}")
    event(f"error codes {codes}")


@pytest.fixture
def unexpected(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Errors logged by anyone: our masked crashes, and Strawberry's ("Exception in worker
    task" when a websocket operation dies)."""
    caplog.set_level(logging.ERROR)
    return caplog


@pytest.fixture
async def scene(gql: Any, db: Database) -> Scene:
    return await Scene.build(gql)


HEALTH_CHECKS_THAT_DO_NOT_APPLY = [
    # One scene (the `scene` fixture) serves every example, on purpose.
    HealthCheck.function_scoped_fixture,
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.large_base_example,
]


@settings(
    max_examples=3000 if LONG_RUN else 200,
    derandomize=not LONG_RUN,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink] if LONG_RUN else [Phase.generate],
    suppress_health_check=HEALTH_CHECKS_THAT_DO_NOT_APPLY,
)
@given(
    who=st.sampled_from([None, None, "client", "freelancer", "stranger"]),
    method=st.sampled_from(["POST"] * 9 + ["GET"]),
    accept=st.sampled_from([GRAPHQL_RESPONSE, "application/json"]),
    data=st.data(),
)
async def test_no_drawn_request_crashes_the_server(
    http: httpx.AsyncClient,
    scene: Scene,
    unexpected: pytest.LogCaptureFixture,
    who: str | None,
    method: str,
    accept: str,
    data: st.DataObject,
) -> None:
    # given
    request = data.draw(requests(SCHEMA, scene.pools), label="request")
    token = await scene.token(who)
    headers = {"accept": accept, **({"authorization": f"Bearer {token}"} if token else {})}
    unexpected.clear()
    # when
    if method == "GET":
        params = {"query": request.query, "variables": json.dumps(request.variables)}
        if request.operation_name:
            params["operationName"] = request.operation_name
        response = await http.get("/graphql", params=params, headers=headers)
    else:
        response = await http.post(
            "/graphql",
            content=json.dumps(request.body()),
            headers={"content-type": "application/json", **headers},
        )
    # then
    assert_answered(response, request)
    assert not errors_in(unexpected), errors_in(unexpected)


def runnable(payload: dict[str, Any]) -> bool:
    """The query parses and has the operation the payload names (or a single one)."""
    try:
        document = parse(payload["query"])
    except GraphQLError:
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    name = payload.get("operationName")
    if name is None:
        return len(operations) == 1
    return any(d.name and d.name.value == name for d in operations)


ODD_JSON = st.one_of(
    st.none(), st.integers(), st.text(max_size=5), st.lists(st.integers(), max_size=2), st.just({})
)


@st.composite
def subscribe_messages(draw: Any, request: Request) -> dict[str, Any]:
    """The request as a subscribe message; now and then with one part of the wrong shape."""
    message: dict[str, Any] = {"id": "op", "type": "subscribe", "payload": request.body()}
    part = draw(st.sampled_from([None] * 6 + ["id", "payload", "query", "variables", "other"]))
    if part in ("id", "payload"):
        message[part] = draw(ODD_JSON)
    elif part is not None:
        key = draw(st.sampled_from(["operationName", "extensions"])) if part == "other" else part
        message["payload"][key] = draw(ODD_JSON)
    return message


async def replies_to(
    socket: ASGIWebSocket, message: dict[str, Any], request: Request
) -> list[dict[str, Any]]:
    """What the server sends for one operation, up to `complete` or `error`. A subscription
    that was accepted waits for events: after a moment of silence the client completes it."""
    await socket.send_json(message)
    replies: list[dict[str, Any]] = []
    while True:
        try:
            reply = await socket.receive_json(
                timeout=0.3 if request.operation == "subscription" else 10
            )
        except TimeoutError:
            assert request.operation == "subscription", replies
            await socket.send_json({"id": "op", "type": "complete"})
            return replies
        replies.append(reply)
        if reply["type"] in ("complete", "error"):
            return replies


@settings(
    max_examples=500 if LONG_RUN else 40,
    derandomize=not LONG_RUN,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate, Phase.shrink] if LONG_RUN else [Phase.generate],
    suppress_health_check=HEALTH_CHECKS_THAT_DO_NOT_APPLY,
)
@given(who=st.sampled_from([None, "client", "freelancer"]), data=st.data())
async def test_no_drawn_operation_crashes_a_websocket(
    app: Any,
    scene: Scene,
    unexpected: pytest.LogCaptureFixture,
    who: str | None,
    data: st.DataObject,
) -> None:
    # given
    request = data.draw(requests(SCHEMA, scene.pools), label="request")
    message = data.draw(subscribe_messages(request), label="message")
    token = await scene.token(who)
    unexpected.clear()
    async with ASGIWebSocket(app) as socket:
        await socket.initialise({"authorization": f"Bearer {token}"} if token else {})
        # when
        try:
            replies = await replies_to(socket, message, request)
        except Closed as closed:
            # graphql-transport-ws as Strawberry (and the reference server) speak it: a message
            # of the wrong shape, a document that does not parse or names no operation to run
            # is an invalid message.
            assert closed.code == 4400, closed.code
            assert malformed(message) or not runnable(message["payload"])
            return
        # then: every reply is a protocol message, nothing crashed, and the socket still serves
        note(repr(replies)[:2000])
        for reply in replies:
            assert reply["type"] in ("next", "error", "complete"), reply
            payload = reply.get("payload")
            errors = payload if reply["type"] == "error" else (payload or {}).get("errors")
            assert not crashes_in({"errors": errors}), reply
        await socket.send_json(
            {"id": "after", "type": "subscribe", "payload": {"query": "{ __typename }"}}
        )
        assert (await socket.receive_json())["payload"] == {"data": {"__typename": "Query"}}
    assert not errors_in(unexpected), errors_in(unexpected)
