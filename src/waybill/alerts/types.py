"""Values of Dependabot alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from waybill.advisories.types import Span


class AlertState(StrEnum):
    OPEN = "open"
    FIXED = "fixed"
    DISMISSED = "dismissed"
    AUTO_DISMISSED = "auto_dismissed"


@dataclass(frozen=True)
class AlertFilter:
    """GitHub's alert list filters, parsed; empty tuples filter nothing."""

    states: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    classifications: tuple[str, ...] = ()
    ecosystems: tuple[str, ...] = ()
    # (ecosystem, package key) pairs a ``package`` name may mean.
    packages: tuple[tuple[str, str], ...] = ()
    manifests: tuple[str, ...] = ()
    epss_percentage: Span | None = None
    has_patch: bool = False
    scope: str | None = None
    relationships: tuple[str, ...] = ()
    # Logins, lower-cased; ``*``: any assignee; ``none``: no assignee.
    assignees: tuple[str, ...] = ()
    # Repositories allowed by the production-context filters (None: no such filter).
    repository_ids: frozenset[int] | None = None


@dataclass(frozen=True)
class Alert:
    id: int
    repository_id: int
    number: int
    advisory_id: int
    identity: str
    ecosystem: str
    package_name: str
    package_key: str
    package_url: str
    manifest_path: str
    version: str | None
    scope: str | None
    relationship: str
    vulnerable_version_range: str
    first_patched_version: str | None
    present: bool
    state: AlertState
    created_at: datetime
    updated_at: datetime
    dismissed_at: datetime | None
    dismissed_by_id: int | None
    dismissed_reason: str | None
    dismissed_comment: str | None
    fixed_at: datetime | None
    auto_dismissed_at: datetime | None


@dataclass(frozen=True)
class AlertEvent:
    """One change of an alert's state or severity, with the one it repeats (None: it opened)."""

    id: int
    alert_id: int
    state: str
    severity: str
    occurred_at: datetime
    prior_state: str | None
    prior_severity: str | None
    prior_at: datetime | None
    prior_seconds: float | None


@dataclass(frozen=True)
class Flow:
    """How alerts moved in one bucket of time at one severity (``repository.alert_flow``)."""

    bucket: int
    severity: str | None
    prior_severity: str | None
    entered: int
    exited: int
    opened: int
    fixed: int
