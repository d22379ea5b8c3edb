"""The rules of code scanning: uploads queued and processed into analyses and alerts, alerts fixed
and reopened across analyses, dismissal, and the lists (per repository, and per organization with
production context)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.assignees import UnfitAssignees
from waybill.accounts.assignees import resolve as resolve_assignees
from waybill.accounts.types import Repository
from waybill.artifacts import service as artifacts
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Principal
from waybill.codescanning import access, sarif
from waybill.codescanning import repository as repo
from waybill.codescanning.schemas import AlertQuery, AlertUpdate, AlertView, AnalysisQuery, SarifUpload
from waybill.codescanning.types import (
    AlertState,
    Analysis,
    CodeScanningAlert,
    Finding,
    Instance,
    InstanceState,
    ProcessingStatus,
    RefState,
    Run,
    Upload,
)
from waybill.core import audit, clock, jobs, outbox
from waybill.core.db import Database
from waybill.core.errors import BadRequest, FieldError, NotFound, ValidationFailed
from waybill.core.keyset import SortedPage

PROCESS_JOB = "codescanning.process"
LAST_OF_SET = (
    "Analysis is last of its type and deletion may result in the loss of historical alert data. "
    "Please specify confirm_delete."
)


async def repository(
    conn: AsyncConnection, caller: Principal, owner: str, name: str, *, write: bool
) -> Repository:
    found = await accounts.find_repository(conn, owner, name)
    if found is None:
        raise NotFound()
    await access.require(conn, caller, found, write=write)
    return found


# Uploads.


async def queue_upload(
    conn: AsyncConnection, found: Repository, body: SarifUpload, gzipped: bytes, uploader_id: int | None
) -> str:
    """Store the (already checked) file and queue its processing; the upload's id."""
    sarif_id = str(uuid.uuid4())
    now = clock.now()
    await repo.insert_upload(
        conn,
        {
            "id": sarif_id,
            "repository_id": found.id,
            "commit_sha": body.commit_sha.lower(),
            "ref": body.ref,
            "checkout_uri": body.checkout_uri,
            "tool_name": body.tool_name,
            "started_at": body.started_at,
            "gzipped": gzipped,
            "status": ProcessingStatus.PENDING.value,
            "errors": None,
            "uploaded_by_id": uploader_id,
            "created_at": now,
        },
    )
    job_id = await jobs.enqueue(
        conn, PROCESS_JOB, {"sarif_id": sarif_id, "validate": bool(body.validate)}, key=sarif_id
    )
    await repo.set_upload(conn, sarif_id, {"job_id": job_id})
    await audit.record(
        conn, found.owner.id, "code_scanning.sarif_uploaded", repository_id=found.id, target=sarif_id
    )
    return sarif_id


@dataclass(frozen=True)
class UploadStatus:
    upload: Upload
    status: str
    errors: list[str] | None


async def upload_status(conn: AsyncConnection, found: Repository, sarif_id: str) -> UploadStatus:
    upload = await repo.upload(conn, found.id, sarif_id)
    if upload is None:
        raise NotFound()
    if upload.status == ProcessingStatus.PENDING and upload.job_id is not None:
        # A job that gave up for good leaves the upload pending: it failed.
        job = await jobs.get(conn, upload.job_id)
        if job is not None and job.status is jobs.JobStatus.FAILED:
            return UploadStatus(upload, ProcessingStatus.FAILED.value, [job.error or "processing failed"])
    return UploadStatus(upload, upload.status, upload.errors)


# Events.

ALERT_EVENT = "code_scanning_alert"


@dataclass(frozen=True)
class Change:
    """One ``code_scanning_alert`` event: GitHub's action, and the ref and commit that caused it
    (empty for a user's change, as GitHub sends them)."""

    alert_id: int
    action: str
    ref: str = ""
    commit_sha: str = ""


# What an event tells of an alert's state as it was at the change (the rest is read when it is sent).
_STATE_COLUMNS = ("state", "dismissed_at", "dismissed_by_id", "dismissed_reason", "dismissed_comment")


