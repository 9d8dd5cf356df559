"""Every answer leaves as JSON: a value the encoder refuses becomes a masked error, not a crash.

orjson refuses integers beyond 64 bits, strings with lone surrogates and non-string keys, and
its `default=` hook is not consulted for them. Such a value in an answer is a bug (GraphQL's Int
is 32-bit, and JSON input cannot carry a lone surrogate), so it is logged with the request id
like any crash, and the client gets the same "Internal server error" with that id, in the shape
of the message it was waiting for: an HTTP response body, a graphql-transport-ws `next` or
`error` message, or a chunk of an HTTP stream. The encoder's speed is untouched until it fails.
"""

from __future__ import annotations

from typing import Any

import orjson
from graphql import GraphQLError

from schema.limits import masked


def dumps(message: object) -> bytes:
    """The message as JSON bytes (an HTTP body)."""
    try:
        return orjson.dumps(message)
    except orjson.JSONEncodeError as error:
        return orjson.dumps(_masked_message(message, error))


def encode_json(message: object) -> str:
    """The message as JSON text (a str: websocket messages must be text frames)."""
    return dumps(message).decode()


def _masked_message(message: object, error: Exception) -> object:
    report = masked(
        GraphQLError("Unencodable answer", original_error=error), where="encoding the answer"
    )
    errors = [report.formatted]
    if isinstance(message, list):  # a batch of results
        return [_masked_result(item, errors) for item in message]
    if not isinstance(message, dict):
        return {"errors": errors}
    if "payload" in message:  # a socket message or an HTTP stream chunk
        # Its other keys are ours ("type") or the client's operation id, decoded from JSON.
        envelope = {key: message[key] for key in ("id", "type") if key in message}
        payload = message["payload"]
        # graphql-transport-ws `error` carries a list of errors; `next` a result.
        envelope["payload"] = (
            errors if isinstance(payload, list) else _masked_result(payload, errors)
        )
        return envelope
    return _masked_result(message, errors)


def _masked_result(result: object, errors: list[Any]) -> dict[str, Any]:
    # A result that had `data` keeps the key (as null): it was executed, the client must not
    # read the answer as a request error.
    if isinstance(result, dict) and "data" in result:
        return {"data": None, "errors": errors}
    return {"errors": errors}
