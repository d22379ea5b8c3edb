"""All SQL of Dependabot alerts and their history."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    and_,
    case,
    cast,
    exists,
    extract,
    false,
    func,
    insert,
    literal,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import repository as accounts_sql
from waybill.advisories.models import advisories
from waybill.advisories.repository import within
from waybill.alerts.models import (
    dependabot_alert_assignees,
    dependabot_alert_days,
    dependabot_alert_events,
    dependabot_alert_numbers,
    dependabot_alert_open_counts,
    dependabot_alerts,
)
from waybill.alerts.types import Alert, AlertEvent, AlertFilter, AlertState, Flow
from waybill.auth.repository import RepositoryIds
from waybill.core import db, keyset
from waybill.core.db import chunks, update_by_id, upsert
from waybill.core.keyset import Position
from waybill.core.rows import values_of

_alerts = dependabot_alerts
_numbers = dependabot_alert_numbers
_assignees = dependabot_alert_assignees
_events = dependabot_alert_events
_days = dependabot_alert_days
_open_counts = dependabot_alert_open_counts


_alert = values_of(Alert, state=AlertState)


async def alerts_of_repository(conn: AsyncConnection, repository_id: int) -> list[Alert]:
    rows = await conn.execute(select(_alerts).where(_alerts.c.repository_id == repository_id))
    return [_alert(row) for row in rows]


async def allocate_numbers(conn: AsyncConnection, repository_id: int, count: int) -> int:
    """Reserve ``count`` alert numbers for the repository; returns the first."""
    return await db.allocate_numbers(conn, _numbers, repository_id, count)


async def insert_alerts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    for chunk in chunks(rows, 200):
        await conn.execute(insert(_alerts), list(chunk))


_UPDATABLE = (
    "package_url",
    "version",
    "scope",
    "relationship",
    "vulnerable_version_range",
    "first_patched_version",
    "present",
    "state",
    "updated_at",
    "fixed_at",
    "auto_dismissed_at",
)


async def update_alerts(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Rows carry ``alert_id`` and every column of ``_UPDATABLE``."""
    await update_by_id(conn, _alerts, _UPDATABLE, rows, "alert_id")


async def alert_by_number(conn: AsyncConnection, repository_id: int, number: int) -> Alert | None:
    t = _alerts.c
    query = select(_alerts).where(t.repository_id == repository_id, t.number == number)
    row = (await conn.execute(query)).first()
    return None if row is None else _alert(row)


async def set_alert_state(conn: AsyncConnection, alert_id: int, values: dict[str, Any]) -> None:
    await conn.execute(update(_alerts).where(_alerts.c.id == alert_id).values(**values))


async def set_assignees(conn: AsyncConnection, alert_id: int, user_ids: Sequence[int]) -> None:
    await accounts_sql.set_assignees(conn, _assignees, alert_id, user_ids)


async def assignees_of(conn: AsyncConnection, alert_ids: Collection[int]) -> dict[int, list[int]]:
    return await accounts_sql.assignees_of(conn, _assignees, alert_ids)


ALERT_SORTS = {
    "created": _alerts.c.created_at,
    "updated": _alerts.c.updated_at,
    "epss_percentage": func.coalesce(advisories.c.epss_percentage, literal(-1.0)),
}


