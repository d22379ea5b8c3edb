"""HTTP handlers for advisories and alerts."""

from __future__ import annotations

from typing import Any

from litestar import Response, get, patch
from litestar.params import FromPath

from waybill.alerts import alert_schemas, blast, dependabot, schemas, service
from waybill.core.errors import NotFound, SimpleValidationFailed, ValidationFailed
from waybill.http.body import parse_body
from waybill.http.context import AnyRequest, api_base, api_version, database, principal, web_base
from waybill.http.pagination import link_header
from waybill.http.responses import json_response

# API versions from 2026-03-10 on drop the deprecated top-level ``cvss`` of advisories.
CVSS_REMOVED_IN = "2026-03-10"


def _with_cvss(request: AnyRequest) -> bool:
    return api_version(request) < CVSS_REMOVED_IN


@get("/advisories")
async def list_global_advisories(request: AnyRequest) -> Response[bytes]:
    try:
        query = schemas.advisory_query(request)
    except ValidationFailed as error:
        # This endpoint documents GitHub's simple validation error (messages, not objects).
        raise SimpleValidationFailed(error.errors) from None
    async with database(request).read() as conn:
        await principal(request, conn)
        page = await service.list_advisories(
            conn,
            query.filter,
            affects=query.affects,
            ecosystem=query.ecosystem,
            sort=query.sort,
            descending=query.descending,
            per_page=query.per_page,
            after=query.after,
            before=query.before,
        )
    api, web, with_cvss = api_base(request), web_base(request), _with_cvss(request)
    body = [
        schemas.global_advisory(row, page.vulnerabilities.get(row.id, []), api, web, with_cvss=with_cvss)
        for row in page.rows
    ]
    links: dict[str, dict[str, str]] = {}
    if page.rows:
        forward = query.before is None
        if page.more or not forward:
            last = schemas.position_of(page.rows[-1], query.sort)
            links["next"] = {"after": schemas.encode_position(query.sort, last)}
        if (page.more and not forward) or (forward and query.after is not None):
            first = schemas.position_of(page.rows[0], query.sort)
            links["prev"] = {"before": schemas.encode_position(query.sort, first)}
    return json_response(body, headers=link_header(request, links))


@get("/advisories/{ghsa_id:str}")
async def get_global_advisory(request: AnyRequest, ghsa_id: FromPath[str]) -> Response[bytes]:
    async with database(request).read() as conn:
        await principal(request, conn)
        row, vulns = await service.get_advisory(conn, ghsa_id)
    return json_response(
        schemas.global_advisory(
            row, vulns, api_base(request), web_base(request), with_cvss=_with_cvss(request)
        )
    )


def _simple(error: ValidationFailed) -> SimpleValidationFailed:
    return error if isinstance(error, SimpleValidationFailed) else SimpleValidationFailed(error.errors)


def _alert_query(request: AnyRequest, *, organization: bool) -> alert_schemas.AlertQuery:
    try:
        return alert_schemas.alert_query(request, organization=organization)
    except ValidationFailed as error:
        # These endpoints document GitHub's simple validation error (messages, not objects).
        raise _simple(error) from None


def _alert_list(
    request: AnyRequest, query: alert_schemas.AlertQuery, page: dependabot.AlertPage, *, organization: bool
) -> Response[bytes]:
    api, web, with_cvss = api_base(request), web_base(request), _with_cvss(request)
    body = [
        alert_schemas.alert(v, api, web, with_cvss=with_cvss, with_repository=organization)
        for v in page.views
    ]
    links: dict[str, dict[str, str]] = {}
    if page.views:
        forward = query.before is None
        if page.more or not forward:
            last = alert_schemas.position_of(page.views[-1].row)
            links["next"] = {"after": schemas.encode_position(query.sort, last)}
        if (page.more and not forward) or (forward and query.after is not None):
            first = alert_schemas.position_of(page.views[0].row)
            links["prev"] = {"before": schemas.encode_position(query.sort, first)}
    return json_response(body, headers=link_header(request, links))


ALERTS = "/repos/{owner:str}/{repo:str}/dependabot/alerts"


@get(ALERTS)
async def list_repository_alerts(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str]
) -> Response[bytes]:
    query = _alert_query(request, organization=False)
    async with database(request).read() as conn:
        caller = await principal(request, conn)
        page = await dependabot.list_for_repository(conn, caller, owner, repo, query)
    return _alert_list(request, query, page, organization=False)


@get("/orgs/{org:str}/dependabot/alerts")
async def list_organization_alerts(request: AnyRequest, org: FromPath[str]) -> Response[bytes]:
    query = _alert_query(request, organization=True)
    async with database(request).read() as conn:
        caller = await principal(request, conn)
        page = await dependabot.list_for_organization(conn, caller, org, query)
    return _alert_list(request, query, page, organization=True)


def _number(raw: str) -> int:
    # A path that is not an alert number names no alert.
    if not raw.isdigit() or len(raw) > 9:
        raise NotFound()
    return int(raw)


@get(ALERTS + "/{alert_number:str}")
async def get_alert(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], alert_number: FromPath[str]
) -> Response[bytes]:
    number = _number(alert_number)
    async with database(request).read() as conn:
        caller = await principal(request, conn)
        view = await dependabot.get_alert(conn, caller, owner, repo, number)
    return json_response(
        alert_schemas.alert(view, api_base(request), web_base(request), with_cvss=_with_cvss(request))
    )


@patch(ALERTS + "/{alert_number:str}")
async def update_alert(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], alert_number: FromPath[str]
) -> Response[bytes]:
    number = _number(alert_number)
    try:
        body = await parse_body(request, alert_schemas.AlertUpdate, "DependabotAlert")
    except ValidationFailed as error:
        raise _simple(error) from None
    async with database(request).write() as conn:
        caller = await principal(request, conn)
        view = await dependabot.update_alert(conn, caller, owner, repo, number, body)
    return json_response(
        alert_schemas.alert(view, api_base(request), web_base(request), with_cvss=_with_cvss(request))
    )


@get("/waybill/blast-radius")
async def blast_radius(request: AnyRequest) -> Response[bytes]:
    """Which repositories depend on an advisory's packages (or a package URL), the digests they
    built, and where those run now, most exposed first."""
    target = blast.target(request.query_params)
    async with database(request).read() as conn:
        caller = await principal(request, conn)
        report = await blast.blast_radius(conn, caller, target)
    return json_response(blast.render(report, api_base(request), web_base(request)))


route_handlers: list[Any] = [
    list_global_advisories,
    get_global_advisory,
    list_repository_alerts,
    list_organization_alerts,
    get_alert,
    update_alert,
    blast_radius,
]
