"""All SQL of the code scanning domain."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    and_,
    bindparam,
    column,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import repository as accounts_sql
from waybill.auth.repository import RepositoryIds
from waybill.codescanning.models import (
    code_scanning_alert_assignees,
    code_scanning_alert_instances,
    code_scanning_alert_numbers,
    code_scanning_alerts,
    code_scanning_analyses,
    code_scanning_sarifs,
)
from waybill.codescanning.types import (
    AlertRule,
    AlertState,
    Analysis,
    CodeScanningAlert,
    DismissedReason,
    Instance,
    InstanceState,
    ProcessingStatus,
    RefState,
    RuleMetadata,
    RuleSeverity,
    SecuritySeverity,
    Upload,
    UploadWithFile,
)
from waybill.core import db, keyset
from waybill.core.db import chunks, update_by_id, upsert
from waybill.core.keyset import Position
from waybill.core.rows import values_of

_sarifs = code_scanning_sarifs
_analyses = code_scanning_analyses
_alerts = code_scanning_alerts
_instances = code_scanning_alert_instances
_numbers = code_scanning_alert_numbers
_assignees = code_scanning_alert_assignees


async def plan_with_values(conn: AsyncConnection) -> None:
    """For the rest of the transaction, PostgreSQL plans each statement with its parameters' values.
    asyncpg prepares every statement, and from a statement's sixth run PostgreSQL may keep a generic
    plan: for a chunk of ``IN`` parameters on a table not yet analyzed (as after an analysis's first
    5,000 alerts) it then compares every row of the repository with each parameter in turn, 50-70 ms
    a chunk, where the values' plan takes 1-4 ms."""
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))


# Uploads.


async def insert_upload(conn: AsyncConnection, row: dict[str, Any]) -> None:
    await conn.execute(insert(_sarifs).values(**row))


_upload = values_of(Upload, status=ProcessingStatus)


_upload_with_file = values_of(UploadWithFile, status=ProcessingStatus, gzipped=bytes)


