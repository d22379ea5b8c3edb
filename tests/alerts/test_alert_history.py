"""Each alert's history: an event in the transaction of every state change, and the trends summed
from a constructed history (open by severity at each week's end, opened and fixed per week, the
median time to fix) within what the caller may read."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.advisories.osv_docs import as_file, osv_document
from tests.alerts.conftest import API, WEB, Org
from waybill.accounts import service as accounts
from waybill.advisories import service as advisories
from waybill.advisories.models import advisory_documents
from waybill.alerts import repository as repo
from waybill.alerts import service as alerts
from waybill.alerts import trends
from waybill.alerts.models import (
    dependabot_alert_days,
    dependabot_alert_events,
    dependabot_alert_open_counts,
)
from waybill.alerts.schemas import AlertQuery, newest_first
from waybill.alerts.types import AlertEvent, AlertFilter
from waybill.auth.types import Principal, Token, TokenKind
from waybill.config import Settings
from waybill.core.migrate import alembic_config

WEB_ALERTS = "/repos/acme/web/dependabot/alerts"


async def _events(org: Org, repository: str, number: int) -> list[AlertEvent]:
    async def read(conn: AsyncConnection) -> list[AlertEvent]:
        found = await accounts.find_repository(conn, "acme", repository)
        assert found is not None
        alert = await repo.alert_by_number(conn, found.id, number)
        assert alert is not None
        return await repo.events_of(conn, alert.id)

    return await org.api.tx(read)


async def _history(org: Org, repository: str, number: int) -> list[tuple[str, str]]:
    """The alert's states and severities; each event repeats the one before it."""
    events = await _events(org, repository, number)
    priors = [(e.prior_state, e.prior_severity, e.prior_at) for e in events]
    assert priors == [(None, None, None)] + [(e.state, e.severity, e.occurred_at) for e in events[:-1]]
    return [(e.state, e.severity) for e in events]


async def test_every_state_change_is_an_event(org: Org) -> None:
    # left-pad (1) opened with the snapshot; upgraded out of range it is fixed, and back it reopens.
    assert await _history(org, "api", 1) == [("open", "high")]
    upgraded = {"package-lock.json": {"pkg:npm/left-pad@1.0.3": ("left-pad", "runtime", "direct")}}
    await org.submit("api", upgraded, 2)
    assert await _history(org, "api", 1) == [("open", "high"), ("fixed", "high")]
    await org.submit("api", API, 3)
    assert await _history(org, "api", 1) == [("open", "high"), ("fixed", "high"), ("open", "high")]

    # lodash (2) dismissed and reopened by a person; dismissing it again only changes the reason.
    for body in (
        {"state": "dismissed", "dismissed_reason": "not_used"},
        {"state": "dismissed", "dismissed_reason": "inaccurate"},
        {"state": "open"},
    ):
        r = await org.api.patch(f"{WEB_ALERTS}/2", token=org.alice, json=body)
        assert r.status_code == 200, r.text
    assert await _history(org, "web", 2) == [
        ("open", "critical"),
        ("dismissed", "critical"),
        ("open", "critical"),
    ]

    # A dismissed alert whose version has left the graph reopens as fixed.
    await org.api.patch(
        f"{WEB_ALERTS}/3", token=org.alice, json={"state": "dismissed", "dismissed_reason": "tolerable_risk"}
    )
    await org.submit("web", {"package-lock.json": WEB["package-lock.json"]}, 2)
    await org.api.patch(f"{WEB_ALERTS}/3", token=org.alice, json={"state": "open"})
    assert await _history(org, "web", 3) == [("open", "medium"), ("dismissed", "medium"), ("fixed", "medium")]


async def test_a_withdrawn_advisory_auto_dismisses_with_an_event(org: Org) -> None:
    withdrawn = osv_document(
        "GHSA-cccc-cccc-cccc",
        "PyPI",
        "requests",
        [{"introduced": "0"}],
        database_specific={"severity": "MODERATE"},
    )
    withdrawn.update(modified="2024-06-01T00:00:00Z", withdrawn="2024-06-01T00:00:00Z")
    await org.api.tx(lambda c: alerts.import_advisories(c, [as_file(withdrawn)]))
    await org.api.tx(alerts.request_rematch)
    await org.api.app.worker.run_until_idle()
    assert await _history(org, "web", 3) == [("open", "medium"), ("auto_dismissed", "medium")]


# The last week ends at midnight after the moment the history is read at, NOW; the week ends are END
# less whole weeks.
END = datetime(2026, 6, 2, tzinfo=UTC)
NOW = END - timedelta(hours=12)
W = timedelta(weeks=1)
D = timedelta(days=1)
H = timedelta(hours=1)


