"""Domain errors. They carry no HTTP status: ``waybill.http.errors`` and the CLI map them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class DomainError(Exception):
    message: str = "Error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class NotFound(DomainError):
    message = "Not Found"


class Unauthenticated(DomainError):
    message = "Requires authentication"


class Forbidden(DomainError):
    message = "Forbidden"


class BadRequest(DomainError):
    message = "Bad Request"


class Conflict(DomainError):
    message = "Conflict"


class PayloadTooLarge(DomainError):
    message = "Payload Too Large"


class TooManyRequests(DomainError):
    message = "Too Many Requests"


@dataclass(frozen=True)
class FieldError:
    """One entry of GitHub's ``validation-error.errors``."""

    resource: str
    field: str
    code: str
    message: str | None = None
    value: Any = None
    index: int | None = None


class ValidationFailed(DomainError):
    message = "Validation Failed"

    def __init__(self, errors: list[FieldError], message: str | None = None) -> None:
        super().__init__(message)
        self.errors = errors

    @classmethod
    def one(cls, resource: str, field: str, code: str, message: str, value: Any = None) -> ValidationFailed:
        return cls([FieldError(resource, field, code, message, value)])


class SimpleValidationFailed(ValidationFailed):
    """GitHub's ``validation-error-simple`` (some query-only endpoints): ``errors`` are plain messages."""
