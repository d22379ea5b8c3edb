"""What every organization page needs: the viewer, the organization, filters read from the query."""

from __future__ import annotations

from waybill.core.errors import BadRequest, NotFound
from waybill.core.keyset import Cursor
from waybill.core.types import Digest
from waybill.http.context import AnyRequest
from waybill.http.pagination import decode_cursor

PER_PAGE = 50
MAX_FILTER_LENGTH = 256


def digest_param(raw: str) -> Digest:
    """An artifact digest from a page's path: anything but ``sha256:`` and 64 hex digits is no page."""
    digest = Digest.sha256(raw)
    if digest is None:
        raise NotFound()
    return digest


def text_param(request: AnyRequest, name: str) -> str | None:
    """A free-text filter: trimmed, None when empty; an overlong one is refused rather than cut."""
    raw = (request.query_params.get(name) or "").strip()
    if len(raw) > MAX_FILTER_LENGTH:
        raise BadRequest(f"The {name} filter is longer than {MAX_FILTER_LENGTH} characters.")
    return raw or None


def page_cursor(request: AnyRequest, per_page: int = PER_PAGE) -> Cursor:
    after = request.query_params.get("after") or None
    before = request.query_params.get("before") or None
    return Cursor(
        per_page=per_page,
        after=None if after is None else decode_cursor(after, "after"),
        before=None if before is None else decode_cursor(before, "before"),
    )
