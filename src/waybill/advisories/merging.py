"""From OSV documents to GitHub's advisory: identifier, type, severity and the merge of several
documents that describe one GHSA advisory. Pure functions, no database.

Identifiers: GitHub names every advisory by a GHSA id. A document's GHSA id is its own id when that
is one, else its first GHSA alias. A document with neither (a PYSEC record without GHSA alias) keeps
its OSV id as its identifier: it is served as ``ghsa_id`` (``/advisories/PYSEC-2021-76``), while
``identifiers`` lists only real GHSA and CVE ids, the two kinds GitHub's schema allows there.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
from cvss import CVSS2, CVSS3, CVSS4, CVSSError  # type: ignore[import-untyped]

from waybill.advisories import ecosystems
from waybill.advisories.matching import VERSION_RANGE_TYPES
from waybill.advisories.osv import Document, Severity
from waybill.advisories.types import AdvisoryType, SeverityLevel

SUMMARY_MAX = 1024
DESCRIPTION_MAX = 65535
_CWE = re.compile(r"^CWE-\d+$")


_GHSA_SEVERITY = {
    "CRITICAL": SeverityLevel.CRITICAL,
    "HIGH": SeverityLevel.HIGH,
    "MODERATE": SeverityLevel.MEDIUM,
    "MEDIUM": SeverityLevel.MEDIUM,
    "LOW": SeverityLevel.LOW,
}


def ghsa_id(doc: Document) -> str:
    if doc.id.startswith("GHSA-"):
        return doc.id
    for alias in doc.aliases:
        if alias.startswith("GHSA-"):
            return alias
    return doc.id


def content_hash(doc: Document) -> str:
    return hashlib.sha256(msgspec.json.encode(doc)).hexdigest()


def level_of_score(score: float | None) -> SeverityLevel:
    """CVSS's qualitative ratings, as GitHub applies them."""
    if score is None or score <= 0:
        return SeverityLevel.UNKNOWN
    if score >= 9.0:
        return SeverityLevel.CRITICAL
    if score >= 7.0:
        return SeverityLevel.HIGH
    if score >= 4.0:
        return SeverityLevel.MEDIUM
    return SeverityLevel.LOW


def _score(severity: Severity) -> float | None:
    try:
        match severity.type:
            case "CVSS_V3":
                return float(CVSS3(severity.score).base_score)
            case "CVSS_V4":
                return float(CVSS4(severity.score).base_score)
            case "CVSS_V2":
                return float(CVSS2(severity.score).base_score)
    except (CVSSError, ValueError, KeyError, IndexError):
        return None
    return None


@dataclass(frozen=True)
class Cvss:
    v3_vector: str | None = None
    v3_score: float | None = None
    v4_vector: str | None = None
    v4_score: float | None = None
    v2_score: float | None = None


def cvss_of(doc: Document) -> Cvss:
    found: dict[str, tuple[str, float]] = {}
    severities = [*doc.severity, *(s for a in doc.affected for s in a.severity)]
    for severity in severities:
        if severity.type in found:
            continue
        score = _score(severity)
        if score is not None:
            found[severity.type] = (severity.score, score)
    v3, v4, v2 = found.get("CVSS_V3"), found.get("CVSS_V4"), found.get("CVSS_V2")
    return Cvss(
        v3_vector=v3[0] if v3 else None,
        v3_score=v3[1] if v3 else None,
        v4_vector=v4[0] if v4 else None,
        v4_score=v4[1] if v4 else None,
        v2_score=v2[1] if v2 else None,
    )


def severity_of(doc: Document, cvss: Cvss) -> SeverityLevel:
    """The database's own rating when it gives one (GitHub's OSV export does), else from CVSS."""
    given = str((doc.database_specific or {}).get("severity") or "").upper()
    if given in _GHSA_SEVERITY:
        return _GHSA_SEVERITY[given]
    for score in (cvss.v3_score, cvss.v4_score, cvss.v2_score):
        if score is not None:
            return level_of_score(score)
    return SeverityLevel.UNKNOWN


def type_of(doc: Document) -> AdvisoryType:
    specific = doc.database_specific or {}
    if doc.id.startswith("MAL-") or "malicious-packages-origins" in specific:
        return AdvisoryType.MALWARE
    # GitHub's export marks its unreviewed advisories; other curated databases (PyPA, RustSec, Go)
    # review what they publish, so their records count as reviewed and GitHub's default list shows them.
    if str(specific.get("github_reviewed", "")).lower() == "false":
        return AdvisoryType.UNREVIEWED
    return AdvisoryType.REVIEWED


def _timestamp(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if not isinstance(value, str) or not value:
        return None
    try:
        return msgspec.convert(value, datetime)
    except msgspec.ValidationError:
        return None


def _summary(doc: Document) -> str:
    if doc.summary and doc.summary.strip():
        text = " ".join(doc.summary.split())
    elif doc.details and doc.details.strip():
        first = doc.details.strip().split("\n\n", 1)[0]
        text = " ".join(first.split())
    else:
        text = doc.id
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1] + "…"


@dataclass(frozen=True)
class VulnerableRow:
    osv_id: str
    ecosystem: ecosystems.Ecosystem
    package_name: str
    package_key: str
    ranges: list[dict[str, Any]]
    versions: list[str]
    vulnerable_functions: list[str]


