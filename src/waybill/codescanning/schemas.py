"""Code scanning at the edge: request bodies and list queries parsed into typed values, and GitHub's
``code-scanning-*`` response shapes."""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec

from waybill.accounts import schemas as account_schemas
from waybill.accounts.types import Account, Repository
from waybill.artifacts.schemas import record_filter
from waybill.artifacts.types import RecordFilter
from waybill.codescanning.repository import AlertFilter, AnalysisFilter
from waybill.codescanning.types import (
    AlertState,
    Analysis,
    CodeScanningAlert,
    Instance,
    SecuritySeverity,
    Upload,
)
from waybill.core.clock import iso, iso_or_none
from waybill.core.keyset import Position
from waybill.http.pagination import page as parse_page
from waybill.http.pagination import per_page as parse_per_page
from waybill.http.query import comma_values, invalid, one_of

CommitSha = Annotated[str, msgspec.Meta(pattern=r"^([0-9a-fA-F]{40}(?:[0-9a-fA-F]{24})?)$")]
FullRef = Annotated[str, msgspec.Meta(pattern=r"^refs/(heads|tags|pull)/.*$", max_length=1024)]
LEVELS = ("error", "warning", "note")


class SarifUpload(msgspec.Struct, forbid_unknown_fields=True):
    commit_sha: CommitSha
    ref: FullRef
    sarif: str
    checkout_uri: Annotated[str, msgspec.Meta(max_length=4096)] | None = None
    started_at: datetime | None = None
    tool_name: Annotated[str, msgspec.Meta(max_length=256)] | None = None
    validate: bool | None = None


class AlertUpdate(msgspec.Struct, forbid_unknown_fields=True):
    state: Literal["open", "dismissed"] | None = None
    dismissed_reason: Literal["false positive", "won't fix", "used in tests", "mitigated"] | None = None
    dismissed_comment: Annotated[str, msgspec.Meta(max_length=280)] | None = None
    create_request: bool | None = None
    assignees: list[str] | None = None


def _text(params: Any, name: str) -> str | None:
    value = params.get(name)
    return value if value else None


def query_ref(params: Any) -> str | None:
    """``ref`` as a full ref (a bare branch name means ``refs/heads/...``), or the pull request's
    merge ref for ``pr``."""
    pr = params.get("pr")
    if pr:
        if not pr.isdigit() or len(pr) > 9:
            raise invalid("pr", "pr must be a pull request number", pr)
        return f"refs/pull/{int(pr)}/merge"
    ref = _text(params, "ref")
    if ref is None:
        return None
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


@dataclass(frozen=True)
class AnalysisQuery:
    filter: AnalysisFilter
    descending: bool
    per_page: int
    page: int


def analysis_query(request: Any) -> AnalysisQuery:
    params = request.query_params
    one_of(params, "sort", ("created",))
    direction = one_of(params, "direction", ("asc", "desc"), "desc")
    return AnalysisQuery(
        filter=AnalysisFilter(
            tool_name=_text(params, "tool_name"),
            tool_guid=_text(params, "tool_guid"),
            ref=query_ref(params),
            sarif_id=_text(params, "sarif_id"),
        ),
        descending=direction == "desc",
        per_page=parse_per_page(request),
        page=parse_page(request),
    )


@dataclass(frozen=True)
class AlertQuery:
    filter: AlertFilter
    records: RecordFilter
    sort: str
    descending: bool
    per_page: int
    page: int
    after: Position | None
    before: Position | None


STATE_QUERY = ("open", "closed", "dismissed", "fixed")
SEVERITY_QUERY = ("critical", "high", "medium", "low", "warning", "note", "error")


def _states(params: Any) -> tuple[str, ...]:
    states = comma_values(params, "state", STATE_QUERY)
    out: list[str] = []
    for state in states:
        out += [AlertState.DISMISSED.value, AlertState.FIXED.value] if state == "closed" else [state]
    return tuple(dict.fromkeys(out))


