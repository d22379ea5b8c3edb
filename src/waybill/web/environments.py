"""Environments: what runs in each logical and physical environment and cluster now, and the latest
changes to what runs."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.artifacts import service as artifacts
from waybill.artifacts.types import HistoryFilter
from waybill.http.context import AnyRequest, ReadConn
from waybill.http.pagination import encode_cursor
from waybill.web.common import page_cursor
from waybill.web.render import page
from waybill.web.viewer import SignedIn

RECENT_CHANGES = 25


@get("/ui/orgs/{org:str}/environments")
async def environments_page(
    request: AnyRequest, org: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    cursor = page_cursor(request, RECENT_CHANGES)
    owner = await accounts.get_org(read_conn, org)
    places = await artifacts.environments(read_conn, viewer.principal, owner.login)
    changes = await artifacts.history(read_conn, viewer.principal, owner.login, HistoryFilter(), cursor)
    environments: dict[str, list[Any]] = {}
    for place in places:
        environments.setdefault(place.logical_environment, []).append(place)
    context: dict[str, Any] = {
        "title": f"Environments · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "environments",
        "environments": environments,
        "timeline": changes.items,
        "show_digest": True,
        "older": None if changes.next_key is None else encode_cursor(changes.next_key),
        "newer": None if changes.prev_key is None else encode_cursor(changes.prev_key),
    }
    return page("environments.html", context)


route_handlers: list[Any] = [environments_page]
