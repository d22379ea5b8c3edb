"""Dependabot alerts: list queries parsed into typed values, the PATCH body, and GitHub's
``dependabot-alert`` / ``dependabot-alert-with-repository`` shapes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec

from waybill.accounts import schemas as account_schemas
from waybill.accounts.types import Account, Repository
from waybill.advisories.ecosystems import Ecosystem, normalise_name
from waybill.advisories.schemas import decode_position, epss_sort_value, number_span, vulnerabilities
from waybill.advisories.types import Advisory, Vulnerability
from waybill.alerts.types import Alert, AlertFilter, AlertState
from waybill.artifacts.schemas import record_filter
from waybill.artifacts.types import RecordFilter
from waybill.core.clock import iso, iso_or_none
from waybill.core.keyset import Position
from waybill.http.pagination import per_page as parse_per_page
from waybill.http.query import comma_values, invalid, one_of

SORTS = ("created", "updated", "epss_percentage")
SEVERITIES = ("low", "medium", "high", "critical")
CLASSIFICATIONS = ("general", "malware")
RELATIONSHIPS = ("unknown", "direct", "transitive", "inconclusive")
DismissedReason = Literal["fix_started", "inaccurate", "no_bandwidth", "not_used", "tolerable_risk"]


@dataclass(frozen=True)
class AlertQuery:
    filter: AlertFilter
    records: RecordFilter
    sort: str
    descending: bool
    per_page: int
    after: Position | None
    before: Position | None


def newest_first(f: AlertFilter, per_page: int = 30) -> AlertQuery:
    """The first page of the alerts ``f`` selects, newest first: the list asked with no sort or cursor."""
    return AlertQuery(
        filter=f,
        records=RecordFilter(),
        sort="created",
        descending=True,
        per_page=per_page,
        after=None,
        before=None,
    )


def alert_query(request: Any, *, organization: bool) -> AlertQuery:
    params = request.query_params
    sort = one_of(params, "sort", SORTS, "created") or "created"
    direction = one_of(params, "direction", ("asc", "desc"), "desc")
    ecosystems = comma_values(params, "ecosystem", tuple(e.value for e in Ecosystem))
    scope = one_of(params, "scope", ("development", "runtime"))
    has = comma_values(params, "has", ("patch", "deployment") if organization else ("patch",))
    names = comma_values(params, "package")
    packages = tuple(
        dict.fromkeys(
            (eco.value, normalise_name(eco, name))
            for name in names
            for eco in (Ecosystem(e) for e in ecosystems or [e.value for e in Ecosystem])
        )
    )
    epss = params.get("epss_percentage")
    after, before = params.get("after") or None, params.get("before") or None
    if after and before:
        raise invalid("before", "use either before or after, not both")
    records = RecordFilter()
    if organization:
        records = record_filter(params, deployed="deployment" in has)
    return AlertQuery(
        filter=AlertFilter(
            states=comma_values(params, "state", tuple(s.value for s in AlertState)),
            severities=comma_values(params, "severity", SEVERITIES),
            classifications=comma_values(params, "classification", CLASSIFICATIONS),
            ecosystems=ecosystems,
            packages=packages,
            manifests=() if organization else comma_values(params, "manifest"),
            epss_percentage=number_span(epss, "epss_percentage") if epss else None,
            has_patch="patch" in has,
            scope=scope,
            relationships=comma_values(params, "relationship", RELATIONSHIPS),
            assignees=tuple(a.lower() for a in comma_values(params, "assignee")),
        ),
        records=records,
        sort=sort,
        descending=direction == "desc",
        per_page=parse_per_page(request),
        after=None if after is None else decode_position(after, sort, "after"),
        before=None if before is None else decode_position(before, sort, "before"),
    )


class AgentAssignment(msgspec.Struct, forbid_unknown_fields=True):
    custom_instructions: str | None = None
    custom_agent: str | None = None
    model: str | None = None


class AlertUpdate(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["dismissed", "open"] | None = None
    dismissed_reason: DismissedReason | None = None
    dismissed_comment: Annotated[str, msgspec.Meta(max_length=280)] | None = None
    assignees: list[str] | None = None
    # Accepted as GitHub's schema allows; Waybill assigns no AI agents, so it changes nothing.
    agent_assignment: AgentAssignment | None = None


def _severity(value: str) -> str:
    # Advisories without a rating (``unknown``) show as low: the alert schema has only the four.
    return value if value in SEVERITIES else "low"


def _cvss(vector: str | None, score: float | None) -> dict[str, Any]:
    return {"vector_string": vector, "score": score}


def _vulnerability(item: dict[str, Any], severity: str) -> dict[str, Any]:
    patched = item["first_patched_version"]
    return {
        "package": item["package"],
        "severity": severity,
        "vulnerable_version_range": item["vulnerable_version_range"] or "",
        "first_patched_version": None if patched is None else {"identifier": patched},
    }


def security_advisory(adv: Advisory, vulns: list[Vulnerability], *, with_cvss: bool) -> dict[str, Any]:
    severity = _severity(adv.severity)
    body: dict[str, Any] = {
        "ghsa_id": adv.ghsa_id,
        "cve_id": adv.cve_id,
        "summary": adv.summary,
        "description": adv.description or "",
        "vulnerabilities": [_vulnerability(v, severity) for v in vulnerabilities(vulns)],
        "severity": severity,
        "classification": "malware" if adv.type == "malware" else "general",
    }
    if with_cvss:
        # ``score`` is required and not nullable here: 0 stands for "no CVSS rating".
        body["cvss"] = {"vector_string": adv.cvss_v3_vector, "score": adv.cvss_v3_score or 0.0}
    body["cvss_severities"] = {
        "cvss_v3": _cvss(adv.cvss_v3_vector, adv.cvss_v3_score),
        "cvss_v4": _cvss(adv.cvss_v4_vector, adv.cvss_v4_score),
    }
    has_epss = adv.epss_percentage is not None or adv.epss_percentile is not None
    body["epss"] = (
        {"percentage": adv.epss_percentage, "percentile": adv.epss_percentile} if has_epss else None
    )
    body["cwes"] = [{"cwe_id": c, "name": c} for c in adv.cwes]
    body["identifiers"] = adv.identifiers
    body["references"] = [{"url": url} for url in adv.reference_urls]
    body["published_at"] = iso(adv.published_at)
    body["updated_at"] = iso(adv.updated_at)
    body["withdrawn_at"] = iso_or_none(adv.withdrawn_at)
    return body


@dataclass(frozen=True)
class AlertView:
    """An alert with everything its shape shows."""

    alert: Alert
    repository: Repository
    advisory: Advisory
    vulnerabilities: list[Vulnerability]
    dismissed_by: Account | None
    assignees: list[Account]


def alert(
    view: AlertView, api: str, web: str, *, with_cvss: bool, with_repository: bool = False
) -> dict[str, Any]:
    row, repo = view.alert, view.repository
    severity = _severity(view.advisory.severity)
    package = {"ecosystem": row.ecosystem, "name": row.package_name}
    patched = row.first_patched_version
    body: dict[str, Any] = {
        "number": row.number,
        "state": row.state,
        "dependency": {
            "package": package,
            "manifest_path": row.manifest_path,
            "scope": row.scope,
            "relationship": row.relationship,
        },
        "security_advisory": security_advisory(view.advisory, view.vulnerabilities, with_cvss=with_cvss),
        "security_vulnerability": {
            "package": package,
            "severity": severity,
            "vulnerable_version_range": row.vulnerable_version_range,
            "first_patched_version": None if patched is None else {"identifier": patched},
        },
        "url": f"{api}/repos/{repo.full_name}/dependabot/alerts/{row.number}",
        "html_url": f"{web}/{repo.full_name}/security/dependabot/{row.number}",
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "dismissed_at": iso_or_none(row.dismissed_at),
        "dismissed_by": None
        if view.dismissed_by is None
        else account_schemas.simple_user(view.dismissed_by, api, web),
        "dismissed_reason": row.dismissed_reason,
        "dismissed_comment": row.dismissed_comment,
        "fixed_at": iso_or_none(row.fixed_at),
        "auto_dismissed_at": iso_or_none(row.auto_dismissed_at),
        "assignees": [account_schemas.simple_user(a, api, web) for a in view.assignees],
    }
    if with_repository:
        body["repository"] = account_schemas.simple_repository(repo, api, web)
    return body


def position_of(view: AlertView, sort: str) -> Position:
    row = view.alert
    value = {
        "created": row.created_at,
        "updated": row.updated_at,
        "epss_percentage": epss_sort_value(view.advisory.epss_percentage),
    }[sort]
    return Position(value, row.id)
