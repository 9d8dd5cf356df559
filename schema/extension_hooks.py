"""Strawberry's extension runner, with each extension class's hooks wrapped once.

For every request and every stage (operation, parsing, validation, execution) Strawberry
looks up each extension's hook, inspects whether it is a generator, and wraps it in a fresh
context-manager function (functools.wraps included): a few percent of a small mutation's
server CPU. The wrapping depends on the class only, so it is made once per class and hook and
kept on the class; each request still gets its own context manager, entered and left by
Strawberry's code as before. Hooks of another form (plain functions) take Strawberry's way.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner

_CACHE = "_marketplace_wrapped_hooks"
# Not a generator or async generator: Strawberry wraps it itself.
_STRAWBERRYS = object()


def _wrapped(cls: type[SchemaExtension], name: str) -> Any:
    """(context manager factory, is_async), None without a hook, or _STRAWBERRYS."""
    cache: dict[str, Any] | None = cls.__dict__.get(_CACHE)
    if cache is None:
        cache = {}
        setattr(cls, _CACHE, cache)  # on this class itself, never inherited
    if name not in cache:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            cache[name] = None
        elif inspect.isgeneratorfunction(hook):
            cache[name] = (contextlib.contextmanager(hook), False)
        elif inspect.isasyncgenfunction(hook):
            cache[name] = (contextlib.asynccontextmanager(hook), True)
        else:
            cache[name] = _STRAWBERRYS
    return cache[name]


class _CachedHooks:
    HOOK_NAME: str

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        found = _wrapped(type(extension), self.HOOK_NAME)
        if found is None:
            return None
        if found is _STRAWBERRYS:
            hook: WrappedHook | None = super().get_hook(extension)  # type: ignore[misc]
            return hook
        factory, is_async = found
        return WrappedHook(
            extension=extension, hook=functools.partial(factory, extension), is_async=is_async
        )


class _Operation(_CachedHooks, OperationContextManager):
    pass


class _Validation(_CachedHooks, ValidationContextManager):
    pass


class _Parsing(_CachedHooks, ParsingContextManager):
    pass


class _Executing(_CachedHooks, ExecutingContextManager):
    pass


class ExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)


__all__ = ["ExtensionsRunner"]
