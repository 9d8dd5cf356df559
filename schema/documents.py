"""Parsed documents shared by the requests and subscriptions that send the same text."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

# Frontends send a small set of fixed documents; thousands of sockets subscribed with the same
# one then hold a single syntax tree (with its token list) instead of one each. Long texts are
# never kept, so that unique large queries cannot fill memory.
MAX_CACHED_QUERY_CHARS = 8_000
MAX_CACHED_DOCUMENTS = 256

_documents: OrderedDict[tuple[str, tuple[tuple[str, Any], ...]], DocumentNode] = OrderedDict()


class SharedDocuments(SchemaExtension):
    """Serves a document parsed before; Strawberry parses (and reports syntax errors) otherwise.

    Unlike Strawberry's ParserCache, parsing itself stays Strawberry's, so a syntax error is
    still reported as one, and the parse options (the token limit) are part of the key.
    """

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query
        key = None
        if query is not None and len(query) <= MAX_CACHED_QUERY_CHARS \
                and context.graphql_document is None:
            key = (query, tuple(sorted(context.parse_options.items())))
            document = _documents.get(key)
            if document is not None:
                _documents.move_to_end(key)
                context.graphql_document = document
                key = None
        yield
        if key is not None and context.graphql_document is not None:
            _documents[key] = context.graphql_document
            if len(_documents) > MAX_CACHED_DOCUMENTS:
                _documents.popitem(last=False)
