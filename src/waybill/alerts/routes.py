"""HTTP handlers for Dependabot alerts and the blast radius."""

from __future__ import annotations

from typing import Any

from litestar import Response, Router, get, patch
from litestar.params import FromPath

from waybill.advisories.schemas import encode_position, shows_cvss
from waybill.alerts import blast, schemas, service
from waybill.core.errors import NotFound, SimpleValidationFailed, ValidationFailed
from waybill.core.keyset import SortedPage
from waybill.http.body import parse_body
from waybill.http.context import (
    AnyRequest,
    Caller,
    Readable,
    ReadConn,
    Writable,
    WriteConn,
    api_base,
    api_version,
    repository_dependencies,
    web_base,
)
from waybill.http.pagination import link_header
from waybill.http.responses import json_response


def _simple(error: ValidationFailed) -> SimpleValidationFailed:
    return error if isinstance(error, SimpleValidationFailed) else SimpleValidationFailed(error.errors)


def _alert_query(request: AnyRequest, *, organization: bool) -> schemas.AlertQuery:
    try:
        return schemas.alert_query(request, organization=organization)
    except ValidationFailed as error:
        # These endpoints document GitHub's simple validation error (messages, not objects).
        raise _simple(error) from None


def _alert_list(
    request: AnyRequest, query: schemas.AlertQuery, page: SortedPage[schemas.AlertView], *, organization: bool
) -> Response[bytes]:
    api, web, with_cvss = api_base(request), web_base(request), shows_cvss(api_version(request))
    body = [schemas.alert(v, api, web, with_cvss=with_cvss, with_repository=organization) for v in page.items]
    links: dict[str, dict[str, str]] = {}
    if page.items:
        forward = query.before is None
        if page.more or not forward:
            last = schemas.position_of(page.items[-1], query.sort)
            links["next"] = {"after": encode_position(query.sort, last)}
        if (page.more and not forward) or (forward and query.after is not None):
            first = schemas.position_of(page.items[0], query.sort)
            links["prev"] = {"before": encode_position(query.sort, first)}
    return json_response(body, headers=link_header(request, links))


ALERTS = "/repos/{owner:str}/{repo:str}/dependabot/alerts"


@get(ALERTS)
async def list_repository_alerts(
    request: AnyRequest, read_conn: ReadConn, readable: Readable
) -> Response[bytes]:
    query = _alert_query(request, organization=False)
    page = await service.list_for_repository(read_conn, readable, query)
    return _alert_list(request, query, page, organization=False)


@get("/orgs/{org:str}/dependabot/alerts")
async def list_organization_alerts(
    request: AnyRequest, org: FromPath[str], caller: Caller, read_conn: ReadConn
) -> Response[bytes]:
    query = _alert_query(request, organization=True)
    page = await service.list_for_organization(read_conn, caller, org, query)
    return _alert_list(request, query, page, organization=True)


def _number(raw: str) -> int:
    # A path that is not an alert number names no alert.
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound()
    return int(raw)


@get(ALERTS + "/{alert_number:str}")
async def get_alert(
    request: AnyRequest, alert_number: FromPath[str], read_conn: ReadConn, readable: Readable
) -> Response[bytes]:
    number = _number(alert_number)
    view = await service.get_alert(read_conn, readable, number)
    return json_response(
        schemas.alert(view, api_base(request), web_base(request), with_cvss=shows_cvss(api_version(request)))
    )


@patch(ALERTS + "/{alert_number:str}")
async def update_alert(
    request: AnyRequest,
    alert_number: FromPath[str],
    caller: Caller,
    write_conn: WriteConn,
    writable: Writable,
) -> Response[bytes]:
    number = _number(alert_number)
    try:
        body = await parse_body(request, schemas.AlertUpdate, "DependabotAlert")
    except ValidationFailed as error:
        raise _simple(error) from None
    view = await service.update_alert(write_conn, caller, writable, number, body)
    return json_response(
        schemas.alert(view, api_base(request), web_base(request), with_cvss=shows_cvss(api_version(request)))
    )


@get("/waybill/blast-radius")
async def blast_radius(request: AnyRequest, caller: Caller, read_conn: ReadConn) -> Response[bytes]:
    """Which repositories depend on an advisory's packages (or a package URL), the digests they
    built, and where those run now, most exposed first."""
    target = blast.target(request.query_params)
    report = await blast.blast_radius(read_conn, caller, target)
    return json_response(blast.render(report, api_base(request), web_base(request)))


route_handlers: list[Any] = [
    Router(
        "/",
        route_handlers=[
            list_repository_alerts,
            list_organization_alerts,
            get_alert,
            update_alert,
            blast_radius,
        ],
        dependencies=repository_dependencies(service.repository),
    )
]
