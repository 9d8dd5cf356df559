"""How to load a Node of each type name, for `node(id:)` and for fields that point at any
Node (a notification's subject). Filled by schema/nodes.py; this module imports no types, so a
type may resolve nodes without importing every other type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from resolvers.context import Info
from resolvers.ids import parse_global_id

Loader = Callable[[Info, UUID], Awaitable[Any]]

NODE_LOADERS: dict[str, Loader] = {}


def register_node(type_name: str, loader: Loader) -> None:
    NODE_LOADERS[type_name] = loader


async def resolve_node(info: Info, global_id: str) -> Any:
    """The Node behind a global ID, as the viewer may see it, or None."""
    parsed = parse_global_id(global_id)
    if parsed is None or parsed[0] not in NODE_LOADERS:
        return None
    type_name, pk = parsed
    return await NODE_LOADERS[type_name](info, pk)