def _alert_where(f: AlertFilter, assignee_ids: dict[str, int]) -> list[ColumnElement[bool]]:
    t = _alerts.c
    a = advisories.c
    where: list[ColumnElement[bool]] = []
    if f.states:
        where.append(t.state.in_(f.states))
    if f.severities:
        # Alerts show an advisory of unknown severity as low (the alert schema has no "unknown").
        wanted = [*f.severities, *(["unknown"] if "low" in f.severities else [])]
        where.append(a.severity.in_(wanted))
    if f.classifications:
        types = [*(["malware"] if "malware" in f.classifications else [])]
        if "general" in f.classifications:
            types += ["reviewed", "unreviewed"]
        where.append(a.type.in_(types))
    if f.ecosystems:
        where.append(t.ecosystem.in_(f.ecosystems))
    if f.packages:
        where.append(tuple_(t.ecosystem, t.package_key).in_(list(f.packages)))
    if f.manifests:
        where.append(t.manifest_path.in_(f.manifests))
    if f.epss_percentage is not None:
        where.append(within(a.epss_percentage, f.epss_percentage))
    if f.has_patch:
        where.append(t.first_patched_version.is_not(None))
    if f.scope is not None:
        where.append(t.scope == f.scope)
    if f.relationships:
        where.append(t.relationship.in_(f.relationships))
    if f.assignees:
        s = _assignees.c
        conditions: list[ColumnElement[bool]] = []
        if "*" in f.assignees:
            conditions.append(exists().where(s.alert_id == t.id))
        if "none" in f.assignees:
            conditions.append(~exists().where(s.alert_id == t.id))
        ids = [assignee_ids[login] for login in f.assignees if login in assignee_ids]
        if ids:
            conditions.append(exists().where(s.alert_id == t.id, s.user_id.in_(ids)))
        where.append(or_(*conditions) if conditions else false())
    if f.repository_ids is not None:
        where.append(t.repository_id.in_(sorted(f.repository_ids)) if f.repository_ids else false())
    return where


async def list_alerts(
    conn: AsyncConnection,
    f: AlertFilter,
    repository_ids: Sequence[int] | RepositoryIds,
    assignee_ids: dict[str, int],
    *,
    sort: str,
    descending: bool,
    per_page: int,
    after: Position | None,
    before: Position | None,
) -> tuple[list[Alert], bool]:
    """A page of the alerts of these repositories in (sort value, id) order, and whether more lie
    beyond it, as ``list_advisories`` pages."""
    t = _alerts.c
    column = ALERT_SORTS[sort]
    query = (
        select(_alerts)
        .join(advisories, advisories.c.id == t.advisory_id)
        .where(t.repository_id.in_(repository_ids), *_alert_where(f, assignee_ids))
    )
    rows, more = await keyset.fetch_sorted(
        conn, query, column, t.id, descending=descending, per_page=per_page, after=after, before=before
    )
    return [_alert(row) for row in rows], more


async def repositories_with_alerts(conn: AsyncConnection) -> list[int]:
    rows = await conn.execute(select(_alerts.c.repository_id).distinct())
    return [row[0] for row in rows]


# The alerts' history.

# The severity an alert shows: an advisory of unknown severity alerts as low.
_SHOWN_SEVERITY = case((advisories.c.severity == "unknown", literal("low")), else_=advisories.c.severity)

_EVENT_COLUMNS = (
    "alert_id",
    "repository_id",
    "state",
    "severity",
    "occurred_at",
    "prior_state",
    "prior_severity",
    "prior_at",
    "prior_seconds",
)

# (repository id, day, state, severity, prior state, prior severity, how many events).
Tally = tuple[int, str, str, str, str | None, str | None, int]