async def announce(
    conn: AsyncConnection, found: Repository, changes: Sequence[Change], *, sender_id: int | None
) -> None:
    """Queue the ``code_scanning_alert`` events of ``changes`` in the caller's transaction (nothing is
    queued when no hook hears them); their sender is ``sender_id``, else the repository's owner."""
    if not changes:
        return
    rows = {r.id: r for r in await repo.alerts_by_ids(conn, {c.alert_id for c in changes})}
    alerts = []
    for change in changes:
        row = rows.get(change.alert_id)
        if row is None:
            continue
        at = {name: getattr(row, name) for name in _STATE_COLUMNS}
        for name in ("dismissed_at",):
            at[name] = None if at[name] is None else clock.iso(at[name])
        alerts.append(
            {
                "number": row.number,
                "action": change.action,
                "ref": change.ref,
                "commit_oid": change.commit_sha,
                **at,
            }
        )
    payload = {"repository_id": found.id, "alerts": alerts, "sender_id": sender_id or found.owner.id}
    await outbox.publish(conn, found.owner.id, ALERT_EVENT, payload)


async def alert_views(conn: AsyncConnection, repository_id: int, numbers: Sequence[int]) -> list[AlertView]:
    """The views of a repository's alerts by number (for the webhooks' bodies)."""
    found = (await accounts.repositories_by_ids(conn, [repository_id])).get(repository_id)
    if found is None:
        return []
    rows = await repo.alerts_by_numbers(conn, repository_id, numbers)
    return await _views(conn, rows, {found.id: found}, None)


def identity(tool_name: str, finding: Finding) -> str:
    return hashlib.sha256("\x00".join((tool_name, finding.rule.id, finding.fingerprint)).encode()).hexdigest()


def _configuration(run: Run) -> dict[str, str]:
    key, environment = sarif.analysis_key_and_environment(run.category, run.tool_name)
    return {"analysis_key": key, "environment": environment}


def _rule_values(finding: Finding, run: Run) -> dict[str, Any]:
    rule = finding.rule
    return {
        "tool_version": run.tool_version,
        "tool_guid": run.tool_guid,
        "rule_name": rule.name,
        "rule_severity": finding.level.value,
        "security_severity_level": None
        if rule.security_severity_level is None
        else rule.security_severity_level.value,
        "rule_description": rule.description,
        "rule_full_description": rule.full_description,
        "rule_tags": list(rule.tags),
        "rule_help": rule.help,
        "rule_help_uri": rule.help_uri,
    }


async def _store_run(
    conn: AsyncConnection,
    upload: Upload,
    run: Run,
    analysis_id: int,
    changes: list[Change] | None = None,
) -> set[int]:
    """Alerts and instances of one run; the ids of the alerts whose state may have changed. With
    ``changes``, the alerts it created and those it saw on a ref for the first time are added there."""
    now = clock.now()
    findings: dict[str, Finding] = {}
    for finding in run.findings:
        findings.setdefault(identity(run.tool_name, finding), finding)
    existing = await repo.alerts_by_identities(conn, upload.repository_id, findings.keys())
    new = [key for key in findings if key not in existing]
    ids = {key: row.id for key, row in existing.items()}
    if new:
        first = await repo.allocate_numbers(conn, upload.repository_id, len(new))
        ids |= await repo.insert_alerts(
            conn,
            [
                {
                    "repository_id": upload.repository_id,
                    "number": first + offset,
                    "identity": key,
                    "tool_name": run.tool_name,
                    "rule_id": findings[key].rule.id,
                    **_rule_values(findings[key], run),
                    "state": AlertState.OPEN.value,
                    "created_at": now,
                    "updated_at": now,
                }
                for offset, key in enumerate(new)
            ],
        )
    if changes is not None:
        seen_on_ref = await repo.alerts_on_ref(conn, [row.id for row in existing.values()], upload.ref)
        cause = {"ref": upload.ref, "commit_sha": upload.commit_sha}
        changes += [Change(ids[key], "created", **cause) for key in new]
        changes += [
            Change(row.id, "appeared_in_branch", **cause)
            for row in existing.values()
            if row.id not in seen_on_ref
        ]
    # The newest run's rule metadata, written only where it changed (a re-upload of the same file
    # changes none).
    changed = []
    for key, row in existing.items():
        values = _rule_values(findings[key], run)
        if any(getattr(row, name) != value for name, value in values.items()):
            changed.append({"alert_id": row.id, **values})
    await repo.refresh_rules(conn, changed)
    base = {
        "repository_id": upload.repository_id,
        "tool_name": run.tool_name,
        "ref": upload.ref,
        "category": run.category,
        **_configuration(run),
        "analysis_id": analysis_id,
        "commit_sha": upload.commit_sha,
        "updated_at": now,
    }
    await repo.upsert_instances(
        conn,
        [
            {
                **base,
                "alert_id": ids[key],
                "state": InstanceState.OPEN.value,
                "message": finding.message,
                "path": finding.location.path,
                "start_line": finding.location.start_line,
                "end_line": finding.location.end_line,
                "start_column": finding.location.start_column,
                "end_column": finding.location.end_column,
                "classifications": list(finding.classifications) or None,
            }
            for key, finding in findings.items()
        ],
    )
    reported = set(ids.values())
    fixed = await repo.fix_missing(
        conn,
        upload.repository_id,
        run.tool_name,
        upload.ref,
        run.category,
        reported,
        {"analysis_id": analysis_id, "commit_sha": upload.commit_sha, "updated_at": now},
    )
    return reported | set(fixed)