def encode_position(sort: str, position: Position) -> str:
    # Full precision: alerts of one analysis share a second.
    value = position.value.isoformat() if isinstance(position.value, datetime) else position.value
    raw = json.dumps([sort, value, position.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_position(raw: str, sort: str, field: str) -> Position:
    try:
        text = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        tag, value, ident = json.loads(text)
        if tag != sort or not isinstance(ident, int):
            raise ValueError(tag)
        if sort == "number":
            if not isinstance(value, int):
                raise ValueError(value)
            return Position(value, ident)
        return Position(datetime.fromisoformat(str(value).replace("Z", "+00:00")), ident)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        raise invalid(field, f"{field} is not a valid cursor", raw) from None


def alert_query(request: Any, *, organization: bool) -> AlertQuery:
    params = request.query_params
    sorts = ("created", "updated") if organization else ("created", "number", "updated")
    sort = one_of(params, "sort", sorts, "created") or "created"
    direction = one_of(params, "direction", ("asc", "desc"), "desc")
    severities = comma_values(params, "severity", SEVERITY_QUERY)
    after, before = params.get("after") or None, params.get("before") or None
    if after and before:
        raise invalid("before", "use either before or after, not both")
    records = RecordFilter()
    if organization:
        has = comma_values(params, "has", ("deployment",))
        records = record_filter(params, deployed="deployment" in has)
    return AlertQuery(
        filter=AlertFilter(
            tool_name=_text(params, "tool_name"),
            tool_guid=_text(params, "tool_guid"),
            ref=None if organization else query_ref(params),
            states=_states(params),
            security_severities=tuple(s for s in severities if s in tuple(SecuritySeverity)),
            levels=tuple(s for s in severities if s in LEVELS),
        ),
        records=records,
        sort=sort,
        descending=direction == "desc",
        per_page=parse_per_page(request),
        page=parse_page(request),
        after=None if after is None else decode_position(after, sort, "after"),
        before=None if before is None else decode_position(before, sort, "before"),
    )


def position_of(alert: CodeScanningAlert, sort: str) -> Position:
    value = {"created": alert.created_at, "updated": alert.updated_at, "number": alert.number}[sort]
    return Position(value, alert.id)


# Responses.


def receipt(sarif_id: str, api: str, repo: Repository) -> dict[str, Any]:
    return {"id": sarif_id, "url": f"{api}/repos/{repo.full_name}/code-scanning/sarifs/{sarif_id}"}


def upload_status(
    upload: Upload, status: str, errors: list[str] | None, api: str, repo: Repository
) -> dict[str, Any]:
    analyses = f"{api}/repos/{repo.full_name}/code-scanning/analyses?sarif_id={upload.id}"
    return {
        "processing_status": status,
        "analyses_url": analyses if status == "complete" else None,
        "errors": errors,
    }


def tool(name: str, version: str | None, guid: str | None) -> dict[str, Any]:
    return {"name": name, "version": version, "guid": guid}


def analysis(row: Analysis, api: str, repo: Repository, *, deletable: bool) -> dict[str, Any]:
    return {
        "ref": row.ref,
        "commit_sha": row.commit_sha,
        "analysis_key": row.analysis_key,
        "environment": row.environment,
        "category": row.category,
        "error": "",
        "created_at": iso(row.created_at),
        "results_count": row.results_count,
        "rules_count": row.rules_count,
        "id": row.id,
        "url": f"{api}/repos/{repo.full_name}/code-scanning/analyses/{row.id}",
        "sarif_id": row.sarif_id,
        "tool": tool(row.tool_name, row.tool_version, row.tool_guid),
        "deletable": deletable,
        "warning": row.warning,
    }


def deletion(next_id: int | None, confirm: bool, api: str, repo: Repository) -> dict[str, Any]:
    base = f"{api}/repos/{repo.full_name}/code-scanning/analyses"
    next_url = None if next_id is None else f"{base}/{next_id}"
    return {
        "next_analysis_url": next_url,
        "confirm_delete_url": f"{next_url}?confirm_delete" if next_url is not None and confirm else None,
    }


def _location(row: Instance) -> dict[str, Any]:
    location: dict[str, Any] = {"path": row.path}
    for name in ("start_line", "end_line", "start_column", "end_column"):
        value = getattr(row, name)
        if value is not None:
            location[name] = value
    return location


_TEST_DIRECTORIES = frozenset({"test", "tests", "__tests__", "spec", "specs", "testdata", "testing"})
_LIBRARY_DIRECTORIES = frozenset({"node_modules", "vendor", "third_party", "third-party", "site-packages"})
_GENERATED_DIRECTORIES = frozenset({"generated", "__generated__", "gen"})
_TEST_FILE = re.compile(
    r"^(test_.*\.py|.*_test\.(py|go|rb)|.*\.(test|spec)\.[jt]sx?|.*Tests?\.(java|kt|cs))$"
)
_GENERATED_FILE = re.compile(
    r"^(.*_pb2(_grpc)?\.pyi?|.*\.pb\.go|.*\.min\.(js|css)|.*\.g\.dart|.*\.designer\.cs)$"
)


def classifications(path: str, tagged: list[str] | None = None) -> list[str]:
    """What GitHub's classification of an alert's file would say, from its path and from what the
    SARIF's tags said of it (``tagged``): ``test``, ``library`` or ``generated`` code (several may
    apply); a plain source file gets none."""
    directories = {part.lower() for part in path.split("/")[:-1]}
    name = path.rsplit("/", 1)[-1]
    found: list[str] = []
    if directories & _TEST_DIRECTORIES or _TEST_FILE.match(name):
        found.append("test")
    if directories & _LIBRARY_DIRECTORIES:
        found.append("library")
    if directories & _GENERATED_DIRECTORIES or _GENERATED_FILE.match(name):
        found.append("generated")
    for name in tagged or ():
        if name not in found:
            found.append(name)
    return [c for c in ("test", "library", "generated") if c in found]


def instance(row: Instance, web: str, repo: Repository, state: str | None = None) -> dict[str, Any]:
    anchor = f"#L{row.start_line}" if row.start_line is not None else ""
    return {
        "ref": row.ref,
        "analysis_key": row.analysis_key,
        "environment": row.environment,
        "category": row.category,
        "state": state or row.state,
        "commit_sha": row.commit_sha,
        "message": {"text": row.message},
        "location": _location(row),
        "html_url": f"{web}/{repo.full_name}/blob/{row.commit_sha}/{row.path}{anchor}",
        "classifications": classifications(row.path, row.classifications),
    }


@dataclass(frozen=True)
class AlertView:
    """An alert with everything its shape shows."""

    alert: CodeScanningAlert
    repository: Repository
    instance: Instance | None
    dismissed_by: Account | None
    assignees: list[Account]
    # The state shown: the alert's, or its state on the ref the list asked for.
    state: str


def _rule(row: CodeScanningAlert) -> dict[str, Any]:
    return {
        "id": row.rule_id,
        "name": row.rule_name,
        "severity": row.rule_severity,
        "security_severity_level": row.security_severity_level,
        "description": row.rule_description,
        "full_description": row.rule_full_description,
        "tags": list(row.rule_tags),
        "help": row.rule_help,
        "help_uri": row.rule_help_uri,
    }


def alert(view: AlertView, api: str, web: str, *, with_repository: bool = False) -> dict[str, Any]:
    row, repo = view.alert, view.repository
    url = f"{api}/repos/{repo.full_name}/code-scanning/alerts/{row.number}"
    instance_row = view.instance
    body: dict[str, Any] = {
        "number": row.number,
        "created_at": iso(row.created_at),
        "updated_at": iso(row.updated_at),
        "url": url,
        "html_url": f"{web}/{repo.full_name}/security/code-scanning/{row.number}",
        "instances_url": f"{url}/instances",
        "state": view.state,
        "fixed_at": iso_or_none(row.fixed_at),
        "dismissed_by": None
        if view.dismissed_by is None
        else account_schemas.simple_user(view.dismissed_by, api, web),
        "dismissed_at": iso_or_none(row.dismissed_at),
        "dismissed_reason": row.dismissed_reason,
        "dismissed_comment": row.dismissed_comment,
        "rule": _rule(row),
        "tool": tool(row.tool_name, row.tool_version, row.tool_guid),
        "most_recent_instance": {} if instance_row is None else instance(instance_row, web, repo),
        "dismissal_approved_by": None,
        "assignees": [account_schemas.simple_user(a, api, web) for a in view.assignees],
    }
    if with_repository:
        body["repository"] = account_schemas.simple_repository(repo, api, web)
    return body