async def upload(conn: AsyncConnection, repository_id: int, sarif_id: str) -> Upload | None:
    """The upload without its file."""
    columns = [c for c in _sarifs.c if c.name != "gzipped"]
    query = select(*columns).where(_sarifs.c.repository_id == repository_id, _sarifs.c.id == sarif_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _upload(row)


async def upload_with_file(conn: AsyncConnection, sarif_id: str) -> UploadWithFile | None:
    row = (await conn.execute(select(_sarifs).where(_sarifs.c.id == sarif_id))).first()
    return None if row is None else _upload_with_file(row)


async def file_of(conn: AsyncConnection, sarif_id: str) -> bytes | None:
    value = (await conn.execute(select(_sarifs.c.gzipped).where(_sarifs.c.id == sarif_id))).scalar()
    return None if value is None else bytes(value)


async def set_upload(conn: AsyncConnection, sarif_id: str, values: dict[str, Any]) -> None:
    await conn.execute(update(_sarifs).where(_sarifs.c.id == sarif_id).values(**values))


# Analyses.


async def analysis_ids_of_upload(conn: AsyncConnection, sarif_id: str) -> dict[int, int]:
    """run index -> analysis id, for an upload processed before (a job run again)."""
    rows = await conn.execute(
        select(_analyses.c.run_index, _analyses.c.id).where(_analyses.c.sarif_id == sarif_id)
    )
    return {index: ident for index, ident in rows}


async def insert_analysis(conn: AsyncConnection, row: dict[str, Any]) -> int:
    result = await conn.execute(insert(_analyses).values(**row).returning(_analyses.c.id))
    return int(result.scalar_one())


_analysis = values_of(Analysis)


@dataclass(frozen=True)
class AnalysisFilter:
    tool_name: str | None = None
    tool_guid: str | None = None
    ref: str | None = None
    sarif_id: str | None = None


async def list_analyses(
    conn: AsyncConnection,
    repository_id: int,
    f: AnalysisFilter,
    *,
    descending: bool,
    per_page: int,
    page: int,
) -> list[Analysis]:
    a = _analyses.c
    where: list[ColumnElement[bool]] = [a.repository_id == repository_id]
    if f.tool_name is not None:
        where.append(a.tool_name == f.tool_name)
    if f.tool_guid is not None:
        where.append(a.tool_guid == f.tool_guid)
    if f.ref is not None:
        where.append(a.ref == f.ref)
    if f.sarif_id is not None:
        where.append(a.sarif_id == f.sarif_id)
    order = a.id.desc() if descending else a.id.asc()
    query = select(_analyses).where(*where).order_by(order).limit(per_page).offset((page - 1) * per_page)
    return [_analysis(row) for row in await conn.execute(query)]


async def analysis(conn: AsyncConnection, repository_id: int, analysis_id: int) -> Analysis | None:
    a = _analyses.c
    query = select(_analyses).where(a.repository_id == repository_id, a.id == analysis_id)
    row = (await conn.execute(query)).first()
    return None if row is None else _analysis(row)


def _same_set(row: Analysis) -> list[ColumnElement[bool]]:
    a = _analyses.c
    return [
        a.repository_id == row.repository_id,
        a.tool_name == row.tool_name,
        a.category == row.category,
        a.ref == row.ref,
    ]


async def set_of(conn: AsyncConnection, row: Analysis) -> list[int]:
    """Ids of the analyses in ``row``'s set (same repository, tool, category and ref), newest first."""
    query = select(_analyses.c.id).where(*_same_set(row)).order_by(_analyses.c.id.desc())
    return [r[0] for r in await conn.execute(query)]


async def newest_of_sets(conn: AsyncConnection, rows: Sequence[Analysis]) -> set[int]:
    """Which of ``rows`` are the newest of their sets (the deletable ones)."""
    newest: set[int] = set()
    for row in rows:
        found = (await conn.execute(select(func.max(_analyses.c.id)).where(*_same_set(row)))).scalar()
        if found == row.id:
            newest.add(row.id)
    return newest


async def delete_analysis(conn: AsyncConnection, analysis_id: int) -> None:
    await conn.execute(delete(_analyses).where(_analyses.c.id == analysis_id))


async def delete_set_instances(conn: AsyncConnection, row: Analysis) -> list[int]:
    """The instances of ``row``'s set go; the ids of their alerts."""
    i = _instances.c
    in_set = (
        i.repository_id == row.repository_id,
        i.tool_name == row.tool_name,
        i.ref == row.ref,
        i.category == row.category,
    )
    alert_ids = [r[0] for r in await conn.execute(select(i.alert_id).where(*in_set))]
    await conn.execute(delete(_instances).where(*in_set))
    return alert_ids


async def delete_alerts_without_instances(conn: AsyncConnection, row: Analysis) -> None:
    """Alerts of ``row``'s repository and tool that no instance is left of."""
    i, t = _instances.c, _alerts.c
    orphaned = select(i.id).where(i.alert_id == t.id).exists()
    await conn.execute(
        delete(_alerts).where(t.repository_id == row.repository_id, t.tool_name == row.tool_name, ~orphaned)
    )


# Alerts.


_alert_rule = values_of(AlertRule, rule_severity=RuleSeverity, security_severity_level=SecuritySeverity)
_alert = values_of(
    CodeScanningAlert,
    rule_severity=RuleSeverity,
    security_severity_level=SecuritySeverity,
    state=AlertState,
    dismissed_reason=DismissedReason,
)


async def alerts_by_identities(
    conn: AsyncConnection, repository_id: int, identities: Collection[str]
) -> dict[str, AlertRule]:
    """identity -> the alert's id, identity and rule metadata (what an analysis compares)."""
    t = _alerts.c
    columns = [t.id, t.identity, *(getattr(t, name) for name in _RULE_COLUMNS)]
    out: dict[str, AlertRule] = {}
    for chunk in chunks(sorted(identities)):
        query = select(*columns).where(t.repository_id == repository_id, t.identity.in_(chunk))
        for row in await conn.execute(query):
            alert = _alert_rule(row)
            out[alert.identity] = alert
    return out


async def allocate_numbers(conn: AsyncConnection, repository_id: int, count: int) -> int:
    """Reserve ``count`` alert numbers for the repository; returns the first."""
    return await db.allocate_numbers(conn, _numbers, repository_id, count)


async def insert_alerts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> dict[str, int]:
    """identity -> id of the inserted alerts."""
    out: dict[str, int] = {}
    for chunk in chunks(rows, 200):
        returned = await conn.execute(
            insert(_alerts).returning(_alerts.c.identity, _alerts.c.id), list(chunk)
        )
        out.update({identity: ident for identity, ident in returned})
    return out


_RULE_COLUMNS = tuple(f.name for f in dataclasses.fields(RuleMetadata))


async def refresh_rules(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows carry ``alert_id`` and every column of ``_RULE_COLUMNS``: the newest run's rule metadata."""
    await update_by_id(conn, _alerts, _RULE_COLUMNS, rows, "alert_id")


async def upsert_instances(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """One instance per (alert, ref, category): the latest analysis's view of it replaces the last."""
    if not rows:
        return
    stmt = upsert(conn, _instances)
    names = list(rows[0])
    kept = {c: getattr(stmt.excluded, c) for c in names if c not in ("alert_id", "ref", "category")}
    if conn.dialect.name == "postgresql":
        # The rows as one array a column, unnested by the server: one statement that inserts or
        # updates them all, where a batch of one INSERT a row ran the upsert 5,000 times.
        await conn.execute(
            stmt.from_select(names, _unnested(_instances, names, rows)).on_conflict_do_update(
                index_elements=["alert_id", "ref", "category"], set_=kept
            )
        )
        return
    # One statement for every row (the driver sends them as a batch), not a statement per chunk
    # of thousands of parameters for the server to parse and plan each time.
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["alert_id", "ref", "category"], set_=kept), rows
    )


def _unnested(table: Table, names: list[str], rows: list[dict[str, Any]]) -> Select[Any]:
    """PostgreSQL's ``SELECT * FROM unnest(<array of each column>)`` of ``rows``."""
    arrays = [
        bindparam(
            f"unnest_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type, dimensions=1)
        )
        for name in names
    ]
    source = (
        func.unnest(*arrays)
        .table_valued(*(column(name, table.c[name].type) for name in names))
        .render_derived()
    )
    return select(*(source.c[name] for name in names))


async def fix_missing(
    conn: AsyncConnection,
    repository_id: int,
    tool_name: str,
    ref: str,
    category: str,
    reported: Collection[int],
    values: dict[str, Any],
) -> list[int]:
    """Mark fixed the open instances of this set that the analysis no longer reports; the ids of
    their alerts."""
    i = _instances.c
    in_set = [
        i.repository_id == repository_id,
        i.tool_name == tool_name,
        i.ref == ref,
        i.category == category,
        i.state == InstanceState.OPEN.value,
    ]
    candidates = [r[0] for r in await conn.execute(select(i.alert_id).where(*in_set))]
    gone = sorted(set(candidates) - set(reported))
    for chunk in chunks(gone):
        await conn.execute(
            update(_instances)
            .where(*in_set, i.alert_id.in_(chunk))
            .values(state=InstanceState.FIXED.value, **values)
        )
    return gone


_instance = values_of(Instance, state=InstanceState)


async def instances_of(conn: AsyncConnection, alert_ids: Collection[int]) -> dict[int, list[Instance]]:
    out: dict[int, list[Instance]] = {}
    for chunk in chunks(sorted(alert_ids)):
        query = select(_instances).where(_instances.c.alert_id.in_(chunk)).order_by(_instances.c.id)
        for row in await conn.execute(query):
            out.setdefault(row.alert_id, []).append(_instance(row))
    return out


async def states_of(
    conn: AsyncConnection, alert_ids: Collection[int]
) -> dict[int, tuple[AlertState, list[RefState]]]:
    """alert id -> its state and the ref and state of each of its instances (what settles it),
    in one statement a chunk, without the columns nobody reads there."""
    t, i = _alerts.c, _instances.c
    out: dict[int, tuple[AlertState, list[RefState]]] = {}
    for chunk in chunks(sorted(alert_ids)):
        query = (
            select(t.id, t.state.label("alert_state"), i.ref, i.state)
            .select_from(_alerts.outerjoin(_instances, i.alert_id == t.id))
            .where(t.id.in_(chunk))
        )
        for row in await conn.execute(query):
            _, instances = out.setdefault(row.id, (AlertState(row.alert_state), []))
            if row.ref is not None:
                instances.append(RefState(row.ref, InstanceState(row.state)))
    return out


async def set_alerts(conn: AsyncConnection, alert_ids: Collection[int], values: dict[str, Any]) -> None:
    for chunk in chunks(sorted(alert_ids)):
        await conn.execute(update(_alerts).where(_alerts.c.id.in_(chunk)).values(**values))


async def alerts_by_ids(conn: AsyncConnection, ids: Collection[int]) -> list[CodeScanningAlert]:
    alerts: list[CodeScanningAlert] = []
    for chunk in chunks(sorted(ids)):
        alerts += [_alert(row) for row in await conn.execute(select(_alerts).where(_alerts.c.id.in_(chunk)))]
    return alerts


async def set_alert(conn: AsyncConnection, alert_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(_alerts).where(_alerts.c.id == alert_id).values(**values))


async def alerts_by_numbers(
    conn: AsyncConnection, repository_id: int, numbers: Sequence[int]
) -> list[CodeScanningAlert]:
    t = _alerts.c
    alerts: list[CodeScanningAlert] = []
    for chunk in chunks(sorted(set(numbers))):
        alerts += [
            _alert(row)
            for row in await conn.execute(
                select(_alerts).where(t.repository_id == repository_id, t.number.in_(chunk))
            )
        ]
    return alerts


async def alerts_on_ref(conn: AsyncConnection, alert_ids: Sequence[int], ref: str) -> set[int]:
    """Which of the alerts have an instance on ``ref``."""
    i = _instances.c
    out: set[int] = set()
    for chunk in chunks(sorted(alert_ids)):
        out |= {
            r[0] for r in await conn.execute(select(i.alert_id).where(i.alert_id.in_(chunk), i.ref == ref))
        }
    return out


async def alert_by_number(conn: AsyncConnection, repository_id: int, number: int) -> CodeScanningAlert | None:
    t = _alerts.c
    row = (
        await conn.execute(select(_alerts).where(t.repository_id == repository_id, t.number == number))
    ).first()
    return None if row is None else _alert(row)


@dataclass(frozen=True)
class AlertFilter:
    """GitHub's code scanning alert filters, parsed; empty values filter nothing."""

    tool_name: str | None = None
    tool_guid: str | None = None
    # Alerts seen on this ref; their state there (unless dismissed) is what ``states`` match.
    ref: str | None = None
    states: tuple[str, ...] = ()
    # Security severity levels (critical...low) and levels (error, warning, note).
    security_severities: tuple[str, ...] = ()
    levels: tuple[str, ...] = ()
    # Repositories allowed by the production-context filters (None: no such filter).
    repository_ids: frozenset[int] | None = None
    # tool/rule pairs (for blast radius).
    rule: tuple[str, str] | None = None


SORTS = {
    "created": _alerts.c.created_at,
    "updated": _alerts.c.updated_at,
    "number": _alerts.c.number,
}


def _alert_where(f: AlertFilter) -> list[ColumnElement[bool]]:
    t, i = _alerts.c, _instances.c
    where: list[ColumnElement[bool]] = []
    if f.tool_name is not None:
        where.append(t.tool_name == f.tool_name)
    if f.tool_guid is not None:
        where.append(t.tool_guid == f.tool_guid)
    if f.ref is not None:
        on_ref = select(i.id).where(i.alert_id == t.id, i.ref == f.ref)
        where.append(on_ref.exists())
        if f.states:
            conditions: list[ColumnElement[bool]] = []
            if AlertState.DISMISSED.value in f.states:
                conditions.append(t.state == AlertState.DISMISSED.value)
            instance_states = [s for s in f.states if s != AlertState.DISMISSED.value]
            if instance_states:
                conditions.append(
                    and_(
                        t.state != AlertState.DISMISSED.value,
                        on_ref.where(i.state.in_(instance_states)).exists(),
                    )
                )
            where.append(or_(*conditions))
    elif f.states:
        where.append(t.state.in_(f.states))
    severity: list[ColumnElement[bool]] = []
    if f.security_severities:
        severity.append(t.security_severity_level.in_(f.security_severities))
    if f.levels:
        severity.append(t.rule_severity.in_(f.levels))
    if severity:
        where.append(or_(*severity))
    if f.repository_ids is not None:
        where.append(t.repository_id.in_(sorted(f.repository_ids)) if f.repository_ids else false())
    if f.rule is not None:
        where.append(and_(t.tool_name == f.rule[0], t.rule_id == f.rule[1]))
    return where


async def list_alerts(
    conn: AsyncConnection,
    f: AlertFilter,
    repository_ids: Sequence[int] | RepositoryIds,
    *,
    sort: str,
    descending: bool,
    per_page: int,
    page: int = 1,
    after: Position | None = None,
    before: Position | None = None,
) -> tuple[list[CodeScanningAlert], bool]:
    """A page of the alerts of these repositories in (sort value, id) order, by page number or from
    a cursor position, and whether more lie beyond it."""
    t = _alerts.c
    column = SORTS[sort]
    query = select(_alerts).where(t.repository_id.in_(repository_ids), *_alert_where(f))
    rows, more = await keyset.fetch_sorted(
        conn,
        query,
        column,
        t.id,
        descending=descending,
        per_page=per_page,
        after=after,
        before=before,
        offset=(page - 1) * per_page,
    )
    return [_alert(row) for row in rows], more


async def instances_page(
    conn: AsyncConnection, alert_id: int, ref: str | None, *, per_page: int, page: int
) -> list[Instance]:
    i = _instances.c
    where = [i.alert_id == alert_id] + ([] if ref is None else [i.ref == ref])
    query = select(_instances).where(*where).order_by(i.id).limit(per_page).offset((page - 1) * per_page)
    return [_instance(row) for row in await conn.execute(query)]


async def repositories_with_rule(conn: AsyncConnection, tool_name: str, rule_id: str) -> dict[int, int]:
    """repository id -> how many of its alerts of this rule are open."""
    t = _alerts.c
    query = (
        select(t.repository_id, func.count())
        .where(t.tool_name == tool_name, t.rule_id == rule_id, t.state == AlertState.OPEN.value)
        .group_by(t.repository_id)
    )
    return {repo: count for repo, count in await conn.execute(query)}


async def set_assignees(conn: AsyncConnection, alert_id: int, user_ids: Sequence[int]) -> None:
    await accounts_sql.set_assignees(conn, _assignees, alert_id, user_ids)


async def assignees_of(conn: AsyncConnection, alert_ids: Collection[int]) -> dict[int, list[int]]:
    return await accounts_sql.assignees_of(conn, _assignees, alert_ids)
