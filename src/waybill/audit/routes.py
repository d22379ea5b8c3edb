"""HTTP handler of the audit log."""

from __future__ import annotations

from litestar import Response, get
from litestar.params import FromPath

from waybill.audit import schemas, service
from waybill.audit.types import Filters
from waybill.http.context import AnyRequest, Caller, ReadConn
from waybill.http.pagination import cursor, cursor_links
from waybill.http.query import time_param
from waybill.http.responses import json_response

PATH = "/waybill/orgs/{org:str}/audit-log"


@get(PATH)
async def audit_log(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    """Newest first; ``after``/``before`` are the cursors of the ``Link`` header, ``since``/``until``
    the time range (ISO 8601, both inclusive)."""
    params = request.query_params
    page = cursor(request)
    since = time_param(params.get("since"), "since")
    until = time_param(params.get("until"), "until")
    found = await service.readable_org(read_conn, caller, org)
    repository = params.get("repository")
    repository_id = None
    if repository:
        repository_id = await service.repository_id(read_conn, found, repository)
        if repository_id is None:
            return json_response([])
    filters = Filters(
        actor=params.get("actor") or None,
        action=params.get("action") or None,
        repository_id=repository_id,
        since=since,
        until=until,
    )
    entries = await service.list_entries(read_conn, found, filters, page)
    body = [schemas.entry(e, found.login) for e in entries.items]
    return json_response(body, headers=cursor_links(request, entries.next_key, entries.prev_key))


route_handlers = [audit_log]
