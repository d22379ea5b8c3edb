"""Values of the advisory database."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


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
