"""The rules of Dependabot alerts as clients see them: listing (per repository and per
organization, with production context), reading, dismissing, reopening and assigning."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.accounts.assignees import UnfitAssignees
from waybill.accounts.assignees import resolve as resolve_assignees
from waybill.accounts.types import Account, Repository
from waybill.advisories import service as advisories
from waybill.advisories.types import Vulnerability
from waybill.alerts import access, lifecycle
from waybill.alerts import repository as repo
from waybill.alerts.schemas import AlertQuery, AlertUpdate, AlertView, newest_first
from waybill.alerts.types import Alert, AlertFilter, AlertState
from waybill.artifacts import service as artifacts
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Principal
from waybill.core import clock, jobs
from waybill.core.db import Database
from waybill.core.errors import Conflict, FieldError, NotFound, SimpleValidationFailed
from waybill.core.keyset import SortedPage
from waybill.dependencies import service as dependencies


async def repository(
    conn: AsyncConnection, caller: Principal, owner: str, name: str, *, write: bool
) -> Repository:
    found = await accounts.find_repository(conn, owner, name)
    if found is None:
        raise NotFound()
    await access.require(conn, caller, found, write=write)
    return found


async def _views(
    conn: AsyncConnection, rows: Sequence[Alert], repos: dict[int, Repository]
) -> list[AlertView]:
    """Everything the rows' shapes show, in a fixed number of queries."""
    advisory_ids = {r.advisory_id for r in rows}
    shown = await advisories.advisories_by_ids(conn, advisory_ids)
    vulns: dict[int, list[Vulnerability]] = defaultdict(list)
    for v in await advisories.vulnerabilities_of(conn, advisory_ids):
        vulns[v.advisory_id].append(v)
    assigned = await repo.assignees_of(conn, [r.id for r in rows])
    people = await accounts.accounts_by_ids(
        conn,
        {r.dismissed_by_id for r in rows if r.dismissed_by_id is not None}
        | {u for users in assigned.values() for u in users},
    )
    missing = {r.repository_id for r in rows} - repos.keys()
    if missing:
        repos = {**repos, **await accounts.repositories_by_ids(conn, missing)}
    return [
        AlertView(
            alert=r,
            repository=repos[r.repository_id],
            advisory=shown[r.advisory_id],
            vulnerabilities=vulns.get(r.advisory_id, []),
            dismissed_by=None if r.dismissed_by_id is None else people.get(r.dismissed_by_id),
            assignees=[people[u] for u in assigned.get(r.id, []) if u in people],
        )
        for r in rows
    ]


async def _page(
    conn: AsyncConnection,
    query: AlertQuery,
    repository_ids: Sequence[int] | RepositoryIds,
    repos: dict[int, Repository],
) -> SortedPage[AlertView]:
    f = query.filter
    named = [a for a in f.assignees if a not in ("*", "none")]
    ids = {login: account.id for login, account in (await accounts.accounts_by_logins(conn, named)).items()}
    rows, more = await repo.list_alerts(
        conn,
        f,
        repository_ids,
        ids,
        sort=query.sort,
        descending=query.descending,
        per_page=query.per_page,
        after=query.after,
        before=query.before,
    )
    return SortedPage(await _views(conn, rows, repos), more)


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


async def open_alerts(
    conn: AsyncConnection, caller: Principal, repos: Sequence[Repository], limit: int
) -> SortedPage[AlertView] | None:
    """The newest open alerts of those of ``repos`` whose alerts the caller may read; repositories
    it may not read are left out silently (for pages that show alerts beside other things). None
    when it may read the alerts of none of them."""
    readable = await access.readable(conn, caller, repos)
    if not readable:
        return None
    query = newest_first(AlertFilter(states=(AlertState.OPEN.value,)), limit)
    return await _page(conn, query, sorted(readable), {r.id: r for r in repos if r.id in readable})


async def _alert(conn: AsyncConnection, found: Repository, number: int) -> Alert:
    row = await repo.alert_by_number(conn, found.id, number)
    if row is None:
        raise NotFound()
    return row


async def alert_views(conn: AsyncConnection, repository_id: int, numbers: Sequence[int]) -> list[AlertView]:
    """The repository's alerts of these numbers as they are now, in that order (for the webhooks)."""
    rows = [row for n in numbers if (row := await repo.alert_by_number(conn, repository_id, n)) is not None]
    return await _views(conn, rows, {})


async def get_alert(conn: AsyncConnection, found: Repository, number: int) -> AlertView:
    [view] = await _views(conn, [await _alert(conn, found, number)], {found.id: found})
    return view


def _invalid(field: str, message: str) -> SimpleValidationFailed:
    return SimpleValidationFailed([FieldError("DependabotAlert", field, "invalid", message)])