@dataclass
class Merged:
    """An advisory as GitHub keeps it, built from every document naming its GHSA id."""

    ghsa_id: str
    cve_id: str | None
    type: AdvisoryType
    severity: SeverityLevel
    summary: str
    description: str | None
    source_code_location: str | None
    identifiers: list[dict[str, str]]
    references: list[str]
    cwes: list[str]
    cvss: Cvss
    epss_percentage: float | None
    epss_percentile: float | None
    published_at: datetime
    updated_at: datetime
    github_reviewed_at: datetime | None
    nvd_published_at: datetime | None
    withdrawn_at: datetime | None
    vulnerabilities: list[VulnerableRow] = field(default_factory=list)


def _vulnerabilities(doc: Document) -> list[VulnerableRow]:
    rows: list[VulnerableRow] = []
    for affected in doc.affected:
        if affected.package is None:
            continue
        ecosystem = ecosystems.parse(affected.package.ecosystem)
        if ecosystem is None:
            continue
        functions = (affected.ecosystem_specific or {}).get("affected_functions")
        rows.append(
            VulnerableRow(
                osv_id=doc.id,
                ecosystem=ecosystem,
                package_name=affected.package.name,
                package_key=ecosystems.normalise_name(ecosystem, affected.package.name),
                ranges=[
                    msgspec.to_builtins(r, order="deterministic")
                    for r in affected.ranges
                    if r.type in VERSION_RANGE_TYPES
                ],
                versions=list(affected.versions),
                vulnerable_functions=[f for f in functions if isinstance(f, str)]
                if isinstance(functions, list)
                else [],
            )
        )
    return rows


def _unique(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _lead_first(ghsa: str, docs: list[Document]) -> list[Document]:
    """The document named by the GHSA id itself, else the most recently modified live one, first."""
    return sorted(docs, key=lambda d: (d.id != ghsa, d.withdrawn is not None, -d.modified.timestamp(), d.id))


def _identifiers(ghsa: str, cves: list[str]) -> list[dict[str, str]]:
    own = [{"type": "GHSA", "value": ghsa}] if ghsa.startswith("GHSA-") else []
    return own + [{"type": "CVE", "value": c} for c in cves]


def _cwes(ordered: list[Document]) -> list[str]:
    named = [c for d in ordered for c in (d.database_specific or {}).get("cwe_ids", []) or []]
    return _unique([c for c in named if isinstance(c, str) and _CWE.match(c)])


def _source_code_location(ordered: list[Document]) -> str | None:
    repos = (r.repo for d in ordered for a in d.affected for r in a.ranges if r.type == "GIT" and r.repo)
    return next(repos, None)


def _epss(lead: Document) -> tuple[float | None, float | None]:
    """The (percentage, percentile) the lead document's EPSS gives."""
    raw = (lead.database_specific or {}).get("epss")
    epss: dict[str, Any] = raw if isinstance(raw, dict) else {}
    return _float(epss.get("percentage")), _float(epss.get("percentile"))


def _cves(ordered: list[Document]) -> list[str]:
    aliases = _unique([a for d in ordered for a in (d.id, *d.aliases)])
    return [a for a in aliases if a.startswith("CVE-")]


def _withdrawn_at(docs: list[Document]) -> datetime | None:
    """When the last document was withdrawn, once every one is; None while any stands."""
    withdrawn = [d.withdrawn for d in docs]
    return None if None in withdrawn else max(w for w in withdrawn if w is not None)


def _merged_vulnerabilities(docs: list[Document]) -> list[VulnerableRow]:
    # A withdrawn document stops contributing packages while others still stand; an advisory
    # withdrawn whole keeps them for display (matching skips withdrawn advisories).
    live = [d for d in docs if d.withdrawn is None]
    return [v for d in sorted(live or docs, key=lambda d: d.id) for v in _vulnerabilities(d)]


def _description(lead: Document) -> str | None:
    return None if lead.details is None else lead.details[:DESCRIPTION_MAX]


def merge(ghsa: str, docs: list[Document]) -> Merged:
    """One advisory from its documents (at least one). The lead document (``_lead_first``) gives
    the text and ratings; the rest add packages, aliases, references and weaknesses."""
    ordered = _lead_first(ghsa, docs)
    lead = ordered[0]
    specific = lead.database_specific or {}
    cves = _cves(ordered)
    cvss = next((c for d in ordered if (c := cvss_of(d)) != Cvss()), Cvss())
    epss_percentage, epss_percentile = _epss(lead)
    return Merged(
        ghsa_id=ghsa,
        cve_id=cves[0] if cves else None,
        type=type_of(lead),
        severity=severity_of(lead, cvss),
        summary=_summary(lead),
        description=_description(lead),
        source_code_location=_source_code_location(ordered),
        identifiers=_identifiers(ghsa, cves),
        references=_unique([r.url for d in ordered for r in d.references]),
        cwes=_cwes(ordered),
        cvss=cvss,
        epss_percentage=epss_percentage,
        epss_percentile=epss_percentile,
        published_at=min(d.published or d.modified for d in docs),
        updated_at=max(d.modified for d in docs),
        github_reviewed_at=_timestamp(specific.get("github_reviewed_at")),
        nvd_published_at=_timestamp(specific.get("nvd_published_at")),
        withdrawn_at=_withdrawn_at(docs),
        vulnerabilities=_merged_vulnerabilities(docs),
    )


def _float(value: Any) -> float | None:
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
