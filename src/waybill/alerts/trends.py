"""An organization's Dependabot alerts over time, from their history: how many were open at the end
of each week by severity, how many opened and were fixed each week, and the median time to fix.

The weeks are whole UTC days, the last one ending at midnight after now, so the database sums the
history's day sums (``repository.daily_flow``) and counts back from the alerts open now; a package
or ecosystem filter, which the day sums do not follow, sums the few alerts' events instead. What is
left here is a few dozen numbers to add up in order. The median time to fix is exact: the database
counts the fixes per whole hour, and sorts only the hours that hold the middle.

The trends follow the list's visibility (the repositories whose alerts the viewer may read) and its
state-independent filters: severity, ecosystem, package and the production-context filters. A state
filter does not apply: the trends are about states.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.alerts import access
from waybill.alerts import repository as repo
from waybill.alerts.schemas import SEVERITIES, AlertQuery
from waybill.alerts.types import AlertFilter
from waybill.artifacts import service as artifacts
from waybill.auth.repository import RepositoryIds
from waybill.auth.types import Principal

WEEKS = 12
WEEK = timedelta(days=7)
DAY = timedelta(days=1)


@dataclass(frozen=True)
class Week:
    start: datetime
    end: datetime
    opened: int
    fixed: int


@dataclass(frozen=True)
class Trends:
    # WEEKS + 1 midnights (UTC), a week apart, the last one ending today.
    boundaries: list[datetime]
    # Severity (highest first) -> the alerts open at each boundary.
    open_by_severity: dict[str, list[int]]
    weeks: list[Week]
    median_seconds_to_fix: float | None
    fixes: int

    @property
    def open_totals(self) -> list[int]:
        return [sum(column) for column in zip(*self.open_by_severity.values(), strict=True)]


def boundaries_until(now: datetime, weeks: int = WEEKS) -> list[datetime]:
    """Midnights a week apart, the last one ending today."""
    end = datetime.combine(now.astimezone(UTC).date() + DAY, time(), UTC)
    return [end - WEEK * (weeks - i) for i in range(weeks + 1)]


def last_day(boundary: datetime) -> date:
    """The day that ends at a boundary, which names it on the page."""
    return (boundary - DAY).date()


async def organization_trends(
    conn: AsyncConnection, caller: Principal, login: str, query: AlertQuery, now: datetime
) -> Trends:
    """Refuses as the organization list does (404, 403), and counts only what it would list."""
    org = await accounts.get_org(conn, login)
    repositories = await access.organization_repositories(conn, caller, org)
    f = query.filter
    if not query.records.empty:
        allowed = await artifacts.repositories_with_records(conn, org.id, query.records)
        f = replace(f, repository_ids=frozenset(allowed))
    wanted = [s for s in reversed(SEVERITIES) if not f.severities or s in f.severities]
    boundaries = boundaries_until(now)
    # Movements per bucket: bucket 0 is all history before the window.
    moves = {s: [0] * len(boundaries) for s in wanted}
    opened = [0] * len(boundaries)
    fixed = [0] * len(boundaries)
    by_alert = bool(f.packages or f.ecosystems)
    if by_alert:
        flow = await repo.alert_flow(conn, repositories, f, boundaries)
    else:
        days = [repo.utc_day(b) for b in boundaries]
        flow = await repo.daily_flow(conn, repositories, f, days)
    for row in flow:
        if row.severity in moves:
            moves[row.severity][row.bucket] += row.entered
            opened[row.bucket] += row.opened
            fixed[row.bucket] += row.fixed
        if row.prior_severity in moves:
            moves[row.prior_severity][row.bucket] -= row.exited
    if not by_alert:
        open_now = await repo.open_counts(conn, repositories, f)
        for severity, m in moves.items():
            m[0] = open_now.get(severity, 0) - sum(m[1:])
    open_by_severity = {s: list(accumulate(m)) for s, m in moves.items()}
    weeks = [Week(boundaries[i - 1], boundaries[i], opened[i], fixed[i]) for i in range(1, len(boundaries))]
    median, fixes = await _time_to_fix(conn, repositories, f, boundaries[0], boundaries[-1])
    return Trends(boundaries, open_by_severity, weeks, median, fixes)


async def _time_to_fix(
    conn: AsyncConnection, repositories: RepositoryIds, f: AlertFilter, since: datetime, until: datetime
) -> tuple[float | None, int]:
    """The median time in seconds from opening to fix of the alerts fixed from ``since`` up to
    ``until`` (from their last opening: a reopened alert's clock starts again), and how many fixes
    it is taken over: the middle one, or the mean of the two middle ones."""
    hours = await repo.fix_hours(conn, repositories, f, since, until)
    total = sum(n for _, n in hours)
    if not total:
        return None, 0
    middle = sorted({(total + 1) // 2, (total + 2) // 2})
    # The hours holding the first and last middle fix, and how many fixes come before the first.
    seen, before, first = 0, 0, None
    for hour, n in hours:
        if first is None and seen + n >= middle[0]:
            first, before = hour, seen
        seen += n
        if seen >= middle[-1]:
            break
    assert first is not None
    seconds = await repo.fix_seconds(conn, repositories, f, since, until, (first, hour))
    median = sum(seconds[p - before - 1] for p in middle) / len(middle)
    # To the millisecond: julianday's days as a double are exact to about ten microseconds.
    return round(median, 3), total
