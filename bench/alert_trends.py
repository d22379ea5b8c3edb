"""Alert trends: the time of the trend queries (open by severity per week, opened and fixed per
week, median time to fix) over 40,000 Dependabot alerts (``ALERTS=100000`` for more) with 2.3 events
each in their history, spread over 20 repositories and 20 weeks, on SQLite or PostgreSQL; and of
the organization's alerts page that shows them.

    python -m bench.alert_trends [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Alerts are bulk-inserted through the table and events through ``add_events``, which keeps the day
sums as every state change does (no snapshot would make 40,000 alerts quickly); each alert opens,
is fixed some days later, and every other one reopens.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from sqlalchemy import func, select, text

from bench.scratch import scratch_settings
from bench.web_pages import advisory_files, signed_in
from waybill.accounts import service as accounts
from waybill.advisories.models import advisories
from waybill.alerts import repository as alert_sql
from waybill.alerts import service as alerts
from waybill.alerts import trends
from waybill.alerts.models import dependabot_alert_events, dependabot_alerts
from waybill.alerts.schemas import AlertQuery, newest_first
from waybill.alerts.types import AlertFilter
from waybill.app import create_app
from waybill.auth import tokens
from waybill.auth.types import Principal, Token, TokenKind
from waybill.config import Settings

ALERTS = int(os.environ.get("ALERTS", "40000"))
REPOSITORIES = 20
SPREAD = timedelta(weeks=20)
CHUNK = 2_000
RUNS = 15


Rows = list[dict[str, Any]]


def histories(now: datetime, advisory_ids: list[tuple[int, str]], repo_ids: list[int]) -> tuple[Rows, Rows]:
    alert_rows: Rows = []
    event_rows: Rows = []
    for i in range(ALERTS):
        repo = repo_ids[i % REPOSITORIES]
        advisory, severity = advisory_ids[i % len(advisory_ids)]
        opened = now - SPREAD * ((i * 7919) % ALERTS) / ALERTS
        fixed = opened + timedelta(days=1 + i % 30, hours=i % 24)
        reopened = fixed + timedelta(days=3)
        story = [("open", opened), ("fixed", fixed)] + ([("open", reopened)] if i % 2 == 0 else [])
        story = [(s, at) for s, at in story if at <= now]
        state, updated = story[-1]
        alert_rows.append(
            {
                "id": i + 1,
                "repository_id": repo,
                "number": i // REPOSITORIES + 1,
                "advisory_id": advisory,
                "identity": f"{i:064x}",
                "ecosystem": "npm",
                "package_name": f"@bench/pkg-{i}",
                "package_key": f"@bench/pkg-{i}",
                "package_url": f"pkg:npm/%40bench/pkg-{i}@1.0.0",
                "manifest_path": "package-lock.json",
                "version": "1.0.0",
                "scope": "runtime",
                "relationship": "direct",
                "vulnerable_version_range": ">= 0",
                "first_patched_version": None,
                "present": state == "open",
                "state": state,
                "created_at": opened,
                "updated_at": updated,
                "fixed_at": updated if state == "fixed" else None,
            }
        )
        prior: tuple[str | None, str | None, datetime | None] = (None, None, None)
        for s, at in story:
            event_rows.append(
                {
                    "alert_id": i + 1,
                    "repository_id": repo,
                    "state": s,
                    "severity": severity,
                    "occurred_at": at,
                    "prior_state": prior[0],
                    "prior_severity": prior[1],
                    "prior_at": prior[2],
                }
            )
            prior = (s, severity, at)
    return alert_rows, event_rows


async def load(app: Any, now: datetime) -> tuple[str, int]:
    async with app.db.write() as conn:
        await accounts.create_user(conn, "owner")
        org = await accounts.create_org(conn, "bench", "owner")
        repos = [
            await accounts.create_repository(conn, org, f"repo-{n}", private=n % 5 == 0)
            for n in range(REPOSITORIES)
        ]
        token = await tokens.create_classic(conn, "owner", ["repo"])
        await alerts.import_advisories(conn, advisory_files())
        found = await conn.execute(select(advisories.c.id, advisories.c.severity).order_by(advisories.c.id))
        advisory_ids = [(row.id, row.severity) for row in found]
    alert_rows, event_rows = histories(now, advisory_ids, [r.id for r in repos])
    for start in range(0, len(alert_rows), CHUNK):
        async with app.db.write() as conn:
            await conn.execute(dependabot_alerts.insert(), alert_rows[start : start + CHUNK])
    for start in range(0, len(event_rows), CHUNK):
        async with app.db.write() as conn:
            await alert_sql.add_events(conn, event_rows[start : start + CHUNK])
    async with app.db.write() as conn:
        await conn.execute(text("ANALYZE"))
        events = int(
            (await conn.execute(select(func.count()).select_from(dependabot_alert_events))).scalar_one()
        )
    return token, events


def _query(**filters: Any) -> AlertQuery:
    return newest_first(AlertFilter(**filters))


def _report(label: str, times: list[float]) -> None:
    times.sort()
    median = statistics.median(times) * 1000
    p95 = times[int(len(times) * 0.95) - 1] * 1000
    print(f"{label:48} {median:6.1f}ms {p95:6.1f}ms")


async def run(settings: Settings) -> None:
    app = create_app(settings)
    now = datetime.now(UTC)
    async with LifespanManager(app):
        started = time.perf_counter()
        token, events = await load(app, now)
        print(f"loaded {ALERTS:,} alerts, {events:,} events in {time.perf_counter() - started:.1f} s")
        async with app.db.read() as conn:
            owner = await accounts.find_account(conn, "owner")
        assert owner is not None
        principal = Principal(owner, Token(1, TokenKind.CLASSIC, frozenset({"repo"}), None, None, {}, None))
        print(f"{'trends':48} {'median':>8} {'p95':>8}")
        for label, query in {
            "all severities": _query(),
            "severity critical": _query(severities=("critical",)),
            "package (1 alert)": _query(packages=(("npm", "@bench/pkg-300"),)),
        }.items():
            times = []
            for _ in range(RUNS):
                begin = time.perf_counter()
                async with app.db.read() as conn:
                    found = await trends.organization_trends(conn, principal, "bench", query, now)
                times.append(time.perf_counter() - begin)
            _report(f"{label} ({found.open_totals[-1]:,} open, {found.fixes:,} fixes)", times)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as client:
            await signed_in(client, token)
            times = []
            for _ in range(RUNS):
                begin = time.perf_counter()
                response = await client.get("/ui/orgs/bench/alerts")
                times.append(time.perf_counter() - begin)
                assert response.status_code == 200, response.text[:300]
            _report("alerts page (owner)", times)


def main() -> None:
    logging.getLogger("httpx").setLevel(logging.WARNING)
    parser = argparse.ArgumentParser()
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    with scratch_settings(args.database_url) as settings:
        asyncio.run(run(settings))


if __name__ == "__main__":
    main()
