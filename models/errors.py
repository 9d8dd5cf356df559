"""Business failures. Actions raise these; the API turns them into `userErrors` at one boundary."""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum


class ErrorCode(str, Enum):
    VALIDATION = "VALIDATION"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    INVALID_STATE = "INVALID_STATE"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    INSUFFICIENT_CONNECTS = "INSUFFICIENT_CONNECTS"
    RATE_LIMITED = "RATE_LIMITED"
    TOO_MANY_FILES = "TOO_MANY_FILES"
    FILE_TOO_LARGE = "FILE_TOO_LARGE"
    UNSUPPORTED_FILE_TYPE = "UNSUPPORTED_FILE_TYPE"


class DomainError(Exception):
    code: ErrorCode = ErrorCode.VALIDATION

    def __init__(
        self, message: str, *, field: Sequence[str] | None = None, code: ErrorCode | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = list(field) if field is not None else None
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    code = ErrorCode.VALIDATION


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND

    def __init__(self, what: str = "object", *, field: Sequence[str] | None = None) -> None:
        super().__init__(f"{what} not found", field=field)


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class AlreadyExists(DomainError):
    code = ErrorCode.ALREADY_EXISTS


class InvalidState(DomainError):
    code = ErrorCode.INVALID_STATE


class RateLimited(DomainError):
    code = ErrorCode.RATE_LIMITED
