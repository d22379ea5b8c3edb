"""The outbox's events, fanned out: each event's body is built once, then queued for every active
hook that hears it (the organization's hooks, and the repository's)."""

from __future__ import annotations

from typing import Any

from waybill.core.db import Database
from waybill.core.jobs import Handler, Job
from waybill.webhooks import events, queue
from waybill.webhooks import repository as repo
from waybill.webhooks.payloads import Links


def handler(links: Links) -> Handler:
    async def dispatch(db: Database, job: Job) -> dict[str, Any]:
        payload = job.payload
        event = payload["event"]
        account_id = None if payload["account_id"] is None else int(payload["account_id"])
        queued = 0
        # One transaction: the job is retried whole if it fails, and a retry finds nothing queued twice
        # only because nothing was committed.
        async with db.write() as conn:
            for message in await events.build(conn, event, payload, links):
                for hook in await repo.hooks_hearing(conn, account_id, message.repository_id, event):
                    await queue.enqueue(
                        conn,
                        hook,
                        event=event,
                        action=message.action,
                        repository_id=message.repository_id,
                        payload=message.body,
                    )
                    queued += 1
        return {"deliveries": queued}

    return dispatch
