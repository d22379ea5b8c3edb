"""Each hook's queue of attempts, worked through in order by the queued workers.

A ``DELIVER_JOB`` (keyed by hook) sends the hook's due attempts one after another. A failure worth
retrying (no connection, a timeout, a 5xx, a 429) queues the next attempt of the same event in the
same place, after an exponential backoff with jitter (the first within 10 s), for up to a day; the
events behind it wait, so that the hook sees them in the order they were written.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core import clock, jobs
from waybill.core.db import Database
from waybill.webhooks import repository as repo
from waybill.webhooks import sending
from waybill.webhooks.types import Delivery, DeliveryState, Hook, Outcome

DELIVER_JOB = "webhooks.deliver"
RETRY_FOR = timedelta(hours=24)
FIRST_RETRY_SECONDS = 10.0
MAX_BACKOFF_SECONDS = 3600.0
# While an attempt is in flight: longer than its timeout, so a live sender is never overtaken.
SEND_LEASE = timedelta(seconds=60)
# Attempts one job makes before it leaves the worker to other jobs (it queues its successor).
BATCH = 50


def job_key(hook_id: int) -> str:
    return f"hook:{hook_id}"


def backoff(attempt: int) -> timedelta:
    """The wait after failed attempt ``attempt`` (1, 2, ...): doubling from 10 s, capped at an
    hour, each drawn between half and all of it so that failed hooks do not retry in step."""
    ceiling = min(FIRST_RETRY_SECONDS * 2 ** (attempt - 1), MAX_BACKOFF_SECONDS)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))


async def wake(conn: AsyncConnection, hook_id: int, at: datetime) -> None:
    """Make sure a job will work the hook's queue by ``at`` (in the caller's transaction)."""
    if not await repo.wakeup_queued(conn, DELIVER_JOB, job_key(hook_id), at):
        await jobs.enqueue(conn, DELIVER_JOB, {"hook_id": hook_id}, key=job_key(hook_id), run_after=at)


async def enqueue(
    conn: AsyncConnection,
    hook: Hook,
    *,
    event: str,
    action: str | None,
    repository_id: int | None,
    payload: dict[str, Any],
    guid: str | None = None,
    redelivery: bool = False,
) -> int:
    """Queue an event (or a redelivery of one) for ``hook``, behind what it queued before."""
    now = clock.now()
    delivery_id = await repo.insert_delivery(
        conn,
        {
            "hook_id": hook.id,
            "guid": guid or str(uuid.uuid4()),
            "event": event,
            "action": action,
            "repository_id": repository_id,
            "redelivery": redelivery,
            "payload": payload,
            "state": DeliveryState.PENDING,
            "attempt": 1,
            "due_at": now,
            "first_due_at": now,
            "url": hook.url,
            "status_code": 0,
            "duration": 0.0,
            "created_at": now,
        },
        sequence=None,
    )
    await wake(conn, hook.id, now)
    return delivery_id


def _last_response(outcome: Outcome) -> dict[str, Any]:
    """The hook's ``last_response``, as GitHub words it."""
    if outcome.ok:
        return {"code": outcome.status_code, "status": "active", "message": "OK"}
    return {"code": outcome.status_code or None, "status": "misconfigured", "message": outcome.status}


async def _record(conn: AsyncConnection, hook: Hook, head: Delivery, outcome: Outcome) -> None:
    now = clock.now()
    due = now + backoff(head.attempt)
    retry = not outcome.ok and outcome.retryable and due - head.first_due_at < RETRY_FOR
    state = (
        DeliveryState.DELIVERED if outcome.ok else DeliveryState.RETRIED if retry else DeliveryState.FAILED
    )
    await repo.record_attempt(
        conn,
        head.id,
        {
            "state": state,
            "status": outcome.status[:255],
            "status_code": outcome.status_code,
            "duration": outcome.duration,
            "delivered_at": now,
            "request_headers": outcome.request_headers,
            "response_headers": outcome.response_headers,
            "response_body": outcome.response_body,
        },
    )
    if retry:
        await repo.insert_delivery(
            conn,
            {
                "hook_id": hook.id,
                "guid": head.guid,
                "event": head.event,
                "action": head.action,
                "repository_id": head.repository_id,
                "redelivery": head.redelivery,
                "payload": head.payload,
                "state": DeliveryState.PENDING,
                "attempt": head.attempt + 1,
                "due_at": due,
                "first_due_at": head.first_due_at,
                "url": hook.url,
                "status_code": 0,
                "duration": 0.0,
                "created_at": now,
            },
            sequence=head.sequence,
        )
    await repo.set_last_response(conn, hook.id, _last_response(outcome))


async def _take(conn: AsyncConnection, hook_id: int) -> tuple[Hook, Delivery] | None:
    """Claim the hook's next due attempt; None when there is none due (a job is queued for the
    next one) or another worker is sending it."""
    now = clock.now()
    head = await repo.queue_head(conn, hook_id)
    if head is None:
        return None
    if head.state is DeliveryState.SENDING and head.lease_until is not None and head.lease_until > now:
        return None
    if head.due_at > now:
        await wake(conn, hook_id, head.due_at)
        return None
    hook = (await repo.hooks_by_ids(conn, [hook_id])).get(hook_id)
    if hook is None:
        return None
    await repo.claim(conn, head.id, now + SEND_LEASE)
    return hook, head


def deliver_handler(allow_private: bool) -> jobs.Handler:
    # One client per certificate setting, kept for the process: building one (its TLS context) costs
    # more than a delivery, and its pool keeps connections to a busy receiver open.
    clients: dict[bool, httpx.AsyncClient] = {}

    def client_for(hook: Hook) -> httpx.AsyncClient:
        verify = hook.insecure_ssl != "1"
        if verify not in clients:
            clients[verify] = sending.client(verify=verify)
        return clients[verify]

    async def deliver(db: Database, job: jobs.Job) -> dict[str, Any]:
        hook_id = int(job.payload["hook_id"])
        sent = 0
        async with db.write() as conn:
            taken = await _take(conn, hook_id)
        while taken is not None:
            hook, head = taken
            outcome = await sending.attempt(client_for(hook), hook, head, allow_private=allow_private)
            sent += 1
            # The outcome and the next claim in one transaction: one commit per delivery.
            async with db.write() as conn:
                await _record(conn, hook, head, outcome)
                if sent >= BATCH:
                    await jobs.enqueue(conn, DELIVER_JOB, {"hook_id": hook_id}, key=job_key(hook_id))
                    break
                taken = await _take(conn, hook_id)
        return {"attempts": sent}

    return deliver