def constructed(ids: dict[str, tuple[int, int]]) -> list[dict[str, Any]]:
    """Alerts named by letter -> (alert id, repository id); their states over twenty weeks."""
    story = {
        # Open before the window, fixed in its third week after 69 days.
        "A": [("open", "high", END - 20 * W), ("fixed", "high", END - 10 * W + D)],
        # Fixed exactly at a week's end, which begins the next week; fixed 14 days 1 hour after opening.
        "B": [("open", "critical", END - 5 * W - H), ("fixed", "critical", END - 3 * W)],
        # Dismissed exactly at a week's end (still open at it), reopened by a person in the last week.
        "C": [
            ("open", "medium", END - 30 * W),
            ("dismissed", "medium", END - 2 * W),
            ("open", "medium", END - W + H),
        ],
        # Fixed within a day between two week ends, reopened the day before.
        "D": [
            ("open", "low", END - 4 * W + D),
            ("fixed", "low", END - 4 * W + 2 * D),
            ("open", "low", END - D),
        ],
        # In the private repository.
        "E": [("open", "critical", END - 3 * D)],
    }
    rows = []
    for letter, events in story.items():
        prior: tuple[str | None, str | None, datetime | None] = (None, None, None)
        for state, severity, at in events:
            alert_id, repository_id = ids[letter]
            rows.append(
                {
                    "alert_id": alert_id,
                    "repository_id": repository_id,
                    "state": state,
                    "severity": severity,
                    "occurred_at": at,
                    "prior_state": prior[0],
                    "prior_severity": prior[1],
                    "prior_at": prior[2],
                }
            )
            prior = (state, severity, at)
    return rows


async def _construct(org: Org) -> None:
    async def write(conn: AsyncConnection) -> None:
        # The history and its sums start empty.
        for table in (dependabot_alert_events, dependabot_alert_days, dependabot_alert_open_counts):
            await conn.execute(delete(table))
        ids: dict[str, tuple[int, int]] = {}
        for letter, (name, number) in zip(
            "ABCDE", [("web", 1), ("web", 2), ("web", 3), ("api", 1), ("secret", 1)], strict=True
        ):
            found = await accounts.find_repository(conn, "acme", name)
            assert found is not None
            alert = await repo.alert_by_number(conn, found.id, number)
            assert alert is not None
            ids[letter] = (alert.id, found.id)
        await repo.add_events(conn, constructed(ids))

    await org.api.tx(write)


def _query(**filters: Any) -> AlertQuery:
    return newest_first(AlertFilter(**filters))


async def _trends(org: Org, scopes: str = "repo", **filters: Any) -> trends.Trends:
    async def read(conn: AsyncConnection) -> trends.Trends:
        alice = await accounts.find_account(conn, "alice")
        assert alice is not None
        token = Token(1, TokenKind.CLASSIC, frozenset(scopes.split(",")), None, None, {}, None)
        return await trends.organization_trends(conn, Principal(alice, token), "acme", _query(**filters), NOW)

    return await org.api.tx(read)


async def test_the_trends_of_a_constructed_history(org: Org) -> None:
    await _construct(org)
    found = await _trends(org)
    assert found.boundaries == [END - (12 - i) * W for i in range(13)]
    assert found.open_by_severity == {
        "critical": [0] * 7 + [1, 1, 1] + [0] * 2 + [1],
        "high": [1, 1, 1] + [0] * 10,
        "medium": [1] * 11 + [0, 1],
        "low": [0] * 12 + [1],
    }
    assert [w.opened for w in found.weeks] == [0] * 6 + [1, 0, 1, 0, 0, 3]
    assert [w.fixed for w in found.weeks] == [0, 0, 1] + [0] * 5 + [1, 1, 0, 0]
    assert found.fixes == 3
    assert found.median_seconds_to_fix == (14 * D + H).total_seconds()


async def test_the_trends_count_only_readable_repositories_and_follow_filters(org: Org) -> None:
    await _construct(org)
    public = await _trends(org, "public_repo")
    assert public.open_by_severity["critical"] == [0] * 7 + [1, 1, 1] + [0] * 3
    assert public.open_totals[-1] == 2
    assert (await _trends(org)).open_totals[-1] == 3

    critical = await _trends(org, severities=("critical",))
    assert list(critical.open_by_severity) == ["critical"]
    assert [w.opened for w in critical.weeks] == [0] * 6 + [1] + [0] * 4 + [1]
    assert critical.fixes == 1
    assert critical.median_seconds_to_fix == (14 * D + H).total_seconds()

    npm = await _trends(org, ecosystems=("npm",))
    assert npm.open_by_severity["medium"] == [0] * 13
    assert npm.fixes == 3
    # Production-context filters that no repository passes leave nothing to count.
    nowhere = await _trends(org, repository_ids=frozenset())
    assert nowhere.open_totals == [0] * 13
    assert (nowhere.fixes, nowhere.median_seconds_to_fix) == (0, None)


