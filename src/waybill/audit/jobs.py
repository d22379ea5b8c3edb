"""The retention job: audit entries and webhook delivery attempts older than their configured
retention removed, then the job queued again for the next period. Each server queues it when it
starts, unless one is already queued, so one runs per period whatever the number of servers."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from waybill.audit import service
from waybill.config import Settings
from waybill.core import clock, jobs
from waybill.core.db import Database
from waybill.core.jobs import Handler, Job
from waybill.webhooks import repository as webhooks

RETENTION_JOB = "retention.prune"
_KEY = "retention"
PERIOD = timedelta(hours=1)


async def schedule(db: Database, delay: timedelta = timedelta(0)) -> None:
    """Queue the retention job to run after ``delay``, unless one is queued or running."""
    async with db.write() as conn:
        if await jobs.find_active(conn, RETENTION_JOB, _KEY) is None:
            await jobs.enqueue(conn, RETENTION_JOB, {}, key=_KEY, run_after=clock.now() + delay)


async def prune(db: Database, settings: Settings) -> dict[str, int]:
    now = clock.now()
    async with db.write() as conn:
        entries = await service.prune(conn, now, settings.audit_log_retention_days)
        attempts = 0
        if settings.webhook_delivery_retention_days > 0:
            cutoff = now - timedelta(days=settings.webhook_delivery_retention_days)
            attempts = await webhooks.prune_deliveries(conn, cutoff)
    return {"audit_entries": entries, "delivery_attempts": attempts}


def job_handlers(settings: Settings) -> Mapping[str, Handler]:
    async def run(db: Database, job: Job) -> dict[str, Any]:
        result = await prune(db, settings)
        # This job is still running, so the next one is queued beside it, not instead of it.
        async with db.write() as conn:
            await jobs.enqueue(conn, RETENTION_JOB, {}, key=_KEY, run_after=clock.now() + PERIOD)
        return result

    return {RETENTION_JOB: run}