async def update_alert(
    conn: AsyncConnection, caller: Principal, found: Repository, number: int, body: AlertUpdate
) -> AlertView:
    """Dismiss (with a reason, and a comment), reopen, or replace the assignees.

    Reopening a dismissed alert whose vulnerable version has since left the graph gives ``fixed``,
    as the alert would have become had it not been dismissed."""
    if body.state is None and body.assignees is None:
        raise _invalid("state", "state or assignees must be given")
    if body.state == "dismissed" and body.dismissed_reason is None:
        raise _invalid("dismissed_reason", "dismissed_reason must be provided when dismissing an alert")
    row = await _alert(conn, found, number)
    assignees: list[Account] | None = None
    if body.assignees is not None:
        try:
            assignees = await resolve_assignees(conn, body.assignees)
        except UnfitAssignees as exc:
            raise _invalid("assignees", exc.message) from None
    now = clock.now()
    sender_id = None if caller.user is None else caller.user.id
    if body.state == "dismissed":
        if row.state == AlertState.FIXED:
            raise Conflict("A fixed alert cannot be dismissed.")
        await repo.set_alert_state(
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
        if row.state != AlertState.DISMISSED:
            await repo.record_events(conn, {AlertState.DISMISSED.value: [row.id]}, now)
            await lifecycle.announce(conn, found.id, [(number, "dismissed")], sender_id=sender_id)
    elif body.state == "open" and row.state != AlertState.OPEN:
        if row.state == AlertState.FIXED:
            raise Conflict(
                "A fixed alert cannot be reopened; it reopens when the vulnerable version returns."
            )
        values: dict[str, Any] = {
            "dismissed_at": None,
            "dismissed_by_id": None,
            "dismissed_reason": None,
            "dismissed_comment": None,
            "auto_dismissed_at": None,
            "updated_at": now,
        }
        if row.present:
            values["state"] = AlertState.OPEN.value
        else:
            values.update(state=AlertState.FIXED.value, fixed_at=now)
        await repo.set_alert_state(conn, row.id, values)
        await repo.record_events(conn, {values["state"]: [row.id]}, now)
        action = "reopened" if row.present else "fixed"
        await lifecycle.announce(conn, found.id, [(number, action)], sender_id=sender_id)
    if assignees is not None:
        await repo.set_assignees(conn, row.id, [a.id for a in assignees])
        if body.state is None:
            await repo.set_alert_state(conn, row.id, {"updated_at": now})
    [view] = await _views(conn, [await _alert(conn, found, number)], {found.id: found})
    return view


# Evaluation after snapshots and imports.

REMATCH_JOB = advisories.ADVISORIES_CHANGED_JOB
# Repositories evaluated per transaction by the rematch job: short enough not to hold SQLite's one
# writer for long, long enough that commits do not dominate.
REMATCH_BATCH = 50


async def evaluate(db: Database, job: jobs.Job) -> dict[str, Any]:
    """The job that a change of a repository's current graph queues (``dependencies.GRAPH_CHANGED_JOB``):
    its alerts against that graph."""
    async with db.write() as conn:
        outcome = await lifecycle.evaluate_repository(conn, int(job.payload["repository_id"]))
    return {
        "opened": outcome.opened,
        "fixed": outcome.fixed,
        "reopened": outcome.reopened,
        "auto_dismissed": outcome.auto_dismissed,
    }


async def request_rematch(conn: AsyncConnection) -> int:
    """Queue the re-evaluation of every repository (after advisories changed); a rematch still
    waiting to start covers this request too. Returns the job's id."""
    waiting = await jobs.find_active(conn, REMATCH_JOB, "all")
    if waiting is not None and waiting.status is jobs.JobStatus.PENDING:
        return waiting.id
    return await jobs.enqueue(conn, REMATCH_JOB, {}, key="all")


async def rematch(db: Database, job: jobs.Job) -> dict[str, Any]:
    """The ``alerts.rematch`` job: every repository with a graph or alerts, against one index of
    every alerting advisory. Idempotent: a rerun finds the alerts already in line."""
    async with db.read() as conn:
        index = await advisories.index_for(conn, None)
        ids = sorted(
            set(await dependencies.repositories_with_graph(conn))
            | set(await repo.repositories_with_alerts(conn))
        )
    total = lifecycle.Outcome()
    for start in range(0, len(ids), REMATCH_BATCH):
        async with db.write() as conn:
            for repository_id in ids[start : start + REMATCH_BATCH]:
                total.add(await lifecycle.evaluate_repository(conn, repository_id, index))
    return {
        "repositories": len(ids),
        "advisories": len(index.matcher),
        "opened": total.opened,
        "fixed": total.fixed,
        "reopened": total.reopened,
        "auto_dismissed": total.auto_dismissed,
    }


async def import_advisories(
    conn: AsyncConnection,
    files: Iterable[tuple[str, bytes]],
    *,
    progress: Callable[[int], None] = lambda _: None,
    problems: list[str] | None = None,
) -> advisories.ImportCounts:
    """Import OSV files into the advisory database, settling the history of alerts whose advisory
    the import deletes; the alerts follow the new advisories once ``request_rematch``'s job runs."""
    return await advisories.import_files(
        conn, files, dropping=repo.forget_alerts_of, progress=progress, problems=problems
    )
