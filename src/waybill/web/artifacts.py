"""The organization's linked artifacts: every artifact with where it is stored and deployed now."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.artifacts import service as artifacts
from waybill.artifacts.types import ArtifactFilter, RuntimeRisk
from waybill.attestations import service as attestations
from waybill.core.errors import BadRequest
from waybill.http.context import AnyRequest, ReadConn
from waybill.http.pagination import encode_cursor
from waybill.web.common import page_cursor, text_param
from waybill.web.render import page
from waybill.web.viewer import SignedIn

FILTERS = ("q", "repository", "environment", "cluster", "registry", "risk")
RISKS = [risk.value for risk in RuntimeRisk]


def _risk(raw: str | None) -> RuntimeRisk | None:
    if raw is None:
        return None
    try:
        return RuntimeRisk(raw)
    except ValueError:
        raise BadRequest(f"Unknown runtime risk {raw!r}; expected one of {', '.join(RISKS)}.") from None


@get("/ui/orgs/{org:str}/artifacts")
async def linked_artifacts(
    request: AnyRequest, org: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    filters = {name: text_param(request, name) for name in FILTERS}
    risk = _risk(filters["risk"])
    cursor = page_cursor(request)
    owner = await accounts.get_org(read_conn, org)
    repository_id = None
    if filters["repository"]:
        found = await accounts.find_repository(read_conn, owner.login, filters["repository"])
        # No such repository matches nothing; one the viewer may not read is left out in SQL anyway.
        repository_id = found.id if found is not None else 0
    where = ArtifactFilter(
        repository_id=repository_id,
        environment=filters["environment"],
        cluster=filters["cluster"],
        registry_url=filters["registry"],
        runtime_risk=risk,
        search=filters["q"],
    )
    found_page = await artifacts.linked_artifacts(read_conn, viewer.principal, owner.login, where, cursor)
    items = found_page.items
    provenance = await attestations.provenance_verified(
        read_conn, viewer.principal, owner.id, [a.digest for a in items]
    )
    repos = await accounts.repositories_by_ids(read_conn, {a.repository_id for a in items})
    context: dict[str, Any] = {
        "title": f"Linked artifacts · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "artifacts",
        "filters": filters,
        "risks": RISKS,
        "artifacts": items,
        "repos": repos,
        "provenance": provenance,
        "older": None if found_page.next_key is None else encode_cursor(found_page.next_key),
        "newer": None if found_page.prev_key is None else encode_cursor(found_page.prev_key),
        "filtered": any(filters.values()),
    }
    return page("artifacts.html", context)


route_handlers: list[Any] = [linked_artifacts]