_OnRef = TypeVar("_OnRef", Instance, RefState)


def _deciding(instances: Sequence[_OnRef], default_ref: str) -> list[_OnRef]:
    """The instances that decide an alert's state: those on the default branch when it has any
    there (as GitHub's alert state is the default branch's), else all of them."""
    on_default = [i for i in instances if i.ref == default_ref]
    return on_default or list(instances)


async def settle_states(
    conn: AsyncConnection, found: Repository, alert_ids: set[int]
) -> dict[int, AlertState]:
    """Open while an instance that decides it is open; fixed when none is; dismissed stays. The
    alerts whose state changed, and to what."""
    changed: dict[int, AlertState] = {}
    if not alert_ids:
        return changed
    now = clock.now()
    default_ref = f"refs/heads/{found.default_branch}"
    for alert_id, (current, instances) in sorted((await repo.states_of(conn, alert_ids)).items()):
        if current == AlertState.DISMISSED:
            continue
        is_open = any(i.state == InstanceState.OPEN for i in _deciding(instances, default_ref))
        state = AlertState.OPEN if is_open else AlertState.FIXED
        if state != current:
            changed[alert_id] = state
    # One statement per new state, not one per alert: an analysis may fix thousands at once.
    for state in (AlertState.OPEN, AlertState.FIXED):
        ids = [alert_id for alert_id, new in changed.items() if new == state]
        if ids:
            fixed_at = None if state == AlertState.OPEN else now
            await repo.set_alerts(conn, ids, {"state": state.value, "updated_at": now, "fixed_at": fixed_at})
    return changed


def _state_changes(changed: dict[int, AlertState], ref: str = "", commit_sha: str = "") -> list[Change]:
    """``fixed`` and ``reopened`` events of what ``settle_states`` changed."""
    return [
        Change(alert_id, "fixed" if state == AlertState.FIXED else "reopened", ref, commit_sha)
        for alert_id, state in changed.items()
    ]


def _warning(run: Run) -> str:
    return f"{run.ignored} results were ignored" if run.ignored else ""


async def _fail(db: Database, sarif_id: str, errors: list[str]) -> dict[str, Any]:
    async with db.write() as conn:
        await repo.set_upload(
            conn,
            sarif_id,
            {"status": ProcessingStatus.FAILED.value, "errors": errors, "processed_at": clock.now()},
        )
    return {"failed": errors}


