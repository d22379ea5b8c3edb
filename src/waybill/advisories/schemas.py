"""The global advisories' query parameters parsed into typed values, and GitHub's advisory shapes."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from waybill.advisories.ecosystems import Ecosystem
from waybill.advisories.matching import describe
from waybill.advisories.types import (
    Advisory,
    AdvisoryFilter,
    AdvisoryType,
    Affects,
    Bound,
    SeverityLevel,
    Span,
    Vulnerability,
)
from waybill.core.clock import iso, iso_or_none
from waybill.core.keyset import Position
from waybill.http.pagination import per_page as parse_per_page
from waybill.http.query import comma_list, invalid, one_of

# API versions from 2026-03-10 on drop the deprecated top-level ``cvss`` of advisories.
CVSS_REMOVED_IN = "2026-03-10"
MAX_AFFECTS = 1000
# Sorts (of advisories and of alerts) whose cursor value is a time.
DATE_SORTS = ("published", "updated", "created")
SORTS = ("published", "updated", "epss_percentage", "epss_percentile")
# GitHub's ecosystem names; ``other`` is valid to ask for, though nothing imported carries it.
ECOSYSTEM_NAMES = (*(e.value for e in Ecosystem), "other")
_RANGE = re.compile(r"^(>=|<=|>|<)?(.+)$")


def _instant(text: str, field: str) -> tuple[datetime, bool]:
    """A date or a date-time; the flag says whether it was a whole day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC), True
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(field, f"{field} is not a date or date range", text) from None
    return (value if value.tzinfo else value.replace(tzinfo=UTC)), False


def date_span(text: str, field: str) -> Span:
    """GitHub's search syntax for dates: ``2023-01-01``, ``>=2023-01-01``, ``2023-01-01..2023-02-01``,
    ``2023-01-01..*``, date-times allowed; a bare date covers the whole day."""
    text = text.strip()
    day = timedelta(days=1)
    if ".." in text:
        low, _, high = text.partition("..")
        lower = upper = None
        if low.strip() not in ("", "*"):
            lower = Bound(_instant(low.strip(), field)[0], True)
        if high.strip() not in ("", "*"):
            value, whole = _instant(high.strip(), field)
            upper = Bound(value + day, False) if whole else Bound(value, True)
        return Span(lower, upper)
    match = _RANGE.match(text)
    if match is None:
        raise invalid(field, f"{field} is not a date or date range", text)
    op, rest = match.groups()
    value, whole = _instant(rest.strip(), field)
    end = value + day if whole else value
    match op:
        case ">":
            return Span(lower=Bound(end, True) if whole else Bound(value, False))
        case ">=":
            return Span(lower=Bound(value, True))
        case "<":
            return Span(upper=Bound(value, False))
        case "<=":
            return Span(upper=Bound(end, False) if whole else Bound(value, True))
        case _:
            return Span(Bound(value, True), Bound(end, False) if whole else Bound(value, True))


def _number(text: str, field: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise invalid(field, f"{field} is not a number or number range", text) from None


def number_span(text: str, field: str) -> Span:
    """``0.5``, ``>0.5``, ``>=0.5``, ``<0.5``, ``<=0.5``, ``0.1..0.5``, ``0.1..*``."""
    text = text.strip()
    if ".." in text:
        low, _, high = text.partition("..")
        return Span(
            None if low.strip() in ("", "*") else Bound(_number(low, field), True),
            None if high.strip() in ("", "*") else Bound(_number(high, field), True),
        )
    match = _RANGE.match(text)
    assert match is not None
    op, rest = match.groups()
    value = _number(rest, field)
    match op:
        case ">":
            return Span(lower=Bound(value, False))
        case ">=":
            return Span(lower=Bound(value, True))
        case "<":
            return Span(upper=Bound(value, False))
        case "<=":
            return Span(upper=Bound(value, True))
        case _:
            return Span(Bound(value, True), Bound(value, True))


def _affects(raw: str) -> Affects:
    # ``@scope/name@1.0``: the version follows the last '@' that is not the first character.
    at = raw.rfind("@")
    if at > 0:
        return Affects(raw[:at], raw[at + 1 :] or None)
    return Affects(raw, None)


def _cwe(raw: str) -> str:
    value = raw.upper().removeprefix("CWE-")
    if not value.isascii() or not value.isdigit():
        raise invalid("cwes", "cwes must be CWE numbers", raw)
    return f"CWE-{int(value)}"


def encode_position(sort: str, position: Position) -> str:
    value = position.value
    text = value.isoformat() if isinstance(value, datetime) else repr(float(value))
    return base64.urlsafe_b64encode(f"a1|{sort}|{text}|{position.id}".encode()).decode().rstrip("=")


def decode_position(raw: str, sort: str, field: str) -> Position:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)).decode()
        tag, cursor_sort, value, ident = text.split("|")
        if tag != "a1" or cursor_sort != sort:
            raise ValueError(text)
        parsed: Any = datetime.fromisoformat(value) if sort in DATE_SORTS else float(value)
        return Position(parsed, int(ident))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(field, f"{field} is not a valid cursor", raw) from None


@dataclass(frozen=True)
class AdvisoryQuery:
    filter: AdvisoryFilter
    affects: tuple[Affects, ...] | None
    ecosystem: Ecosystem | None
    sort: str
    descending: bool
    per_page: int
    after: Position | None
    before: Position | None


