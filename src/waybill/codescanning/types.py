"""Value types of code scanning: the closed sets GitHub names, a SARIF upload once it is parsed, and
the uploads, analyses, alerts and instances as stored."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class ProcessingStatus(StrEnum):
    PENDING = "pending"
    COMPLETE = "complete"
    FAILED = "failed"


class AlertState(StrEnum):
    OPEN = "open"
    DISMISSED = "dismissed"
    FIXED = "fixed"


class InstanceState(StrEnum):
    OPEN = "open"
    FIXED = "fixed"


class RuleSeverity(StrEnum):
    """A result's level as code scanning shows it (SARIF's ``level``)."""

    NONE = "none"
    NOTE = "note"
    WARNING = "warning"
    ERROR = "error"


class SecuritySeverity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class DismissedReason(StrEnum):
    FALSE_POSITIVE = "false positive"
    WONT_FIX = "won't fix"
    USED_IN_TESTS = "used in tests"
    MITIGATED = "mitigated"


# Most severe first: the order in which a run's results are kept when it has too many.
SEVERITY_RANK = {
    SecuritySeverity.CRITICAL: 0,
    SecuritySeverity.HIGH: 1,
    SecuritySeverity.MEDIUM: 2,
    SecuritySeverity.LOW: 3,
}
LEVEL_RANK = {RuleSeverity.ERROR: 0, RuleSeverity.WARNING: 1, RuleSeverity.NOTE: 2, RuleSeverity.NONE: 3}


@dataclass(frozen=True)
class Rule:
    id: str
    name: str
    severity: RuleSeverity
    security_severity_level: SecuritySeverity | None
    description: str
    full_description: str
    tags: tuple[str, ...]
    help: str | None
    help_uri: str | None


@dataclass(frozen=True)
class Location:
    path: str
    start_line: int | None
    end_line: int | None
    start_column: int | None
    end_column: int | None


@dataclass(frozen=True)
class Finding:
    """One result of a run: a rule at a place, with the fingerprint that names its alert."""

    rule: Rule
    fingerprint: str
    message: str
    location: Location
    level: RuleSeverity
    # What the SARIF's tags say of the result's file (``test``, ``library``, ``generated``).
    classifications: tuple[str, ...] = ()


@dataclass(frozen=True)
class Run:
    """One SARIF run: what becomes one analysis."""

    index: int
    tool_name: str
    tool_version: str | None
    tool_guid: str | None
    category: str
    findings: list[Finding]
    rules_count: int
    # Results left out by GitHub's limits ("123 results were ignored"), as the analysis warns.
    ignored: int = 0


@dataclass(frozen=True)
class Sarif:
    """An upload, decoded and validated: the runs to store and the document for SARIF downloads."""

    runs: list[Run]
    document: dict[str, Any] = field(repr=False)


@dataclass(frozen=True)
class Upload:
    """A SARIF upload, without its file."""

    id: str
    repository_id: int
    commit_sha: str
    ref: str
    checkout_uri: str | None
    status: ProcessingStatus
    errors: list[str] | None
    job_id: int | None
    uploaded_by_id: int | None


@dataclass(frozen=True)
class UploadWithFile(Upload):
    gzipped: bytes = field(repr=False)


@dataclass(frozen=True)
class Analysis:
    id: int
    repository_id: int
    sarif_id: str
    run_index: int
    ref: str
    commit_sha: str
    analysis_key: str
    environment: str
    category: str
    tool_name: str
    tool_version: str | None
    tool_guid: str | None
    results_count: int
    rules_count: int
    warning: str
    created_at: datetime


@dataclass(frozen=True)
class RuleMetadata:
    """The rule metadata an alert keeps from its newest run."""

    tool_version: str | None
    tool_guid: str | None
    rule_name: str
    rule_severity: RuleSeverity
    security_severity_level: SecuritySeverity | None
    rule_description: str
    rule_full_description: str
    rule_tags: list[str]
    rule_help: str | None
    rule_help_uri: str | None


@dataclass(frozen=True)
class AlertRule(RuleMetadata):
    """An alert's identity and its rule metadata (what an analysis compares with its own run's,
    attribute by attribute)."""

    id: int
    identity: str


@dataclass(frozen=True)
class CodeScanningAlert(RuleMetadata):
    id: int
    repository_id: int
    number: int
    tool_name: str
    rule_id: str
    state: AlertState
    created_at: datetime
    updated_at: datetime
    fixed_at: datetime | None
    dismissed_at: datetime | None
    dismissed_by_id: int | None
    dismissed_reason: DismissedReason | None
    dismissed_comment: str | None


@dataclass(frozen=True)
class Instance:
    """Where and how an alert was last seen on one ref and category."""

    id: int
    ref: str
    category: str
    analysis_key: str
    environment: str
    state: InstanceState
    commit_sha: str
    message: str
    path: str
    start_line: int | None
    end_line: int | None
    start_column: int | None
    end_column: int | None
    # The classifications the SARIF's tags gave.
    classifications: list[str] | None
    updated_at: datetime


@dataclass(frozen=True)
class RefState:
    """An instance's ref and state: what settles its alert's state."""

    ref: str
    state: InstanceState