async def process(db: Database, job: jobs.Job) -> dict[str, Any]:
    """The queued half of an upload: every run becomes an analysis, its results alerts. Idempotent:
    a run stored by an earlier attempt is not stored again."""
    sarif_id = job.payload["sarif_id"]
    async with db.read() as conn:
        upload = await repo.upload_with_file(conn, sarif_id)
    if upload is None or upload.status != ProcessingStatus.PENDING:
        return {"skipped": True}
    strict = bool(job.payload.get("validate"))
    try:
        # Schema validation and reading take CPU in proportion to the results: off the event loop.
        parsed = await asyncio.to_thread(
            functools.partial(sarif.read, upload.gzipped, upload.checkout_uri, strict=strict)
        )
    except sarif.InvalidSarif as exc:
        return await _fail(db, sarif_id, [exc.message])
    except sarif.UnfitSarif as exc:
        return await _fail(db, sarif_id, exc.problems)
    async with db.write() as conn:
        found = (await accounts.repositories_by_ids(conn, [upload.repository_id])).get(upload.repository_id)
        if found is None:
            return {"skipped": True}
        # Thousands of results are read and written in chunks of the same statements.
        await repo.plan_with_values(conn)
        done = await repo.analysis_ids_of_upload(conn, sarif_id)
        touched: set[int] = set()
        # What the events need is read only when a hook hears them.
        changes: list[Change] | None = (
            [] if await outbox.is_subscribed(conn, found.owner.id, ALERT_EVENT) else None
        )
        for run in parsed.runs:
            if run.index in done:
                continue
            analysis_id = await repo.insert_analysis(
                conn,
                {
                    "repository_id": upload.repository_id,
                    "sarif_id": sarif_id,
                    "run_index": run.index,
                    "ref": upload.ref,
                    "commit_sha": upload.commit_sha,
                    **_configuration(run),
                    "category": run.category,
                    "tool_name": run.tool_name,
                    "tool_version": run.tool_version,
                    "tool_guid": run.tool_guid,
                    "results_count": len(run.findings),
                    "rules_count": run.rules_count,
                    "warning": _warning(run),
                    "created_at": clock.now(),
                },
            )
            touched |= await _store_run(conn, upload, run, analysis_id, changes)
        changed = await settle_states(conn, found, touched)
        if changes is not None:
            changes += _state_changes(changed, upload.ref, upload.commit_sha)
            await announce(conn, found, changes, sender_id=upload.uploaded_by_id)
        await repo.set_upload(
            conn, sarif_id, {"status": ProcessingStatus.COMPLETE.value, "processed_at": clock.now()}
        )
    return {"runs": len(parsed.runs), "alerts": len(touched)}


# Analyses.


@dataclass(frozen=True)
class AnalysisView:
    analysis: Analysis
    deletable: bool


async def list_analyses(conn: AsyncConnection, found: Repository, query: AnalysisQuery) -> list[AnalysisView]:
    analyses = await repo.list_analyses(
        conn, found.id, query.filter, descending=query.descending, per_page=query.per_page, page=query.page
    )
    newest = await repo.newest_of_sets(conn, analyses)
    return [AnalysisView(a, a.id in newest) for a in analyses]


async def _analysis(conn: AsyncConnection, found: Repository, analysis_id: int) -> Analysis:
    analysis = await repo.analysis(conn, found.id, analysis_id)
    if analysis is None:
        raise NotFound()
    return analysis


async def get_analysis(conn: AsyncConnection, found: Repository, analysis_id: int) -> AnalysisView:
    analysis = await _analysis(conn, found, analysis_id)
    return AnalysisView(analysis, analysis.id in await repo.newest_of_sets(conn, [analysis]))


async def analysis_sarif(conn: AsyncConnection, found: Repository, analysis_id: int) -> dict[str, Any]:
    """The analysis as SARIF: its upload's file with only its run."""
    row = await _analysis(conn, found, analysis_id)
    gzipped = await repo.file_of(conn, row.sarif_id)
    if gzipped is None:
        raise NotFound()
    return sarif.run_document(sarif.load(gzipped), row.run_index)