def advisory_query(request: Any) -> AdvisoryQuery:
    params = request.query_params
    sort = one_of(params, "sort", SORTS, "published") or "published"
    direction = one_of(params, "direction", ("asc", "desc"), "desc")
    ecosystem_name = one_of(params, "ecosystem", ECOSYSTEM_NAMES)
    withdrawn = one_of(params, "is_withdrawn", ("true", "false"))
    affects = comma_list(params, "affects")
    if len(affects) > MAX_AFFECTS:
        raise invalid("affects", f"affects allows at most {MAX_AFFECTS} packages")
    after, before = params.get("after") or None, params.get("before") or None
    if after and before:
        raise invalid("before", "use either before or after, not both")
    spans = {
        name: (date_span(params[name], name) if params.get(name) else None)
        for name in ("published", "updated", "modified")
    }
    epss = {
        name: (number_span(params[name], name) if params.get(name) else None)
        for name in ("epss_percentage", "epss_percentile")
    }
    ecosystem = None if ecosystem_name in (None, "other") else Ecosystem(str(ecosystem_name))
    return AdvisoryQuery(
        filter=AdvisoryFilter(
            type=one_of(params, "type", tuple(t.value for t in AdvisoryType), "reviewed") or "reviewed",
            ghsa_id=params.get("ghsa_id") or None,
            cve_id=params.get("cve_id") or None,
            ecosystem=ecosystem_name,
            severity=one_of(params, "severity", tuple(s.value for s in SeverityLevel)),
            cwes=tuple(_cwe(c) for c in comma_list(params, "cwes")),
            is_withdrawn=None if withdrawn is None else withdrawn == "true",
            published=spans["published"],
            updated=spans["updated"],
            modified=spans["modified"],
            epss_percentage=epss["epss_percentage"],
            epss_percentile=epss["epss_percentile"],
        ),
        affects=tuple(_affects(a) for a in affects) if affects else None,
        ecosystem=ecosystem,
        sort=sort,
        descending=direction == "desc",
        per_page=parse_per_page(request),
        after=None if after is None else decode_position(after, sort, "after"),
        before=None if before is None else decode_position(before, sort, "before"),
    )


def shows_cvss(api_version: str) -> bool:
    return api_version < CVSS_REMOVED_IN


def _cvss(vector: str | None, score: float | None) -> dict[str, Any]:
    return {"vector_string": vector, "score": score}


def vulnerabilities(rows: list[Vulnerability]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for v in rows:
        package = {"ecosystem": v.ecosystem, "name": v.package_name}
        described: list[tuple[str | None, str | None]] = list(describe(v.ecosystem, v.ranges))
        if not described:
            described = [(f"= {version}", None) for version in v.versions] or [(None, None)]
        for version_range, patched in described:
            out.append(
                {
                    "package": package,
                    "vulnerable_version_range": version_range,
                    "first_patched_version": patched,
                    "vulnerable_functions": list(v.vulnerable_functions),
                }
            )
    return out


def global_advisory(
    row: Advisory, vulns: list[Vulnerability], api: str, web: str, *, with_cvss: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ghsa_id": row.ghsa_id,
        "cve_id": row.cve_id,
        "url": f"{api}/advisories/{row.ghsa_id}",
        "html_url": f"{web}/advisories/{row.ghsa_id}",
        "repository_advisory_url": None,
        "summary": row.summary,
        "description": row.description,
        "type": row.type,
        "severity": row.severity,
        "source_code_location": row.source_code_location,
        "identifiers": row.identifiers,
        "references": row.reference_urls,
        "published_at": iso(row.published_at),
        "updated_at": iso(row.updated_at),
        "github_reviewed_at": iso_or_none(row.github_reviewed_at),
        "nvd_published_at": iso_or_none(row.nvd_published_at),
        "withdrawn_at": iso_or_none(row.withdrawn_at),
        "vulnerabilities": vulnerabilities(vulns),
    }
    if with_cvss:
        # The one ``cvss`` GitHub kept before 2026-03-10 is the v3 rating.
        body["cvss"] = _cvss(row.cvss_v3_vector, row.cvss_v3_score)
    body["cvss_severities"] = {
        "cvss_v3": _cvss(row.cvss_v3_vector, row.cvss_v3_score),
        "cvss_v4": _cvss(row.cvss_v4_vector, row.cvss_v4_score),
    }
    has_epss = row.epss_percentage is not None or row.epss_percentile is not None
    body["epss"] = (
        {"percentage": row.epss_percentage, "percentile": row.epss_percentile} if has_epss else None
    )
    # OSV carries CWE ids without their titles; the id stands in for the name.
    body["cwes"] = [{"cwe_id": c, "name": c} for c in row.cwes]
    # OSV credits name people, not accounts of this server: GitHub's ``credits`` need a user.
    body["credits"] = []
    return body


def epss_sort_value(epss: float | None) -> float:
    """The value the lists sort an EPSS figure by: -1 for none, as their SQL sorts it."""
    return -1.0 if epss is None else epss


def position_of(row: Advisory, sort: str) -> Position:
    value = {
        "published": row.published_at,
        "updated": row.updated_at,
        "epss_percentage": epss_sort_value(row.epss_percentage),
        "epss_percentile": epss_sort_value(row.epss_percentile),
    }[sort]
    return Position(value, row.id)
