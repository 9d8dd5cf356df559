"""Strawberry's extension runner, with each stage's hooks driven directly.

For every request and every stage (operation, parsing, validation, execution) Strawberry looks
up each extension's hook, inspects whether it is a generator, wraps it in a fresh
context-manager function (functools.wraps included), and enters the result through a new
ExitStack: with two extensions, about a tenth of a small query's server CPU. Here the kind of
each hook is found once per class and kept on the class, and a stage runs generator hooks
itself: started in order, finished in reverse order, an exception thrown into each as an
ExitStack of context managers would (a hook may suppress it or raise another). Hooks of another
form (plain functions) take Strawberry's wrapping. As with Strawberry's stages, the exception
always goes on past the stage; unlike them, a hook that fails to start still lets the hooks
started before it finish.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncGenerator, Generator
from types import TracebackType
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import ExtensionContextManagerBase
from strawberry.extensions.runner import SchemaExtensionsRunner

_CACHE = "_marketplace_hook_kinds"
# What a stage does with a hook: nothing, drive a generator, drive an async generator, or enter
# Strawberry's context manager around a plain function.
_NONE, _GENERATOR, _ASYNC_GENERATOR, _PLAIN = range(4)


def _kind(cls: type[SchemaExtension], name: str) -> int:
    kinds: dict[str, int] | None = cls.__dict__.get(_CACHE)
    if kinds is None:
        kinds = {}
        setattr(cls, _CACHE, kinds)  # on this class itself, never inherited
    if name not in kinds:
        hook = getattr(cls, name)
        if hook is getattr(SchemaExtension, name):
            kinds[name] = _NONE
        elif inspect.isgeneratorfunction(hook):
            kinds[name] = _GENERATOR
        elif inspect.isasyncgenfunction(hook):
            kinds[name] = _ASYNC_GENERATOR
        else:
            kinds[name] = _PLAIN
    return kinds[name]


def _finish(generator: Generator[None, None, None], error: BaseException | None) -> bool:
    """Runs a generator hook past its yield; True when it suppressed `error`."""
    if error is None:
        try:
            next(generator)
        except StopIteration:
            return False
        raise RuntimeError("an extension hook did not stop after its yield")
    try:
        generator.throw(error)
    except StopIteration as stop:
        return stop is not error
    except BaseException as raised:
        if raised is error:
            return False
        raise
    raise RuntimeError("an extension hook did not stop after an exception was thrown in")


async def _finish_async(generator: AsyncGenerator[None, None], error: BaseException | None) -> bool:
    if error is None:
        try:
            await generator.__anext__()
        except StopAsyncIteration:
            return False
        raise RuntimeError("an extension hook did not stop after its yield")
    try:
        await generator.athrow(error)
    except StopAsyncIteration as stop:
        return stop is not error
    except BaseException as raised:
        if raised is error:
            return False
        raise
    raise RuntimeError("an extension hook did not stop after an exception was thrown in")


# What a started hook is: a generator or async generator driven here, or Strawberry's context
# manager (sync or async) around a plain function.
_CONTEXT, _ASYNC_CONTEXT = 4, 5


class _Stage:
    """One stage of every extension: `with` or `async with`, as Strawberry's are."""

    __slots__ = ("extensions", "started")

    HOOK_NAME: str

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.extensions = extensions
        self.started: list[tuple[int, Any]] = []

    def _hooks(self) -> Generator[tuple[int, Any], None, None]:
        name = self.HOOK_NAME
        for extension in self.extensions:
            kind = _kind(type(extension), name)
            if kind == _PLAIN:
                wrapped = ExtensionContextManagerBase.from_callable(
                    extension, getattr(type(extension), name)
                )
                yield (_ASYNC_CONTEXT if wrapped.is_async else _CONTEXT), wrapped.hook()
            elif kind != _NONE:
                yield kind, getattr(extension, name)()

    @staticmethod
    def _start(kind: int, hook: Any) -> None:
        if kind == _GENERATOR:
            next(hook)
        else:
            hook.__enter__()

    @staticmethod
    def _finish(kind: int, hook: Any, error: BaseException | None) -> bool:
        if kind == _GENERATOR:
            return _finish(hook, error)
        if error is None:
            return bool(hook.__exit__(None, None, None))
        return bool(hook.__exit__(type(error), error, error.__traceback__))

    def __enter__(self) -> None:
        for kind, hook in self._hooks():
            try:
                if kind in (_ASYNC_GENERATOR, _ASYNC_CONTEXT):
                    raise RuntimeError(
                        f"SchemaExtension hook {self.HOOK_NAME} failed to complete synchronously."
                    )
                self._start(kind, hook)
            except BaseException as error:
                self._leave(error)
                raise
            self.started.append((kind, hook))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Never suppresses, as Strawberry's stages (which drop their ExitStack's verdict): a
        # hook that swallows the exception hides it from the hooks before it, no further.
        self._leave(error)

    def _leave(self, error: BaseException | None) -> None:
        """Finishes the started hooks, last first; raises what a hook raised instead."""
        pending = error
        while self.started:
            kind, hook = self.started.pop()
            try:
                if self._finish(kind, hook, pending):
                    pending = None
            except BaseException as raised:  # noqa: BLE001 - passed on, as an ExitStack does
                pending = raised
        if pending is not None and pending is not error:
            raise pending

    async def __aenter__(self) -> None:
        for kind, hook in self._hooks():
            try:
                if kind == _ASYNC_GENERATOR:
                    await hook.__anext__()
                elif kind == _ASYNC_CONTEXT:
                    await hook.__aenter__()
                else:
                    self._start(kind, hook)
            except BaseException as error:
                await self._leave_async(error)
                raise
            self.started.append((kind, hook))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self._leave_async(error)

    async def _leave_async(self, error: BaseException | None) -> None:
        pending = error
        while self.started:
            kind, hook = self.started.pop()
            try:
                if kind == _ASYNC_GENERATOR:
                    finished = await _finish_async(hook, pending)
                elif kind == _ASYNC_CONTEXT:
                    finished = bool(
                        await hook.__aexit__(
                            None if pending is None else type(pending),
                            pending,
                            None if pending is None else pending.__traceback__,
                        )
                    )
                else:
                    finished = self._finish(kind, hook, pending)
                if finished:
                    pending = None
            except BaseException as raised:  # noqa: BLE001 - passed on, as an ExitStack does
                pending = raised
        if pending is not None and pending is not error:
            raise pending


class _Operation(_Stage):
    HOOK_NAME = SchemaExtension.on_operation.__name__


class _Validation(_Stage):
    HOOK_NAME = SchemaExtension.on_validate.__name__


class _Parsing(_Stage):
    HOOK_NAME = SchemaExtension.on_parse.__name__


class _Executing(_Stage):
    HOOK_NAME = SchemaExtension.on_execute.__name__


class ExtensionsRunner(SchemaExtensionsRunner):
    def operation(self) -> Any:
        return _Operation(self.extensions)

    def validation(self) -> Any:
        return _Validation(self.extensions)

    def parsing(self) -> Any:
        return _Parsing(self.extensions)

    def executing(self) -> Any:
        return _Executing(self.extensions)


__all__ = ["ExtensionsRunner"]