@dataclass(frozen=True)
class Deletion:
    next_id: int | None
    # Whether the next analysis is in turn the last of its set (its deletion needs confirm_delete).
    next_is_last: bool


async def _replay(conn: AsyncConnection, found: Repository, analysis_id: int) -> set[int]:
    """Store an analysis's run again (from its upload's file), as its processing did."""
    analysis = await repo.analysis(conn, found.id, analysis_id)
    upload = None if analysis is None else await repo.upload_with_file(conn, analysis.sarif_id)
    if analysis is None or upload is None:
        return set()
    parsed = await asyncio.to_thread(sarif.read, upload.gzipped, upload.checkout_uri)
    run = next((r for r in parsed.runs if r.index == analysis.run_index), None)
    return set() if run is None else await _store_run(conn, upload, run, analysis_id)


async def delete_analysis(
    conn: AsyncConnection, caller: Principal, found: Repository, analysis_id: int, *, confirmed: bool
) -> Deletion:
    """Only the newest analysis of a set may go; the last one of a set only with ``confirm_delete``.
    The set's alert instances go back to what its remaining analyses reported, replayed oldest
    first, so that what only the deleted analysis found, fixed or reopened is undone; alerts left
    with no instance go."""
    row = await _analysis(conn, found, analysis_id)
    in_set = await repo.set_of(conn, row)
    if in_set[0] != row.id:
        raise BadRequest("Analysis specified is not deletable.")
    if len(in_set) == 1 and not confirmed:
        raise BadRequest(LAST_OF_SET)
    # The remaining analyses' runs are stored again, in chunks of the same statements.
    await repo.plan_with_values(conn)
    await repo.delete_analysis(conn, row.id)
    touched = set(await repo.delete_set_instances(conn, row))
    for remaining in reversed(in_set[1:]):
        touched |= await _replay(conn, found, remaining)
    await repo.delete_alerts_without_instances(conn, row)
    changed = await settle_states(conn, found, touched)
    await announce(
        conn, found, _state_changes(changed), sender_id=None if caller.user is None else caller.user.id
    )
    await audit.record(
        conn, found.owner.id, "code_scanning.analysis_deleted", repository_id=found.id, target=str(row.id)
    )
    if len(in_set) == 1:
        return Deletion(None, False)
    return Deletion(in_set[1], len(in_set) == 2)


# Alerts.


async def _views(
    conn: AsyncConnection, rows: Sequence[CodeScanningAlert], repos: dict[int, Repository], ref: str | None
) -> list[AlertView]:
    instances = await repo.instances_of(conn, [r.id for r in rows])
    assigned = await repo.assignees_of(conn, [r.id for r in rows])
    people = await accounts.accounts_by_ids(
        conn,
        {r.dismissed_by_id for r in rows if r.dismissed_by_id is not None}
        | {u for users in assigned.values() for u in users},
    )
    missing = {r.repository_id for r in rows} - repos.keys()
    if missing:
        repos = {**repos, **await accounts.repositories_by_ids(conn, missing)}
    views: list[AlertView] = []
    for r in rows:
        found = repos[r.repository_id]
        mine = instances.get(r.id, [])
        shown: Instance | None
        state: str = r.state
        if ref is not None:
            shown = next((i for i in mine if i.ref == ref), None)
            if shown is not None and r.state != AlertState.DISMISSED:
                state = shown.state
        else:
            deciding = _deciding(mine, f"refs/heads/{found.default_branch}")
            shown = max(deciding, key=lambda i: (i.updated_at, i.id)) if deciding else None
        views.append(
            AlertView(
                alert=r,
                repository=found,
                instance=shown,
                dismissed_by=None if r.dismissed_by_id is None else people.get(r.dismissed_by_id),
                assignees=[people[u] for u in assigned.get(r.id, []) if u in people],
                state=state,
            )
        )
    return views


async def _page(
    conn: AsyncConnection,
    query: AlertQuery,
    repository_ids: Sequence[int] | RepositoryIds,
    repos: dict[int, Repository],
) -> SortedPage[AlertView]:
    rows, more = await repo.list_alerts(
        conn,
        query.filter,
        repository_ids,
        sort=query.sort,
        descending=query.descending,
        per_page=query.per_page,
        page=query.page,
        after=query.after,
        before=query.before,
    )
    return SortedPage(await _views(conn, rows, repos, query.filter.ref), more)


