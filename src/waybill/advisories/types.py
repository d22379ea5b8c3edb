"""Values of the advisory database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from waybill.advisories.ecosystems import Ecosystem


class AdvisoryType(StrEnum):
    REVIEWED = "reviewed"
    UNREVIEWED = "unreviewed"
    MALWARE = "malware"


class SeverityLevel(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Bound:
    """One side of a range filter: the value, and whether it is included."""

    value: Any
    inclusive: bool


@dataclass(frozen=True)
class Span:
    lower: Bound | None = None
    upper: Bound | None = None


@dataclass(frozen=True)
class AdvisoryFilter:
    type: str
    ghsa_id: str | None = None
    cve_id: str | None = None
    ecosystem: str | None = None
    severity: str | None = None
    cwes: tuple[str, ...] = ()
    is_withdrawn: bool | None = None
    # Advisory row ids allowed by ``affects`` (None: no such filter).
    ids: frozenset[int] | None = None
    published: Span | None = None
    updated: Span | None = None
    modified: Span | None = None
    epss_percentage: Span | None = None
    epss_percentile: Span | None = None


@dataclass(frozen=True)
class Affects:
    """One ``affects`` item: a package name, with or without a version."""

    name: str
    version: str | None


@dataclass(frozen=True)
class Advisory:
    id: int
    ghsa_id: str
    cve_id: str | None
    type: AdvisoryType
    severity: SeverityLevel
    summary: str
    description: str | None
    source_code_location: str | None
    identifiers: list[dict[str, str]]
    reference_urls: list[str]
    cwes: list[str]
    cvss_v3_vector: str | None
    cvss_v3_score: float | None
    cvss_v4_vector: str | None
    cvss_v4_score: float | None
    epss_percentage: float | None
    epss_percentile: float | None
    published_at: datetime
    updated_at: datetime
    github_reviewed_at: datetime | None
    nvd_published_at: datetime | None
    withdrawn_at: datetime | None


@dataclass(frozen=True)
class Vulnerability:
    """One package an advisory affects, with its vulnerable ranges."""

    advisory_id: int
    ecosystem: Ecosystem
    package_name: str
    package_key: str
    ranges: list[dict[str, Any]]
    versions: list[str]
    vulnerable_functions: list[str]


@dataclass(frozen=True)
class AffectedPackage:
    """One package an advisory affects, under the advisory's GHSA id: what matching reads."""

    advisory_id: int
    ghsa_id: str
    ecosystem: Ecosystem
    package_name: str
    package_key: str
    ranges: list[dict[str, Any]]
    versions: list[str]


@dataclass(frozen=True)
class ImportedDocument:
    """An OSV document as it was imported, under the GHSA id it belongs to."""

    ghsa_id: str
    document: dict[str, Any]
