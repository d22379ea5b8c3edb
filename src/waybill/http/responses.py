"""JSON responses the way GitHub sends them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Response

JSON_MEDIA_TYPE = "application/json; charset=utf-8"
DOCS_URL = "https://docs.github.com/rest"

_encoder = msgspec.json.Encoder()


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response[bytes]:
    return Response(
        content=_encoder.encode(data),
        status_code=status,
        media_type=JSON_MEDIA_TYPE,
        headers=dict(headers or {}),
    )


def no_content(status: int = 204) -> Response[bytes]:
    return Response(content=b"", status_code=status)


def error_body(message: str, status: int, **extra: Any) -> dict[str, Any]:
    return {"message": message, "documentation_url": DOCS_URL, "status": str(status), **extra}