def _seconds_between(conn: AsyncConnection, start: Any, end: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return extract("epoch", end - start)
    # SQLite keeps timestamps as text; julianday reads them as days.
    return (func.julianday(end) - func.julianday(start)) * 86400.0


def _day_of(conn: AsyncConnection, moment: Any) -> Any:
    """The UTC day of a timestamp column as YYYY-MM-DD."""
    if conn.dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", moment), "YYYY-MM-DD")
    return func.substr(moment, 1, 10)


def utc_day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _event_rows(conn: AsyncConnection, state: str, occurred_at: datetime) -> Select[Any]:
    t = _alerts.c
    e = _events.c
    latest = select(e.state).where(e.alert_id == t.id).order_by(e.occurred_at.desc(), e.id.desc()).limit(1)
    prior_state, prior_severity, prior_at = (
        latest.with_only_columns(column).scalar_subquery() for column in (e.state, e.severity, e.occurred_at)
    )
    at = literal(occurred_at, e.occurred_at.type)
    return select(
        t.id.label("alert_id"),
        t.repository_id.label("repository_id"),
        literal(state).label("state"),
        _SHOWN_SEVERITY.label("severity"),
        at.label("occurred_at"),
        prior_state.label("prior_state"),
        prior_severity.label("prior_severity"),
        prior_at.label("prior_at"),
        _seconds_between(conn, prior_at, at).label("prior_seconds"),
    ).join(advisories, advisories.c.id == t.advisory_id)


async def _tally(conn: AsyncConnection, groups: Iterable[Tally]) -> None:
    """Add events to the day sums and the open counts; a negative count takes them away."""
    days: defaultdict[tuple[int, str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    open_now: Counter[tuple[int, str]] = Counter()
    for repository_id, day, state, severity, prior_state, prior_severity, n in groups:
        entered = n if state == "open" else 0
        exited = n if prior_state == "open" else 0
        sums = days[(repository_id, day, severity, prior_severity or "")]
        sums[0] += entered
        sums[1] += exited
        sums[2] += 0 if exited else entered
        sums[3] += n if state == "fixed" else 0
        open_now[(repository_id, severity)] += entered
        if prior_severity is not None:
            open_now[(repository_id, prior_severity)] -= exited
    # In key order, so that concurrent writers lock the rows alike.
    day_rows = [
        dict(zip(("repository_id", "day", "severity", "prior_severity"), key, strict=True))
        | dict(zip(("entered", "exited", "opened", "fixed"), sums, strict=True))
        for key, sums in sorted(days.items())
    ]
    count_rows = [
        {"repository_id": repository_id, "severity": severity, "alerts": n}
        for (repository_id, severity), n in sorted(open_now.items())
        if n
    ]
    for table, rows, added in (
        (_days, day_rows, ("entered", "exited", "opened", "fixed")),
        (_open_counts, count_rows, ("alerts",)),
    ):
        if not rows:
            continue
        stmt = upsert(conn, table)
        stmt = stmt.on_conflict_do_update(
            index_elements=[c.name for c in table.primary_key],
            set_={k: table.c[k] + stmt.excluded[k] for k in added},
        )
        for chunk in chunks(rows, 100):
            await conn.execute(stmt, list(chunk))


async def _append(conn: AsyncConnection, rows: Select[Any], day: str) -> None:
    """Append the events ``rows`` selects (all on ``day``), and add them to the sums: counted first,
    while each alert's latest event is still the one the new event repeats."""
    r = rows.subquery()
    kinds = (r.c.repository_id, r.c.state, r.c.severity, r.c.prior_state, r.c.prior_severity)
    found = await conn.execute(select(*kinds, func.count()).group_by(*kinds))
    await _tally(conn, [(g[0], day, g[1], g[2], g[3], g[4], g[5]) for g in found])
    await conn.execute(insert(_events).from_select(_EVENT_COLUMNS, rows))


async def record_events(conn: AsyncConnection, states: dict[str, list[int]], occurred_at: datetime) -> None:
    """Append the event of each alert entering a state (state -> alert ids), with the severity its
    advisory has now and, repeated, the state, severity and time of the alert's latest event."""
    for state, alert_ids in states.items():
        for chunk in chunks(sorted(alert_ids)):
            rows = _event_rows(conn, state, occurred_at).where(_alerts.c.id.in_(chunk))
            await _append(conn, rows, utc_day(occurred_at))


async def record_opened(
    conn: AsyncConnection, repository_id: int, numbers: range, occurred_at: datetime
) -> None:
    """Append the opening event of the repository's alerts just inserted with these numbers."""
    t = _alerts.c
    rows = _event_rows(conn, "open", occurred_at).where(
        t.repository_id == repository_id, t.number >= numbers.start, t.number < numbers.stop
    )
    await _append(conn, rows, utc_day(occurred_at))


_event = values_of(AlertEvent)


async def events_of(conn: AsyncConnection, alert_id: int) -> list[AlertEvent]:
    e = _events.c
    query = select(_events).where(e.alert_id == alert_id)
    return [_event(row) for row in await conn.execute(query.order_by(e.occurred_at, e.id))]


async def add_events(conn: AsyncConnection, rows: list[dict[str, Any]]) -> None:
    """Append events as given (an import of history, or a test's constructed one)."""
    rows = [
        r
        | {
            "prior_seconds": None
            if r["prior_at"] is None
            else (r["occurred_at"] - r["prior_at"]).total_seconds()
        }
        for r in rows
    ]
    await _tally(
        conn,
        [
            (
                r["repository_id"],
                utc_day(r["occurred_at"]),
                r["state"],
                r["severity"],
                r["prior_state"],
                r["prior_severity"],
                1,
            )
            for r in rows
        ],
    )
    for chunk in chunks(rows, 200):
        await conn.execute(insert(_events), list(chunk))


async def forget_alerts_of(conn: AsyncConnection, ghsa_ids: Collection[str]) -> None:
    """Before these advisories are deleted: take their alerts' events out of the sums, which the
    cascade would otherwise leave counting them."""
    for chunk in chunks(sorted(ghsa_ids)):
        dropped = select(advisories.c.id).where(advisories.c.ghsa_id.in_(chunk))
        await _forget_history(conn, select(_alerts.c.id).where(_alerts.c.advisory_id.in_(dropped)))


async def _forget_history(conn: AsyncConnection, alerts: Select[Any]) -> None:
    """Take the events of the alerts about to be deleted (whose ids ``alerts`` selects) out of the
    sums."""
    e = _events.c
    kinds = (
        e.repository_id,
        _day_of(conn, e.occurred_at),
        e.state,
        e.severity,
        e.prior_state,
        e.prior_severity,
    )
    found = await conn.execute(select(*kinds, func.count()).where(e.alert_id.in_(alerts)).group_by(*kinds))
    await _tally(conn, [(*g[:6], -g[6]) for g in found])


def _event_where(f: AlertFilter) -> list[ColumnElement[bool]]:
    """The state-independent filters of ``f`` that the history can follow besides its repositories:
    ecosystem and package (the alert's, constant over its life)."""
    e = _events.c
    where: list[ColumnElement[bool]] = []
    alert: list[ColumnElement[bool]] = []
    if f.ecosystems:
        alert.append(_alerts.c.ecosystem.in_(f.ecosystems))
    if f.packages:
        alert.append(tuple_(_alerts.c.ecosystem, _alerts.c.package_key).in_(list(f.packages)))
    if alert:
        # The alerts' ids first: a package names a few, whose events the index on alert_id finds.
        where.append(e.alert_id.in_(select(_alerts.c.id).where(*alert)))
    return where


def _in_repositories(column: Any, repositories: RepositoryIds, f: AlertFilter) -> list[ColumnElement[bool]]:
    """Rows of the repositories selected, narrowed to the production-context filters' ones."""
    where = [column.in_(repositories)]
    if f.repository_ids is not None:
        where.append(column.in_(sorted(f.repository_ids)) if f.repository_ids else false())
    return where


def _is(column: Any, state: str) -> Any:
    return case((column == state, 1), else_=0)


# SQL sums come back as the driver's numbers (Decimal on PostgreSQL for a sum of bigints).
_flow = values_of(Flow, entered=int, exited=int, opened=int, fixed=int)


async def alert_flow(
    conn: AsyncConnection, repositories: RepositoryIds, f: AlertFilter, boundaries: Sequence[datetime]
) -> list[Flow]:
    """The movements of the alerts ``f`` names between the boundaries, summed from their events:
    rows of (bucket, severity, prior_severity, entered, exited, opened, fixed). Bucket 0 holds
    everything before the first boundary, bucket i what happened from boundary i-1 up to boundary i;
    ``entered`` counts events into the open state (at ``severity``), ``exited`` events out of it (at
    ``prior_severity``), so the alerts open at boundary i number the sum of entered less exited over
    buckets 0 to i. ``opened`` counts alerts that opened or reopened, ``fixed`` fixes."""
    e = _events.c
    where = [
        *_in_repositories(e.repository_id, repositories, f),
        *_event_where(f),
        e.occurred_at < boundaries[-1],
    ]
    if f.severities:
        # Events that moved an alert of these severities in or out of the open state.
        where.append(or_(e.severity.in_(f.severities), e.prior_severity.in_(f.severities)))
    bucket = case(*((e.occurred_at < b, i) for i, b in enumerate(boundaries))).label("bucket")
    reopened = and_(e.state == "open", or_(e.prior_state.is_(None), e.prior_state != "open"))
    query = (
        select(
            bucket,
            e.severity,
            e.prior_severity,
            func.sum(_is(e.state, "open")).label("entered"),
            func.sum(_is(e.prior_state, "open")).label("exited"),
            func.sum(case((reopened, 1), else_=0)).label("opened"),
            func.sum(_is(e.state, "fixed")).label("fixed"),
        )
        .where(*where)
        .group_by(bucket, e.severity, e.prior_severity)
    )
    return [_flow(row) for row in await conn.execute(query)]


async def daily_flow(
    conn: AsyncConnection, repositories: RepositoryIds, f: AlertFilter, days: Sequence[str]
) -> list[Flow]:
    """The same rows as ``alert_flow`` from the day sums, for the days from the first up to (not
    including) the last; bucket i holds the days from days[i-1] on, and there is no bucket 0."""
    d = _days.c
    where = [*_in_repositories(d.repository_id, repositories, f), d.day >= days[0], d.day < days[-1]]
    if f.severities:
        where.append(or_(d.severity.in_(f.severities), d.prior_severity.in_(f.severities)))
    bucket = case(*((d.day < day, i) for i, day in enumerate(days) if i)).label("bucket")
    query = (
        select(
            bucket,
            d.severity,
            d.prior_severity,
            *(func.sum(d[k]).label(k) for k in ("entered", "exited", "opened", "fixed")),
        )
        .where(*where)
        .group_by(bucket, d.severity, d.prior_severity)
    )
    return [_flow(row) for row in await conn.execute(query)]


async def open_counts(conn: AsyncConnection, repositories: RepositoryIds, f: AlertFilter) -> dict[str, int]:
    """Severity -> the alerts open now in these repositories."""
    c = _open_counts.c
    query = (
        select(c.severity, func.sum(c.alerts))
        .where(*_in_repositories(c.repository_id, repositories, f))
        .group_by(c.severity)
    )
    return {severity: int(n) for severity, n in await conn.execute(query)}


def _fixes(repositories: RepositoryIds, f: AlertFilter, since: datetime, until: datetime) -> list[Any]:
    """The fixes of open alerts from ``since`` up to ``until``, counted under the severity the alert
    was open at. The state conditions are literals, as the partial index's are, for SQLite's planner
    to see that the index holds every row they select."""
    e = _events.c
    where = [
        e.state == literal_column("'fixed'"),
        e.prior_state == literal_column("'open'"),
        *_in_repositories(e.repository_id, repositories, f),
        *_event_where(f),
        e.occurred_at >= since,
        e.occurred_at < until,
    ]
    if f.severities:
        where.append(e.prior_severity.in_(f.severities))
    return where


_HOUR = cast(_events.c.prior_seconds / 3600, Integer)


async def fix_hours(
    conn: AsyncConnection, repositories: RepositoryIds, f: AlertFilter, since: datetime, until: datetime
) -> list[tuple[int, int]]:
    """How many fixes took each whole number of hours, in order of hours."""
    query = select(_HOUR, func.count()).where(*_fixes(repositories, f, since, until)).group_by(_HOUR)
    return sorted((int(hour), int(n)) for hour, n in await conn.execute(query))


async def fix_seconds(
    conn: AsyncConnection,
    repositories: RepositoryIds,
    f: AlertFilter,
    since: datetime,
    until: datetime,
    hours: tuple[int, int],
) -> list[float]:
    """The times of the fixes that took from ``hours[0]`` to ``hours[1]`` whole hours, in order."""
    e = _events.c
    where = [*_fixes(repositories, f, since, until), _HOUR.between(*hours)]
    query = select(e.prior_seconds).where(*where).order_by(e.prior_seconds)
    return [float(s) for s in (await conn.execute(query)).scalars()]