async def test_the_migration_backfills_the_history_from_the_alerts(org: Org, settings: Settings) -> None:
    upgraded = {"package-lock.json": {"pkg:npm/left-pad@1.0.3": ("left-pad", "runtime", "direct")}}
    await org.submit("api", upgraded, 2)
    r = await org.api.patch(
        f"{WEB_ALERTS}/2", token=org.alice, json={"state": "dismissed", "dismissed_reason": "not_used"}
    )
    assert r.status_code == 200, r.text
    config = alembic_config(settings.resolved_database_url)
    # The alembic environment runs its own event loop.
    await asyncio.to_thread(command.downgrade, config, "alerts_0002")
    await asyncio.to_thread(command.upgrade, config, "heads")
    assert await _history(org, "api", 1) == [("open", "high"), ("fixed", "high")]
    assert await _history(org, "web", 1) == [("open", "high")]
    assert await _history(org, "web", 2) == [("open", "critical"), ("dismissed", "critical")]
    assert await _history(org, "secret", 1) == [("open", "low")]


async def _sums(org: Org) -> tuple[list[Any], list[Any]]:
    """The day sums and open counts in key order, less rows that count nothing (what is left when
    events are taken away)."""

    async def read(conn: AsyncConnection) -> tuple[list[Any], list[Any]]:
        found = []
        for table in (dependabot_alert_days, dependabot_alert_open_counts):
            rows = await conn.execute(select(table).order_by(*table.primary_key))
            found.append([tuple(r) for r in rows if any(r[len(table.primary_key) :])])
        return found[0], found[1]

    return await org.api.tx(read)


async def _summed_again(org: Org, settings: Settings) -> tuple[list[Any], list[Any]]:
    """The sums as the migration computes them from the whole history."""
    config = alembic_config(settings.resolved_database_url)
    await asyncio.to_thread(command.downgrade, config, "alerts_0003")
    await asyncio.to_thread(command.upgrade, config, "heads")
    return await _sums(org)


async def test_the_sums_kept_on_every_change_are_the_history_summed(org: Org, settings: Settings) -> None:
    upgraded = {"package-lock.json": {"pkg:npm/left-pad@1.0.3": ("left-pad", "runtime", "direct")}}
    await org.submit("api", upgraded, 2)
    await org.submit("api", API, 3)
    for body in ({"state": "dismissed", "dismissed_reason": "not_used"}, {"state": "open"}):
        r = await org.api.patch(f"{WEB_ALERTS}/2", token=org.alice, json=body)
        assert r.status_code == 200, r.text
    await org.api.patch(
        f"{WEB_ALERTS}/3", token=org.alice, json={"state": "dismissed", "dismissed_reason": "tolerable_risk"}
    )
    kept = await _sums(org)
    days, counts = kept
    # web 1 high, web 2 critical (reopened), api 1 high (reopened), secret 1 low; web 3 dismissed.
    open_now: Counter[str] = Counter()
    for _, severity, n in counts:
        open_now[severity] += n
    assert +open_now == {"critical": 1, "high": 2, "low": 1}
    assert sum(row[-2] for row in days) == 5 + 2  # opened, then reopened
    assert sum(row[-1] for row in days) == 1  # fixed
    assert await _summed_again(org, settings) == kept


async def test_an_advisory_dropped_takes_its_alerts_out_of_the_sums(org: Org, settings: Settings) -> None:
    async def drop(conn: AsyncConnection) -> None:
        await advisories.rebuild(conn, {"GHSA-bbbb-bbbb-bbbb"}, repo.forget_alerts_of)

    await org.api.tx(lambda conn: conn.execute(delete(advisory_documents)))
    await org.api.tx(drop)
    kept = await _sums(org)
    assert sum(n for _, severity, n in kept[1] if severity == "critical") == 0
    assert await _summed_again(org, settings) == kept


async def test_a_constructed_history_is_summed_as_it_is_added(org: Org, settings: Settings) -> None:
    await _construct(org)
    kept = await _sums(org)
    assert await _summed_again(org, settings) == kept
    assert (await _trends(org)).open_totals[-1] == 3
