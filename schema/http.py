"""GraphQL over HTTP as the spec draft has it, and the websocket handshake's authentication.

Beyond stock Strawberry:
- `application/graphql-response+json` when the client accepts it, with 4xx and no `data` for
  request errors (unparsable or invalid documents, variables that do not coerce);
  `application/json` (legacy clients) keeps 200 for every well-formed request.
- A mutation over GET is 405 with `Allow: POST`. Requests refused before any document runs
  (no query, an unknown operation name, a body that is not JSON) are 400 with a GraphQL error
  of code BAD_REQUEST.
- Bodies are decoded by orjson: invalid UTF-8 or absurd nesting is a 400 (a websocket 4400),
  never a 500. Answers are encoded by orjson too; one it refuses is a masked error, never a 500.
- Automatic persisted queries over POST and GET (schema/persisted.py); `Cache-Control` lets
  HTTP caches keep a GET query's answer only when it was asked without a token and is about
  no viewer, and is `no-store` on everything else.
- File uploads by the GraphQL multipart request spec, streamed to storage (schema/uploads.py);
  files no action placed are deleted once the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import timedelta
from types import NoneType
from typing import Any, cast

import orjson
from cross_web import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from auth.backend import authenticate, token_from_connection_params
from auth.crypto.tokens import bearer_token
from models.attachments.storage import Storage
from resolvers.context import Context
from schema.encoding import dumps, encode_json
from schema.fanout import Fanout
from schema.persisted import (
    NO_STORE,
    NOT_FOUND,
    PersistedQueries,
    PersistedQueryError,
    cacheable,
    resolve_persisted_query,
)
from schema.requestlog import request_id_var
from schema.transport_ws import FanoutTransportWSHandler
from schema.uploads import UploadLimits, UploadRequestAdapter, discard_uploads

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
LEGACY_JSON = "application/json"


def _accepts(accept_header: str) -> str | None:
    """The media type to answer with, by the client's Accept header (None: nothing we speak)."""
    if not accept_header.strip():
        return LEGACY_JSON
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_header.split(",")):
        media_type, *params = [piece.strip() for piece in part.split(";")]
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranked.append((-quality, position, media_type.lower()))
    for _, _, media_type in sorted(ranked):
        if media_type == GRAPHQL_RESPONSE_JSON:
            return GRAPHQL_RESPONSE_JSON
        if media_type in (LEGACY_JSON, "application/*", "*/*"):
            return LEGACY_JSON
    return None


def _media_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_request_error(result: ExecutionResult) -> bool:
    """No execution happened: the document or the variables were refused."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


class MutationOverGet(Exception):
    pass


def _refusal(request: Request, error: HTTPException) -> Response:
    """A request Strawberry refuses before running anything: no query, no operation of that
    name, a body that is not JSON. A 400 is still a GraphQL response (errors with a code), in
    the media type asked for, so clients read its reason where they read every other error."""
    media_type = _accepts(request.headers.get("accept", ""))
    if error.status_code != 400 or media_type is None:
        return PlainTextResponse(error.reason, status_code=error.status_code)
    body = {"errors": [{"message": error.reason, "extensions": {"code": "BAD_REQUEST"}}]}
    return Response(
        dumps(body),
        status_code=400,
        media_type=f"{media_type}; charset=utf-8"
        if media_type == GRAPHQL_RESPONSE_JSON
        else media_type,
    )


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Every graphql-transport-ws message is a JSON object. Strawberry indexes any other JSON
    value (`[]`, `42`, `"x"`) as one, crashes and drops the socket without a close frame;
    here it is an invalid message, closed with 4400 like unparsable JSON."""

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
            if isinstance(message, dict):
                yield message
            elif not ignore_parsing_errors:
                raise NonJsonMessageReceived


