"""HTTP handlers for the global advisories."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.advisories import schemas, service
from waybill.core.errors import SimpleValidationFailed, ValidationFailed
from waybill.http.context import AnyRequest, ReadConn, api_base, api_version, web_base
from waybill.http.pagination import link_header
from waybill.http.responses import json_response


@get("/advisories")
async def list_global_advisories(request: AnyRequest, read_conn: ReadConn) -> Response[bytes]:
    try:
        query = schemas.advisory_query(request)
    except ValidationFailed as error:
        # This endpoint documents GitHub's simple validation error (messages, not objects).
        raise SimpleValidationFailed(error.errors) from None
    page = await service.list_advisories(
        read_conn,
        query.filter,
        affects=query.affects,
        ecosystem=query.ecosystem,
        sort=query.sort,
        descending=query.descending,
        per_page=query.per_page,
        after=query.after,
        before=query.before,
    )
    api, web, with_cvss = api_base(request), web_base(request), schemas.shows_cvss(api_version(request))
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
async def get_global_advisory(
    request: AnyRequest, ghsa_id: FromPath[str], read_conn: ReadConn
) -> Response[bytes]:
    row, vulns = await service.get_advisory(read_conn, ghsa_id)
    return json_response(
        schemas.global_advisory(
            row,
            vulns,
            api_base(request),
            web_base(request),
            with_cvss=schemas.shows_cvss(api_version(request)),
        )
    )


route_handlers: list[Any] = [list_global_advisories, get_global_advisory]
