"""The organization's Dependabot alerts, with the production-context filters of GitHub's list, and
its code scanning alerts beside them under the same state, severity and production-context filters;
above the list, the trends of its Dependabot alerts (``alerts.trends``)."""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from waybill.accounts import service as accounts
from waybill.advisories.ecosystems import Ecosystem
from waybill.advisories.schemas import encode_position
from waybill.alerts import service as dependabot
from waybill.alerts import trends
from waybill.alerts.schemas import SEVERITIES, alert_query, position_of
from waybill.alerts.types import AlertState
from waybill.artifacts.schemas import REGISTRIES
from waybill.artifacts.types import RuntimeRisk
from waybill.codescanning import schemas as code_scanning_schemas
from waybill.codescanning import service as code_scanning
from waybill.codescanning.repository import AlertFilter as CodeScanningFilter
from waybill.codescanning.types import AlertState as CodeScanningState
from waybill.codescanning.types import SecuritySeverity
from waybill.core import clock
from waybill.core.errors import BadRequest, ValidationFailed
from waybill.http.context import AnyRequest, ReadConn
from waybill.web.common import text_param
from waybill.web.render import page
from waybill.web.trends import charts
from waybill.web.viewer import SignedIn

# The query parameters are the API's, so a page's address and the API call it mirrors read alike.
FILTERS = (
    "state",
    "severity",
    "ecosystem",
    "package",
    "runtime_risk",
    "artifact_registry_url",
    "artifact_registry",
    "has",
)


# How many code scanning alerts a page shows, newest first.
CODE_SCANNING_SHOWN = 30
# The code scanning list's own page number: the Dependabot list above it pages by cursor.
CODE_SCANNING_PAGE = "code_scanning_page"


def code_scanning_page(request: AnyRequest) -> int:
    raw = text_param(request, CODE_SCANNING_PAGE) or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 10_000:
        raise BadRequest(f"{CODE_SCANNING_PAGE} must be a page number from 1 to 10000")
    return int(raw)


def code_scanning_query(query: Any, page_number: int = 1) -> code_scanning_schemas.AlertQuery:
    """The Dependabot query's state, severity and production-context filters, for code scanning:
    a state code scanning does not have matches nothing; severities are security severities."""
    f = query.filter
    states = tuple(s for s in f.states if s in tuple(CodeScanningState)) or (("none",) if f.states else ())
    return code_scanning_schemas.AlertQuery(
        filter=CodeScanningFilter(
            states=states,
            security_severities=tuple(s for s in f.severities if s in tuple(SecuritySeverity)),
        ),
        records=query.records,
        sort="created",
        descending=True,
        per_page=CODE_SCANNING_SHOWN,
        page=page_number,
        after=None,
        before=None,
    )


@get("/ui/orgs/{org:str}/alerts")
async def organization_alerts(
    request: AnyRequest, org: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    filters = {name: text_param(request, name) for name in FILTERS}
    try:
        query = alert_query(request, organization=True)
    except ValidationFailed as error:
        # A page says what was wrong with the address in words, not as the API's error list.
        raise BadRequest("; ".join(e.message or e.field for e in error.errors)) from None
    scanning_page = code_scanning_page(request)
    owner = await accounts.get_org(read_conn, org)
    # Refuses (404 to a stranger, 403 to a member who is not an owner) exactly as the API does.
    found = await dependabot.list_for_organization(read_conn, viewer.principal, owner.login, query)
    scanned = await code_scanning.list_for_organization(
        read_conn, viewer.principal, owner.login, code_scanning_query(query, scanning_page)
    )
    history = await trends.organization_trends(read_conn, viewer.principal, owner.login, query, clock.now())
    views = found.items
    older = newer = None
    if views:
        forward = query.before is None
        if found.more or not forward:
            older = encode_position(query.sort, position_of(views[-1], query.sort))
        if (found.more and not forward) or (forward and query.after is not None):
            newer = encode_position(query.sort, position_of(views[0], query.sort))
    context: dict[str, Any] = {
        "title": f"Alerts · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "alerts",
        "filters": filters,
        # The pager keeps the page size too; it is no filter.
        "links": {**filters, "per_page": request.query_params.get("per_page") or None},
        "states": [s.value for s in AlertState],
        "severities": SEVERITIES,
        "ecosystems": [e.value for e in Ecosystem],
        "risks": [r.value for r in RuntimeRisk],
        "registries": REGISTRIES,
        "alerts": views,
        "older": older,
        "newer": newer,
        "filtered": any(filters.values()),
        "code_scanning": scanned.items,
        "code_scanning_more": scanned.more,
        "code_scanning_page": scanning_page,
        # Ecosystem and package name Dependabot's packages; code scanning has none.
        "package_filtered": bool(filters["ecosystem"] or filters["package"]),
        "trends": charts(history),
    }
    return page("alerts.html", context)


route_handlers: list[Any] = [organization_alerts]
