"""A repository's dependency graph: its packages, and its SBOM as a download."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

import msgspec
from litestar import Response, get
from litestar.params import FromPath

from waybill.core.errors import BadRequest
from waybill.dependencies import service as dependencies
from waybill.http.context import AnyRequest, ReadConn, web_base
from waybill.web import security
from waybill.web.common import text_param
from waybill.web.render import page
from waybill.web.viewer import SignedIn

ROWS_PER_PAGE = 100
RELATIONSHIPS = ("direct", "indirect")
SCOPES = ("runtime", "development")


def _choice(raw: str | None, name: str, allowed: tuple[str, ...]) -> str | None:
    if raw is not None and raw not in allowed:
        raise BadRequest(f"Unknown {name} {raw!r}; expected one of {', '.join(allowed)}.")
    return raw


@get("/ui/repos/{owner:str}/{repo:str}/dependencies")
async def dependencies_page(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    search = text_param(request, "q")
    relationship = _choice(text_param(request, "relationship"), "relationship", RELATIONSHIPS)
    scope = _choice(text_param(request, "scope"), "scope", SCOPES)
    number = text_param(request, "page") or "1"
    if not number.isdigit() or int(number) < 1:
        raise BadRequest("page must be a positive integer.")
    found = await dependencies.repository(read_conn, viewer.principal, owner, repo, dependencies.READ)
    packages = await dependencies.current_dependencies(read_conn, found.id)
    total = len(packages)
    needle = (search or "").lower()
    shown = [
        p
        for p in packages
        if (not needle or needle in p.name.lower() or needle in p.package_url.lower())
        and (relationship is None or p.relationship == relationship)
        and (scope is None or p.scope == scope)
    ]
    shown.sort(key=lambda p: (p.relationship != "direct", p.name.lower(), p.version or "", p.manifest))
    index = int(number)
    last = max((len(shown) + ROWS_PER_PAGE - 1) // ROWS_PER_PAGE, 1)
    filters = {"q": search, "relationship": relationship, "scope": scope}
    context: dict[str, Any] = {
        "title": f"Dependencies · {found.full_name}",
        "viewer": viewer,
        "repository": found,
        "filters": filters,
        "filtered": any(filters.values()),
        "packages": shown[(index - 1) * ROWS_PER_PAGE : index * ROWS_PER_PAGE],
        "matching": len(shown),
        "total": total,
        "direct": sum(1 for p in packages if p.relationship == "direct"),
        "page_number": index,
        "last_page": last,
        "relationships": RELATIONSHIPS,
        "scopes": SCOPES,
    }
    if found.owner.is_org:
        context.update(org=found.owner.login, section="dependencies")
    return page("dependencies.html", context)


@get("/ui/repos/{owner:str}/{repo:str}/dependencies/sbom")
async def sbom_download(
    request: AnyRequest, owner: FromPath[str], repo: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    """The SPDX document of the API's SBOM export, as a file to save."""
    found = await dependencies.repository(read_conn, viewer.principal, owner, repo, dependencies.READ)
    document = await dependencies.export_sbom(read_conn, found, web_base(request))
    filename = f"{PurePath(found.name).name}-sbom.spdx.json"
    return Response(
        content=msgspec.json.encode(document),
        media_type="application/json",
        headers={
            **security.SECURITY_HEADERS,
            "Cache-Control": "no-store",
            "Content-Disposition": f'attachment; filename="{filename}"',
        },
    )


route_handlers: list[Any] = [dependencies_page, sbom_download]
