"""The one place where errors become GitHub error bodies (``basic-error``, ``validation-error``).

The layer above may render some requests' errors its own way (the web pages answer HTML): it passes a
``PageErrors`` to ``exception_handlers``, so this layer never imports it."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException
from litestar.types import ExceptionHandlersMap

from waybill.core.db import fault_line, is_connection_lost, is_storage_full, is_unavailable
from waybill.core.errors import (
    BadRequest,
    Conflict,
    DomainError,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    SimpleValidationFailed,
    TooManyRequests,
    Unauthenticated,
    ValidationFailed,
)
from waybill.http.responses import error_body, json_response

log = logging.getLogger("waybill.http")

# Set in a request's state when it should be run once more (``conventions.once_more_if_asked``): a
# read-only request whose database connection was lost. What it answered first is never sent.
RUN_AGAIN = "waybill_run_again"
RAN_AGAIN = "waybill_ran_again"
READ_ONLY_METHODS = frozenset({"GET", "HEAD"})

# Given a request, a status and a message: the response for that request, or None for the JSON body.
PageErrors = Callable[[Request[Any, Any, Any], int, str], Response[bytes] | None]

STATUS = {
    NotFound: 404,
    Unauthenticated: 401,
    Forbidden: 403,
    BadRequest: 400,
    Conflict: 409,
    PayloadTooLarge: 413,
    TooManyRequests: 429,
    ValidationFailed: 422,
}

_HTTP_MESSAGES = {
    400: "Bad Request",
    404: "Not Found",
    405: "Not Found",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
}


def status_of(error: DomainError) -> int:
    for cls in type(error).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def _field_error(error: FieldError) -> dict[str, Any]:
    body: dict[str, Any] = {"resource": error.resource, "field": error.field, "code": error.code}
    if error.message is not None:
        body["message"] = error.message
    if error.value is not None:
        body["value"] = error.value
    if error.index is not None:
        body["index"] = error.index
    return body


def domain_error_response(error: DomainError) -> Response[bytes]:
    status = status_of(error)
    if isinstance(error, SimpleValidationFailed):
        body = error_body(error.message, status, errors=[e.message or e.field for e in error.errors])
    elif isinstance(error, ValidationFailed):
        body = error_body(error.message, status, errors=[_field_error(e) for e in error.errors])
    else:
        body = error_body(error.message, status)
    return json_response(body, status)


def exception_handlers(pages: PageErrors) -> ExceptionHandlersMap:
    def json_or_page(request: Request[Any, Any, Any], status: int, message: str) -> Response[bytes]:
        return pages(request, status, message) or json_response(error_body(message, status), status)

    def domain(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        assert isinstance(exc, DomainError)
        return pages(request, status_of(exc), exc.message) or domain_error_response(exc)

    def http(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        assert isinstance(exc, HTTPException)
        status = exc.status_code
        if status == 405 or isinstance(exc, NotFoundException):
            # GitHub answers an unknown route and a known route with the wrong method alike.
            status = 404
        if status >= 500:
            log.error("HTTP %s: %s", status, exc.detail)
            message = "Server Error"
        else:
            message = _HTTP_MESSAGES.get(status, exc.detail)
        return json_or_page(request, status, message)

    def unavailable(
        request: Request[Any, Any, Any],
        exc: Exception,
        status: int = 503,
        problem: str = "database unavailable",
    ) -> Response[bytes]:
        """An expected fault (the database is out of connections or lost one, is locked by another
        process, or its disk is full): one line, no traceback."""
        state = request.scope.setdefault("state", {})
        request_id = state.get("request_id", "-")
        if request.method in READ_ONLY_METHODS and not state.get(RAN_AGAIN) and is_connection_lost(exc):
            # It wrote nothing: run it again, on a fresh connection (the lost one's pool was renewed).
            state[RUN_AGAIN] = True
            log.info(
                "request %s %s %s: connection lost, running it again",
                request_id,
                request.method,
                request.url.path,
            )
            return json_or_page(request, 503, "Service Unavailable")
        log.warning(
            "request %s %s %s: %s (%s)",
            request_id,
            request.method,
            request.url.path,
            problem,
            fault_line(exc),
        )
        response = json_or_page(
            request, status, "Service Unavailable" if status == 503 else "Insufficient Storage"
        )
        retry_after = max(1, math.ceil(request.app.state.settings.database_pool_timeout))
        response.headers["Retry-After"] = str(retry_after)
        return response

    def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
        if is_storage_full(exc):
            return unavailable(request, exc, 507, "database storage full")
        if is_unavailable(exc):
            return unavailable(request, exc)
        log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return json_or_page(request, 500, "Server Error")

    return {DomainError: domain, HTTPException: http, Exception: unexpected}