async def list_for_repository(
    conn: AsyncConnection, found: Repository, query: AlertQuery
) -> SortedPage[AlertView]:
    return await _page(conn, query, [found.id], {found.id: found})


async def list_for_organization(
    conn: AsyncConnection, caller: Principal, login: str, query: AlertQuery
) -> SortedPage[AlertView]:
    org = await accounts.get_org(conn, login)
    scope = await access.organization_repositories(conn, caller, org)
    if not query.records.empty:
        allowed = await artifacts.repositories_with_records(conn, org.id, query.records)
        query = replace(query, filter=replace(query.filter, repository_ids=frozenset(allowed)))
    return await _page(conn, query, scope, {})


async def _alert(conn: AsyncConnection, found: Repository, number: int) -> CodeScanningAlert:
    alert = await repo.alert_by_number(conn, found.id, number)
    if alert is None:
        raise NotFound()
    return alert


async def get_alert(conn: AsyncConnection, found: Repository, number: int) -> AlertView:
    [view] = await _views(conn, [await _alert(conn, found, number)], {found.id: found}, None)
    return view


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError("CodeScanningAlert", field, "invalid", message)])


async def update_alert(
    conn: AsyncConnection, caller: Principal, found: Repository, number: int, body: AlertUpdate
) -> AlertView:
    """Dismiss (with a reason and a comment) or reopen. A reopened alert whose instances are all
    fixed is fixed, as it would have become had it not been dismissed."""
    if body.state is None and body.assignees is None:
        raise _invalid("state", "state or assignees must be given")
    row = await _alert(conn, found, number)
    now = clock.now()
    sender = None if caller.user is None else caller.user.id
    if body.assignees is not None:
        try:
            assignees = await resolve_assignees(conn, body.assignees, writers_of=found)
        except UnfitAssignees as exc:
            raise _invalid("assignees", exc.message) from None
        await repo.set_assignees(conn, row.id, [a.id for a in assignees])
        await repo.set_alert(conn, row.id, {"updated_at": now})
    if body.state == "dismissed":
        if body.dismissed_reason is None:
            raise _invalid("dismissed_reason", "dismissed_reason must be provided when dismissing an alert")
        if row.state == AlertState.FIXED:
            raise BadRequest("A fixed alert cannot be dismissed.")
        await repo.set_alert(
            conn,
            row.id,
            {
                "state": AlertState.DISMISSED.value,
                "dismissed_at": now,
                "dismissed_by_id": None if caller.user is None else caller.user.id,
                "dismissed_reason": body.dismissed_reason,
                "dismissed_comment": body.dismissed_comment,
                "updated_at": now,
            },
        )
        await announce(conn, found, [Change(row.id, "closed_by_user")], sender_id=sender)
    elif body.state == "open" and row.state == AlertState.DISMISSED:
        await repo.set_alert(
            conn,
            row.id,
            {
                "state": AlertState.OPEN.value,
                "dismissed_at": None,
                "dismissed_by_id": None,
                "dismissed_reason": None,
                "dismissed_comment": None,
                "updated_at": now,
            },
        )
        await settle_states(conn, found, {row.id})
        await announce(conn, found, [Change(row.id, "reopened_by_user")], sender_id=sender)
    return await get_alert(conn, found, number)


async def instances(
    conn: AsyncConnection, found: Repository, number: int, ref: str | None, *, per_page: int, page: int
) -> list[Instance]:
    row = await _alert(conn, found, number)
    return await repo.instances_page(conn, row.id, ref, per_page=per_page, page=page)


async def repositories_with_rule(conn: AsyncConnection, tool_name: str, rule_id: str) -> dict[int, int]:
    """Repository id -> its open alerts of a rule (for blast radius)."""
    return await repo.repositories_with_rule(conn, tool_name, rule_id)
