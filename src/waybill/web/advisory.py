"""An advisory as an organization sees it: what it says (severity, identifiers, CVSS, CWEs, dates,
the affected packages with their vulnerable ranges and first patched versions, references), how
many open alerts of it the organization has, and the way to its blast radius.

The advisory is read as ``/advisories/{ghsa_id}`` reads it, so any signed-in viewer sees it. Its
alerts are counted through the organization's alert list with the viewer's principal: a viewer who
may not read that list (anyone but an owner, as on GitHub) is told so and sees no count.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from litestar import Response, get
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.advisories import schemas
from waybill.advisories import service as advisories
from waybill.advisories.types import Advisory, Vulnerability
from waybill.alerts import service as dependabot
from waybill.alerts.schemas import newest_first, position_of
from waybill.alerts.types import AlertFilter, AlertState
from waybill.auth.types import Principal
from waybill.core.errors import Forbidden, NotFound
from waybill.http.context import AnyRequest, ReadConn
from waybill.web.render import page, query, urlpath
from waybill.web.viewer import SignedIn

# GHSA ids are short; a longer path segment is no advisory, and is not looked up.
MAX_ID_LENGTH = 128
# Open alerts are counted a page of the organization's list at a time, up to this many pages;
# beyond them the count is a lower bound, shown as such (the list has no count, and a popular
# package has many alerts).
ALERT_PAGE = 100
ALERT_PAGES = 5
WEB_SCHEMES = ("https://", "http://")


@dataclass(frozen=True)
class Affected:
    ecosystem: str
    name: str
    # (vulnerable version range, first patched version), as the API prints them.
    ranges: list[tuple[str | None, str | None]]
    functions: list[str]
    # None: the viewer may not read the organization's alerts.
    open_alerts: int | None
    alerts_href: str


@dataclass(frozen=True)
class AlertCounts:
    by_package: Counter[tuple[str, str]]
    # More pages than were counted: the counts are lower bounds.
    more: bool


async def _open_alerts(
    conn: AsyncConnection, caller: Principal, org: str, advisory: Advisory, vulns: list[Vulnerability]
) -> AlertCounts | None:
    """The organization's open alerts of the advisory the caller may read, by (ecosystem, package
    key); None when it may not read the organization's alerts. The list has no advisory filter, so
    it is asked for the advisory's packages and the other advisories' alerts of them are skipped."""
    packages = tuple(dict.fromkeys((v.ecosystem, v.package_key) for v in vulns))
    counts: Counter[tuple[str, str]] = Counter()
    if not packages:
        # An empty package filter is no filter: an advisory without packages has no alerts.
        return AlertCounts(counts, more=False)
    wanted = newest_first(AlertFilter(states=(AlertState.OPEN.value,), packages=packages), ALERT_PAGE)
    for _ in range(ALERT_PAGES):
        try:
            found = await dependabot.list_for_organization(conn, caller, org, wanted)
        except (Forbidden, NotFound):
            return None
        counts.update(
            (v.alert.ecosystem, v.alert.package_key)
            for v in found.items
            if v.alert.advisory_id == advisory.id
        )
        if not found.more:
            return AlertCounts(counts, more=False)
        wanted = replace(wanted, after=position_of(found.items[-1], wanted.sort))
    return AlertCounts(counts, more=True)


def _affected(org: str, vulns: list[Vulnerability], counts: AlertCounts | None) -> list[Affected]:
    rows = []
    for v in vulns:
        described = schemas.vulnerabilities([v])
        rows.append(
            Affected(
                ecosystem=v.ecosystem,
                name=v.package_name,
                ranges=[(d["vulnerable_version_range"], d["first_patched_version"]) for d in described],
                functions=list(v.vulnerable_functions),
                open_alerts=None if counts is None else counts.by_package[(v.ecosystem, v.package_key)],
                alerts_href=f"/ui/orgs/{urlpath(org)}/alerts"
                + query({}, state=AlertState.OPEN.value, ecosystem=v.ecosystem, package=v.package_name),
            )
        )
    return rows


@get("/ui/orgs/{org:str}/advisories/{ghsa_id:str}")
async def advisory_page(
    request: AnyRequest, org: FromPath[str], ghsa_id: FromPath[str], read_conn: ReadConn, viewer: SignedIn
) -> Response[bytes]:
    if len(ghsa_id) > MAX_ID_LENGTH:
        raise NotFound()
    owner = await accounts.get_org(read_conn, org)
    advisory, vulns = await advisories.get_advisory(read_conn, ghsa_id)
    counts = await _open_alerts(read_conn, viewer.principal, owner.login, advisory, vulns)
    affected = _affected(owner.login, vulns, counts)
    context: dict[str, Any] = {
        "title": f"{advisory.ghsa_id} · {owner.login}",
        "viewer": viewer,
        "org": owner.login,
        "section": "alerts",
        "advisory": advisory,
        "blast_href": f"/ui/orgs/{urlpath(owner.login)}/blast-radius" + query({}, advisory=advisory.ghsa_id),
        "cvss": [
            (name, vector, score)
            for name, vector, score in (
                ("CVSS v4", advisory.cvss_v4_vector, advisory.cvss_v4_score),
                ("CVSS v3", advisory.cvss_v3_vector, advisory.cvss_v3_score),
            )
            if vector or score is not None
        ],
        "affected": affected,
        # Advisory data comes from outside: only web addresses become links.
        "references": [(url, url.startswith(WEB_SCHEMES)) for url in advisory.reference_urls],
        "alerts_readable": counts is not None,
        "open_alerts": None if counts is None else sum(counts.by_package.values()),
        "alerts_more": counts is not None and counts.more,
    }
    return page("advisory.html", context)


route_handlers: list[Any] = [advisory_page]
