"""Automatic persisted queries (Apollo's APQ protocol) and which answers HTTP caches may keep.

A client sends `extensions.persistedQuery = {"version": 1, "sha256Hash": h}`:
- with no `query`: the text registered under `h` runs; unknown, the answer is the error
  `PersistedQueryNotFound` (`extensions.code = PERSISTED_QUERY_NOT_FOUND`), and the client
  retries with the text;
- with `query`: `h` must be the SHA-256 of the text (else PERSISTED_QUERY_HASH_MISMATCH); the
  text is registered and runs.
Over GET the URL then holds a hash instead of the document, which is what lets HTTP caches keep
the answers (see `cache_control`).

Registered texts live in Redis when the broadcast backend is Redis, so every server process
shares them (a text registered through one process is found by the next request on another),
else in this process's memory; both are bounded (entries, size of a text, and a TTL in Redis).
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from functools import lru_cache
from typing import Any, Protocol

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    parse,
)
from strawberry.http import GraphQLRequestData

# A document larger than this is run but not kept: the client sends its text every time.
MAX_PERSISTED_QUERY_CHARS = 16_384
MAX_PERSISTED_QUERIES_IN_MEMORY = 1_000
REDIS_KEY_PREFIX = "marketplace:apq:"
REDIS_TTL_SECONDS = 7 * 24 * 3600
_SHA256 = re.compile(r"[0-9a-f]{64}")

NOT_FOUND = "PERSISTED_QUERY_NOT_FOUND"
HASH_MISMATCH = "PERSISTED_QUERY_HASH_MISMATCH"
INVALID = "PERSISTED_QUERY_INVALID"


class PersistedQueryError(Exception):
    """The request cannot run as sent; answered with a GraphQL error and this code."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    def body(self) -> dict[str, Any]:
        return {"errors": [{"message": self.message, "extensions": {"code": self.code}}]}


class PersistedQueries(Protocol):
    async def get(self, sha256: str) -> str | None: ...

    async def put(self, sha256: str, query: str) -> None: ...

    async def close(self) -> None: ...


class MemoryPersistedQueries:
    """The most recently used texts of this process."""

    def __init__(self, max_entries: int = MAX_PERSISTED_QUERIES_IN_MEMORY) -> None:
        self.max_entries = max_entries
        self._texts: OrderedDict[str, str] = OrderedDict()

    async def get(self, sha256: str) -> str | None:
        text = self._texts.get(sha256)
        if text is not None:
            self._texts.move_to_end(sha256)
        return text

    async def put(self, sha256: str, query: str) -> None:
        self._texts[sha256] = query
        self._texts.move_to_end(sha256)
        while len(self._texts) > self.max_entries:
            self._texts.popitem(last=False)

    async def close(self) -> None:
        return None


class RedisPersistedQueries:
    """Shared by every process using the same Redis; each text expires unless registered again."""

    def __init__(self, url: str, ttl_seconds: int = REDIS_TTL_SECONDS) -> None:
        from redis.asyncio import Redis

        self.ttl_seconds = ttl_seconds
        self._redis: Redis = Redis.from_url(url, decode_responses=True)

    async def get(self, sha256: str) -> str | None:
        text = await self._redis.get(REDIS_KEY_PREFIX + sha256)
        return text if isinstance(text, str) else None

    async def put(self, sha256: str, query: str) -> None:
        await self._redis.set(REDIS_KEY_PREFIX + sha256, query, ex=self.ttl_seconds)

    async def close(self) -> None:
        await self._redis.aclose()


def create_persisted_queries(broadcast_url: str) -> PersistedQueries:
    if broadcast_url.startswith(("redis://", "rediss://")):
        return RedisPersistedQueries(broadcast_url)
    return MemoryPersistedQueries()


def sha256_of(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


async def resolve_persisted_query(store: PersistedQueries, data: GraphQLRequestData) -> None:
    """Fills in `data.query` from the store, or registers the text sent with its hash."""
    extension = (data.extensions or {}).get("persistedQuery")
    if extension is None:
        return
    sha256 = extension.get("sha256Hash") if isinstance(extension, dict) else None
    if (
        not isinstance(extension, dict)
        or extension.get("version") != 1
        or not isinstance(sha256, str)
        or not _SHA256.fullmatch(sha256)
    ):
        raise PersistedQueryError(
            "persistedQuery must be {version: 1, sha256Hash: <64 lowercase hex digits>}", INVALID
        )
    if data.query is None:
        query = await store.get(sha256)
        if query is None:
            raise PersistedQueryError("PersistedQueryNotFound", NOT_FOUND)
        data.query = query
        return
    if sha256_of(data.query) != sha256:
        raise PersistedQueryError("provided sha does not match query", HASH_MISMATCH)
    if len(data.query) <= MAX_PERSISTED_QUERY_CHARS:
        await store.put(sha256, data.query)


# ------------------------------------------------------------------------- HTTP caching

# Fields whose answer is about the signed-in viewer. Anonymous, they are null or empty for
# everyone; but an app asking them is a signed-in app (perhaps between tokens), and a shared
# cache that keeps "signed out" answers would serve them back to it: never cacheable.
VIEWER_FIELDS = frozenset(
    {
        "viewer",
        "myProposal",
        "myReview",
        "canReview",
        "allowedActions",
        "email",
        "unreadCount",
        "unreadNotificationCount",
        "connectsBalance",
    }
)
NO_STORE = "no-store"


@lru_cache(maxsize=256)
def _shareable_document(query: str, operation_name: str | None) -> bool:
    """The operation is a query that selects nothing about the viewer (fragments followed)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [o for o in operations if o.name and o.name.value == operation_name]
    if len(operations) != 1 or operations[0].operation is not OperationType.QUERY:
        return False
    seen: set[str] = set()

    def about_viewer(selection_set: SelectionSetNode | None) -> bool:
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                if selection.name.value in VIEWER_FIELDS or about_viewer(selection.selection_set):
                    return True
            elif isinstance(selection, InlineFragmentNode):
                if about_viewer(selection.selection_set):
                    return True
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in seen and name in fragments:
                    seen.add(name)
                    if about_viewer(fragments[name].selection_set):
                        return True
        return False

    return not about_viewer(operations[0].selection_set)


def cacheable(
    *,
    method: str,
    authorization: str | None,
    query: str | None,
    operation_name: str | None,
    succeeded: bool,
) -> bool:
    """Whether HTTP caches may share this answer: a GET of a query, sent without a token, that
    ran without errors and selects nothing about the viewer. Everything else is `no-store`."""
    return (
        method == "GET"
        and not authorization
        and succeeded
        and query is not None
        and len(query) <= MAX_PERSISTED_QUERY_CHARS
        and _shareable_document(query, operation_name)
    )