class GraphQLView(GraphQL[Context, None]):
    websocket_adapter_class = WebSocketAdapter
    graphql_transport_ws_handler_class = FanoutTransportWSHandler

    def __init__(
        self,
        schema: Any,
        *,
        allowed_origins: list[str],
        init_timeout: float,
        max_subscriptions: int,
        persisted_queries: PersistedQueries,
        cache_max_age_seconds: int,
        storage: Storage,
        upload_limits: UploadLimits,
    ) -> None:
        self.persisted_queries = persisted_queries
        self.cache_max_age_seconds = cache_max_age_seconds
        super().__init__(
            schema,
            graphql_ide="graphiql",
            subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL,),
            connection_init_wait_timeout=timedelta(seconds=init_timeout),
            max_subscriptions_per_connection=max_subscriptions,
            allowed_origins=allowed_origins,
            multipart_uploads_enabled=True,
        )
        self.request_adapter_class = UploadRequestAdapter.for_uploads(storage, upload_limits)
        self.fanout = Fanout(schema)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            try:
                response = await self._answer(request)
            except MutationOverGet:
                response = PlainTextResponse(
                    "Mutations must be sent with POST", status_code=405, headers={"Allow": "POST"}
                )
            except HTTPException as error:
                response = _refusal(request, error)
            except PersistedQueryError as error:
                # Not found is a step of the protocol (the client sends the text next), never a
                # 4xx: Apollo's link turns APQ off for good on a 400. A bad hash is the client's.
                refused = error.code != NOT_FOUND and (
                    _accepts(request.headers.get("accept", "")) == GRAPHQL_RESPONSE_JSON
                )
                response = Response(
                    dumps(error.body()),
                    status_code=400 if refused else 200,
                    media_type=LEGACY_JSON,
                )
            response.headers.setdefault("cache-control", NO_STORE)
            # The operation ran: what it did not place is gone before the client hears back.
            await discard_uploads(request)
            await response(scope, receive, send)
        finally:
            await discard_uploads(request)

    async def _answer(self, request: Request) -> Response:
        operation = await self._plain_json_operation(request)
        if operation is None:
            return await self.run(request)
        # Strawberry's run, less what cannot apply to one operation POSTed as JSON: the IDE,
        # batches, multipart, and the checks for streamed results, one of which is isinstance
        # against a runtime-checkable Protocol (inspect.getattr_static on every request), and
        # Strawberry's content-type parsing by the email package. Callgrind: 8.6 % fewer
        # instructions per search request. tests/resolvers/test_http_lane.py compares the two,
        # answer for answer. The root value is None, as this view's type says.
        request_adapter = self.request_adapter_class(request)
        sub_response = await self.get_sub_response(request)
        context = await self.get_context(request, response=sub_response)
        result = await self.execute_operation(
            request, request_adapter, operation, context, None, sub_response
        )
        response_data = await self.process_result(request, result)
        if result.errors:
            self._handle_errors(result.errors, response_data)
        return self.create_response(response_data, sub_response)

    async def _plain_json_operation(self, request: Request) -> GraphQLRequestData | None:
        """The operation of a POST of one operation as JSON, well formed; None for anything
        else, which Strawberry's run answers or refuses in its own order and words."""
        if (
            request.method != "POST"
            or _media_type(request.headers.get("content-type", "")) != LEGACY_JSON
            or self._stream_transport_map
            or self.schema.config.enable_experimental_incremental_execution
        ):
            return None
        try:
            data = self.decode_json(await request.body())
        except ValueError:
            return None
        if not (
            isinstance(data, dict)
            and isinstance(query := data.get("query"), (str, NoneType))
            and isinstance(variables := data.get("variables"), (dict, NoneType))
            and isinstance(extensions := data.get("extensions"), (dict, NoneType))
        ):
            return None
        return GraphQLRequestData(
            query=query,
            variables=variables,
            operation_name=data.get("operationName"),
            extensions=extensions,
        )

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET by persisted-query hash has no `query` either, and Apollo clients accept */*.
        return (
            super().should_render_graphql_ide(request)
            and request.query_params.get("extensions") is None
        )

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        parsed = super().parse_json(data)
        # A POST body (bytes; GET's `variables` arrive as str and Strawberry checks them) must
        # be an object, or a list for batches: Strawberry reads `"x"`, `42` or `null` as an
        # object and crashes with a 500.
        if isinstance(data, bytes) and not isinstance(parsed, (dict, list)):
            raise HTTPException(400, "The request body must be a JSON object")
        return parsed

    def encode_json(self, data: object) -> str:
        # HTTP bodies, socket messages and stream chunks alike (see schema.encoding).
        return encode_json(data)

    async def execute_operation(
        self,
        request: Request,
        request_adapter: Any,
        request_data: GraphQLRequestData | list[GraphQLRequestData],
        context: Context,
        root_value: Any,
        sub_response: Response,
    ) -> Any:
        batch = request_data if isinstance(request_data, list) else [request_data]
        for item in batch:
            await resolve_persisted_query(self.persisted_queries, item)
        try:
            result = await super().execute_operation(
                request, request_adapter, request_data, context, root_value, sub_response
            )
        except HTTPException as error:
            if isinstance(error.__cause__, InvalidOperationTypeError):
                raise MutationOverGet from error
            raise
        if isinstance(result, ExecutionResult) and isinstance(request_data, GraphQLRequestData):
            # The answer is about who asks (or is the request's fault): the two headers a cache
            # varies on are named even where it may not keep it, for caches that key loosely.
            sub_response.headers["vary"] = "Accept, Authorization"
            if cacheable(
                method=request.method,
                authorization=request.headers.get("authorization"),
                query=request_data.query,
                operation_name=request_data.operation_name,
                succeeded=result.data is not None and not result.errors,
            ):
                sub_response.headers["cache-control"] = (
                    f"public, max-age={self.cache_max_age_seconds}"
                )
        return result

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        client = request.client
        context = Context(
            request=request,
            response=response,
            request_id=request_id_var.get(),
            client_address=client.host if client else "unknown",
        )
        if isinstance(request, Request):
            media_type = _accepts(request.headers.get("accept", ""))
            if media_type is None and not self.should_render_graphql_ide(
                self.request_adapter_class(request)
            ):
                raise HTTPException(406, f"Accept {GRAPHQL_RESPONSE_JSON} or {LEGACY_JSON}")
            response.media_type = media_type or LEGACY_JSON
            context.token = bearer_token(request.headers.get("authorization"))
            context.user = await authenticate(context.token)
        return context

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        token = token_from_connection_params(context.connection_params)
        user = await authenticate(token)
        if token is not None and user is None:
            # A token that was sent but is unknown, expired or revoked: refuse the socket (4403).
            raise ConnectionRejectionError({"reason": "invalid token"})
        context.token, context.user = token, user
        # No payload in connection_ack. UNSET is typed Any so it can default fields of any type.
        return cast(UnsetType, UNSET)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {}
        if not is_request_error(result):
            response["data"] = result.data
        else:
            sub_response = request.state.sub_response
            if sub_response.media_type == GRAPHQL_RESPONSE_JSON:
                sub_response.status_code = 400
        if result.errors:
            response["errors"] = [error.formatted for error in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        request.state.sub_response = sub_response
        return sub_response

    def create_response(self, response_data: Any, sub_response: Response) -> Response:
        # Bytes straight from orjson: encode_json's str (for websocket text frames) would be
        # decoded here only to be encoded again.
        response = Response(dumps(response_data), status_code=200)
        response.headers.raw.extend(
            (name, value) for name, value in sub_response.headers.raw if name != b"content-length"
        )
        if sub_response.background:
            response.background = sub_response.background
        if sub_response.status_code:
            response.status_code = sub_response.status_code
        media_type = sub_response.media_type or LEGACY_JSON
        response.headers["content-type"] = (
            f"{media_type}; charset=utf-8" if media_type == GRAPHQL_RESPONSE_JSON else media_type
        )
        return response
