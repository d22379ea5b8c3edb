"""GitHub's two pagination styles: ``page``/``per_page`` and ``before``/``after`` cursors,
both answered with a ``Link`` header."""

from __future__ import annotations

import base64
import binascii
from urllib.parse import urlencode

from waybill.core.errors import ValidationFailed
from waybill.core.keyset import Cursor
from waybill.http.context import AnyRequest, api_base

MAX_PER_PAGE = 100
DEFAULT_PER_PAGE = 30


def per_page(request: AnyRequest, default: int = DEFAULT_PER_PAGE) -> int:
    raw = request.query_params.get("per_page")
    if raw is None or raw == "":
        return default
    value = _int(raw, "per_page")
    if value < 1:
        raise ValidationFailed.one("Query", "per_page", "invalid", "per_page must be at least 1", raw)
    # GitHub serves at most 100 items a page and silently caps larger requests.
    return min(value, MAX_PER_PAGE)


def page(request: AnyRequest) -> int:
    raw = request.query_params.get("page")
    if raw is None or raw == "":
        return 1
    value = _int(raw, "page")
    return max(value, 1)


def _int(raw: str, name: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ValidationFailed.one("Query", name, "invalid", f"{name} must be an integer", raw) from None


def encode_cursor(key: int) -> str:
    return base64.urlsafe_b64encode(f"c1:{key}".encode()).decode().rstrip("=")


def decode_cursor(raw: str, name: str) -> int:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        tag, _, key = text.partition(":")
        if tag != "c1":
            raise ValueError(text)
        return int(key)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed.one("Query", name, "invalid", f"{name} is not a valid cursor", raw) from None


def cursor(request: AnyRequest) -> Cursor:
    after = request.query_params.get("after") or None
    before = request.query_params.get("before") or None
    if after and before:
        raise ValidationFailed.one("Query", "before", "invalid", "use either before or after, not both")
    return Cursor(
        per_page=per_page(request),
        after=None if after is None else decode_cursor(after, "after"),
        before=None if before is None else decode_cursor(before, "before"),
    )


def link_header(request: AnyRequest, links: dict[str, dict[str, str]]) -> dict[str, str]:
    """``Link`` for ``{"next": {"after": "..."}, ...}``: each rel is this URL with those query values."""
    if not links:
        return {}
    base = api_base(request) + request.url.path
    params = {k: v for k, v in request.query_params.items() if k not in ("page", "before", "after")}
    parts = [f'<{base}?{urlencode({**params, **values})}>; rel="{rel}"' for rel, values in links.items()]
    return {"Link": ", ".join(parts)}


def cursor_links(request: AnyRequest, next_key: int | None, prev_key: int | None) -> dict[str, str]:
    links: dict[str, dict[str, str]] = {}
    if next_key is not None:
        links["next"] = {"after": encode_cursor(next_key)}
    if prev_key is not None:
        links["prev"] = {"before": encode_cursor(prev_key)}
    return link_header(request, links)


def page_links(request: AnyRequest, current: int, last: int) -> dict[str, str]:
    links: dict[str, dict[str, str]] = {}
    if current < last:
        links["next"] = {"page": str(current + 1)}
        links["last"] = {"page": str(last)}
    if current > 1:
        links["first"] = {"page": "1"}
        links["prev"] = {"page": str(current - 1)}
    return link_header(request, links)
