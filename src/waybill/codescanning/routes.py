"""HTTP handlers for code scanning: SARIF uploads, analyses and alerts."""

from __future__ import annotations

import asyncio
import re
from typing import Any

from litestar import Request, Response, Router, delete, get, patch, post
from litestar.params import FromPath

from waybill.codescanning import sarif, schemas, service
from waybill.config import Settings
from waybill.core.errors import NotFound
from waybill.core.keyset import SortedPage
from waybill.http.body import decode, parse_body
from waybill.http.context import (
    AnyRequest,
    Caller,
    Db,
    Readable,
    ReadConn,
    Writable,
    WriteConn,
    api_base,
    repository_dependencies,
    web_base,
)
from waybill.http.conventions import BodyLimit
from waybill.http.pagination import link_header
from waybill.http.pagination import page as parse_page
from waybill.http.pagination import per_page as parse_per_page
from waybill.http.responses import json_response

REPO = "/repos/{owner:str}/{repo:str}/code-scanning"
SARIF_MEDIA_TYPE = "application/sarif+json"
UPLOAD_PATH = re.compile(r"^/repos/[^/]+/[^/]+/code-scanning/sarifs/?$")
# The base64 of GitHub's largest file (10 MB gzipped), with room for the other fields: about 14 MB,
# whatever the global limit says, since a client cannot split an upload.
UPLOAD_BODY_BYTES = sarif.MAX_ENCODED_CHARS + 64 * 1024


def body_limits(config: Settings) -> list[BodyLimit]:
    """The routes of this domain whose bodies have a limit of their own."""
    return [(UPLOAD_PATH, UPLOAD_BODY_BYTES)]


def _number(raw: str) -> int:
    # A path segment that is not a number, or beyond the numbers' 32 bits, names no alert.
    if not raw.isdigit() or len(raw) > 10 or int(raw) >= 2**31:
        raise NotFound()
    return int(raw)


def _page_links(request: AnyRequest, page: int, more: bool) -> dict[str, str]:
    links: dict[str, dict[str, str]] = {}
    if more:
        links["next"] = {"page": str(page + 1)}
    if page > 1:
        links["prev"] = {"page": str(page - 1)}
    return link_header(request, links)


@post(f"{REPO}/sarifs", request_max_body_size=UPLOAD_BODY_BYTES)
async def upload_sarif(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], db: Db, caller: Caller
) -> Response[bytes]:
    """202 once the file is known to be gzipped JSON of SARIF 2.1.0 within GitHub's limits; the worker
    validates it against the schema (a failure is the upload's ``errors``) and turns it into analyses
    and alerts. Decoding runs in a thread, outside any transaction."""
    async with db.read() as conn:
        await service.repository(conn, caller, owner, repo, write=True)
    body = decode(await request.body(), schemas.SarifUpload, "CodeScanningSarifUpload")
    gzipped = await asyncio.to_thread(sarif.check, body.sarif)
    async with db.write() as conn:
        found = await service.repository(conn, caller, owner, repo, write=True)
        uploader = None if caller.user is None else caller.user.id
        sarif_id = await service.queue_upload(conn, found, body, gzipped, uploader)
    request.app.state.worker.wake()
    return json_response(schemas.receipt(sarif_id, api_base(request), found), 202)


@get(f"{REPO}/sarifs/{{sarif_id:str}}")
async def get_sarif(
    request: AnyRequest,
    sarif_id: FromPath[str],
    read_conn: ReadConn,
    readable: Readable,
) -> Response[bytes]:
    status = await service.upload_status(read_conn, readable, sarif_id)
    return json_response(
        schemas.upload_status(status.upload, status.status, status.errors, api_base(request), readable)
    )


@get(f"{REPO}/analyses")
async def list_analyses(request: AnyRequest, read_conn: ReadConn, readable: Readable) -> Response[bytes]:
    query = schemas.analysis_query(request)
    views = await service.list_analyses(read_conn, readable, query)
    api = api_base(request)
    body = [schemas.analysis(v.analysis, api, readable, deletable=v.deletable) for v in views]
    return json_response(body, headers=_page_links(request, query.page, len(views) == query.per_page))


def _wants_sarif(request: Request[Any, Any, Any]) -> bool:
    accept = request.headers.get("accept", "")
    return SARIF_MEDIA_TYPE in accept.lower()


@get(f"{REPO}/analyses/{{analysis_id:str}}")
async def get_analysis(
    request: AnyRequest,
    analysis_id: FromPath[str],
    read_conn: ReadConn,
    readable: Readable,
) -> Response[bytes]:
    """JSON, or for ``Accept: application/sarif+json`` the analysis's own SARIF."""
    number = _number(analysis_id)
    if _wants_sarif(request):
        document = await service.analysis_sarif(read_conn, readable, number)
    else:
        view = await service.get_analysis(read_conn, readable, number)
    if _wants_sarif(request):
        response = json_response(document)
        response.media_type = SARIF_MEDIA_TYPE
        return response
    return json_response(
        schemas.analysis(view.analysis, api_base(request), readable, deletable=view.deletable)
    )


