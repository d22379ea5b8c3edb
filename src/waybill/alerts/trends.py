"""An organization's Dependabot alerts over time, from their history: how many were open at the end
of each week by severity, how many opened and were fixed each week, and the median time to fix.

The database sums the history (``repository.alert_flow``); what is left here is a few dozen numbers
to add up in order. The trends follow the list's visibility (the repositories whose alerts the
viewer may read) and its state-independent filters: severity, ecosystem, package and the
production-context filters. A state filter does not apply: the trends are about states.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import accumulate

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import service as accounts
from waybill.alerts import access
from waybill.alerts import repository as repo
from waybill.alerts.alert_schemas import SEVERITIES, AlertQuery
from waybill.artifacts import service as artifacts
from waybill.auth.types import Principal
from waybill.core.errors import NotFound

WEEKS = 12
WEEK = timedelta(days=7)


@dataclass(frozen=True)
class Week:
    start: datetime
    end: datetime
    opened: int
    fixed: int


@dataclass(frozen=True)
class Trends:
    # WEEKS + 1 moments, a week apart, the last one now.
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
    return [now - WEEK * (weeks - i) for i in range(weeks + 1)]


async def organization_trends(
    conn: AsyncConnection, caller: Principal, login: str, query: AlertQuery, now: datetime
) -> Trends:
    """Refuses as the organization list does (404, 403), and counts only what it would list."""
    org = await accounts.find_account(conn, login)
    if org is None or not org.is_org:
        raise NotFound()
    scope = await access.organization_event_scope(conn, caller, org)
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
    for row in await repo.alert_flow(conn, scope, f, boundaries):
        if row.severity in moves:
            moves[row.severity][row.bucket] += int(row.entered)
            opened[row.bucket] += int(row.opened)
            fixed[row.bucket] += int(row.fixed)
        if row.prior_severity in moves:
            moves[row.prior_severity][row.bucket] -= int(row.left)
    open_by_severity = {s: list(accumulate(m)) for s, m in moves.items()}
    weeks = [Week(boundaries[i - 1], boundaries[i], opened[i], fixed[i]) for i in range(1, len(boundaries))]
    median, fixes = await repo.time_to_fix(conn, scope, f, boundaries[0], boundaries[-1])
    return Trends(boundaries, open_by_severity, weeks, median, fixes)
