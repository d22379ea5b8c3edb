"""Values of Dependabot alerts."""

from __future__ import annotations

from dataclasses import dataclass
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
