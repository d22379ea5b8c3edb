"""Errors on ``/ui/`` answer HTML pages: the ``PageErrors`` the application gives ``waybill.http.errors``."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response

from waybill.web.render import page

PREFIX = "/ui"

_TITLES = {
    400: "Bad request",
    401: "Sign-in required",
    403: "Forbidden",
    404: "Not found",
    409: "Conflict",
    413: "Too large",
    422: "Invalid request",
    500: "Server error",
}


def is_page(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return path == PREFIX or path.startswith(PREFIX + "/")


def error_page(status: int, message: str) -> Response[bytes]:
    title = _TITLES.get(status, "Error")
    context = {"title": title, "message": message, "status": status, "viewer": None}
    return page("error.html", context, status=status)


def page_for(request: Request[Any, Any, Any], status: int, message: str) -> Response[bytes] | None:
    return error_page(status, message) if is_page(request) else None