def _confirmed(request: AnyRequest) -> bool:
    params = request.query_params
    if "confirm_delete" not in params:
        return False
    return (params.get("confirm_delete") or "").lower() not in ("false", "0", "no")


@delete(f"{REPO}/analyses/{{analysis_id:str}}", status_code=200)
async def delete_analysis(
    request: AnyRequest,
    analysis_id: FromPath[str],
    caller: Caller,
    write_conn: WriteConn,
    writable: Writable,
) -> Response[bytes]:
    number = _number(analysis_id)
    done = await service.delete_analysis(write_conn, caller, writable, number, confirmed=_confirmed(request))
    return json_response(schemas.deletion(done.next_id, done.next_is_last, api_base(request), writable))


def _alert_links(
    request: AnyRequest, query: schemas.AlertQuery, page: SortedPage[schemas.AlertView]
) -> dict[str, str]:
    if query.after is None and query.before is None and "after" not in request.query_params:
        return _page_links(request, query.page, page.more)
    links: dict[str, dict[str, str]] = {}
    if page.items:
        forward = query.before is None
        if page.more or not forward:
            last = schemas.position_of(page.items[-1].alert, query.sort)
            links["next"] = {"after": schemas.encode_position(query.sort, last)}
        if (page.more and not forward) or (forward and query.after is not None):
            first = schemas.position_of(page.items[0].alert, query.sort)
            links["prev"] = {"before": schemas.encode_position(query.sort, first)}
    return link_header(request, links)


@get(f"{REPO}/alerts")
async def list_repository_alerts(
    request: AnyRequest, read_conn: ReadConn, readable: Readable
) -> Response[bytes]:
    query = schemas.alert_query(request, organization=False)
    page = await service.list_for_repository(read_conn, readable, query)
    api, web = api_base(request), web_base(request)
    body = [schemas.alert(v, api, web) for v in page.items]
    return json_response(body, headers=_alert_links(request, query, page))


@get("/orgs/{org:str}/code-scanning/alerts")
async def list_organization_alerts(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    """GitHub's filters, and Waybill's production-context ones (``has=deployment``, ``runtime_risk``,
    ``artifact_registry``, ``artifact_registry_url``), which GitHub offers only in its web UI."""
    query = schemas.alert_query(request, organization=True)
    page = await service.list_for_organization(read_conn, caller, org, query)
    api, web = api_base(request), web_base(request)
    body = [schemas.alert(v, api, web, with_repository=True) for v in page.items]
    links = _alert_links(request, query, page)
    return json_response(body, headers=links)


@get(f"{REPO}/alerts/{{alert_number:str}}")
async def get_alert(
    request: AnyRequest,
    alert_number: FromPath[str],
    read_conn: ReadConn,
    readable: Readable,
) -> Response[bytes]:
    number = _number(alert_number)
    view = await service.get_alert(read_conn, readable, number)
    return json_response(schemas.alert(view, api_base(request), web_base(request)))


@patch(f"{REPO}/alerts/{{alert_number:str}}")
async def update_alert(
    request: AnyRequest,
    alert_number: FromPath[str],
    caller: Caller,
    write_conn: WriteConn,
    writable: Writable,
) -> Response[bytes]:
    number = _number(alert_number)
    body = await parse_body(request, schemas.AlertUpdate, "CodeScanningAlert")
    view = await service.update_alert(write_conn, caller, writable, number, body)
    return json_response(schemas.alert(view, api_base(request), web_base(request)))


@get(f"{REPO}/alerts/{{alert_number:str}}/instances")
async def list_alert_instances(
    request: AnyRequest,
    alert_number: FromPath[str],
    read_conn: ReadConn,
    readable: Readable,
) -> Response[bytes]:
    number = _number(alert_number)
    ref = schemas.query_ref(request.query_params)
    size, page = parse_per_page(request), parse_page(request)
    rows = await service.instances(read_conn, readable, number, ref, per_page=size, page=page)
    web = web_base(request)
    body = [schemas.instance(r, web, readable) for r in rows]
    return json_response(body, headers=_page_links(request, page, len(rows) == size))


_handlers: list[Any] = [
    upload_sarif,
    get_sarif,
    list_analyses,
    get_analysis,
    delete_analysis,
    list_repository_alerts,
    list_organization_alerts,
    get_alert,
    update_alert,
    list_alert_instances,
]

route_handlers: list[Any] = [
    Router(
        "/",
        route_handlers=_handlers,
        dependencies=repository_dependencies(service.repository),
    )
]
