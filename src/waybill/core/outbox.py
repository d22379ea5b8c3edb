"""The outbox: what a change must tell others, written in the transaction of the change itself.

An event is a row of the job queue (kind ``DISPATCH_JOB``), so it commits or rolls back with the
write that caused it and survives restarts; the webhooks domain's worker fans it out to the hooks.

A write pays for an event only when somebody listens: ``event_subscriptions`` holds one row per
(account, event, active hook), kept by the webhooks domain, and the event is inserted by a
statement that first probes that table's primary key. The hot writes fold the probe into their own
statement (``SUBSCRIBED`` on PostgreSQL) or run it on SQLite's in-process writer (``subscribed``),
so that without hooks they send nothing more to the database.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import Column, ForeignKey, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core import audit, clock
from waybill.core.drivers import Sql, sqlite_time
from waybill.core.models import BigId, metadata

DISPATCH_JOB = "webhooks.dispatch"
# A hook subscribed to every event.
EVERY_EVENT = "*"

event_subscriptions = Table(
    "event_subscriptions",
    metadata,
    # The account whose events are heard: the organization of an organization hook, the owner of
    # the repository of a repository hook (the dispatcher narrows to the repository).
    Column("account_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True),
    Column("event", String(64), primary_key=True),
    # No foreign key: core knows no domain's tables; the webhooks domain removes a hook's rows.
    Column("hook_id", BigId, primary_key=True),
)


def subscribed_sql(account: str, event: str) -> str:
    """SQL text, true when an active hook hears the event of the account: ``account`` and ``event``
    are SQL (a parameter, or a quoted constant such as ``'deployment_record'``), never input."""
    return (
        f"EXISTS (SELECT 1 FROM event_subscriptions WHERE account_id = {account}"  # noqa: S608 (SQL, not input)
        f" AND event IN ({event}, '{EVERY_EVENT}'))"
    )


_JOB_COLUMNS = "kind, key, status, payload, attempts, run_after, created_at"
# The queue's own values for a new job (``waybill.core.jobs``): pending, never attempted.
JOB_INSERT = f"INSERT INTO jobs ({_JOB_COLUMNS})"
JOB_VALUES = f"'{DISPATCH_JOB}', NULL, 'pending'"

_PUBLISH_WHERE = f"WHERE {subscribed_sql(':account_id', ':event')}"
_PUBLISH = {
    "sqlite": text(f"{JOB_INSERT} SELECT {JOB_VALUES}, :payload, 0, :now, :now {_PUBLISH_WHERE}"),
    "postgresql": text(
        f"{JOB_INSERT} SELECT {JOB_VALUES}, CAST(:payload AS jsonb), 0, :now, :now {_PUBLISH_WHERE}"
    ),
}


async def publish(conn: AsyncConnection, account_id: int, event: str, payload: dict[str, Any]) -> None:
    """Queue ``payload`` (with ``event`` and ``account_id``) for the hooks of the account, in the
    caller's transaction, when any hook hears the event: one statement either way. The change is
    recorded in the audit log whether or not any hook hears it."""
    body = json.dumps({**payload, "event": event, "account_id": account_id})
    now = clock.now()
    sqlite = conn.dialect.name == "sqlite"
    action = f"{event}.{payload['action']}" if "action" in payload else event
    await audit.record(conn, account_id, action, repository_id=payload.get("repository_id"))
    await conn.execute(
        _PUBLISH["sqlite" if sqlite else "postgresql"],
        {
            "payload": body,
            "now": sqlite_time(now) if sqlite else now,
            "account_id": account_id,
            "event": event,
        },
    )


_PUBLISH_GLOBAL_WHERE = "WHERE EXISTS (SELECT 1 FROM event_subscriptions WHERE event IN (:event, '*'))"
_PUBLISH_GLOBAL = {
    "sqlite": text(f"{JOB_INSERT} SELECT {JOB_VALUES}, :payload, 0, :now, :now {_PUBLISH_GLOBAL_WHERE}"),
    "postgresql": text(
        f"{JOB_INSERT} SELECT {JOB_VALUES}, CAST(:payload AS jsonb), 0, :now, :now {_PUBLISH_GLOBAL_WHERE}"
    ),
}


async def publish_global(conn: AsyncConnection, event: str, payload: dict[str, Any]) -> None:
    """Queue an event of no account (a global advisory) for every hook, of any account, that hears
    it. Rare writes (advisory imports): the probe reads the small subscriptions table whole."""
    body = json.dumps({**payload, "event": event, "account_id": None})
    now = clock.now()
    sqlite = conn.dialect.name == "sqlite"
    await conn.execute(
        _PUBLISH_GLOBAL["sqlite" if sqlite else "postgresql"],
        {"payload": body, "now": sqlite_time(now) if sqlite else now, "event": event},
    )


@dataclass(frozen=True)
class Event:
    """An event of an object complete now (it may be gone when the event is sent), for the hooks of
    ``account_id`` that hear ``event``."""

    account_id: int
    event: str
    action: str
    # None for an event of the account alone (an admission decision).
    repository_id: int | None
    sender_id: int | None
    body: dict[str, Any]

    @property
    def action_name(self) -> str:
        """The audit log's name of the change: ``event.action``."""
        return f"{self.event}.{self.action}"

    def payload(self) -> str:
        return json.dumps(
            {
                "action": self.action,
                "repository_id": self.repository_id,
                "sender_id": self.sender_id,
                "object": self.body,
                "event": self.event,
                "account_id": self.account_id,
            }
        )


async def publish_object(
    conn: AsyncConnection,
    account_id: int,
    event: str,
    *,
    action: str,
    repository_id: int,
    sender_id: int | None,
    body: dict[str, Any],
) -> None:
    """``publish`` an event whose object is complete now (it may be gone when the event is sent)."""
    payload = {"action": action, "repository_id": repository_id, "sender_id": sender_id, "object": body}
    await publish(conn, account_id, event, payload)


# The same statement for writes made through the drivers themselves (``waybill.core.drivers``).
_PUBLISH_DRIVER = {
    "sqlite": Sql(f"{JOB_INSERT} SELECT {JOB_VALUES}, :payload, 0, :now, :now {_PUBLISH_WHERE}"),
    "postgresql": Sql(
        f"{JOB_INSERT} SELECT {JOB_VALUES}, CAST(:payload AS jsonb), 0, :now, :now {_PUBLISH_WHERE}"
    ),
}


_RECORD_DRIVER = Sql(audit.RECORD_SQL)


def publish_sqlite(conn: sqlite3.Connection, event: Event, now: datetime, who: dict[str, Any]) -> None:
    """On SQLite's writer thread, in the write's own transaction: ``publish``. ``who`` is
    ``audit.actor_params()`` taken in the caller's context."""
    audit.record_sqlite(
        conn,
        who,
        event.account_id,
        event.action_name,
        repository_id=event.repository_id,
        target=None,
        now=now,
    )
    params = {"payload": event.payload(), "now": sqlite_time(now), "account_id": event.account_id}
    conn.execute(_PUBLISH_DRIVER["sqlite"].text, {**params, "event": event.event})


async def publish_asyncpg(conn: asyncpg.Connection, event: Event, now: datetime) -> None:
    """In an asyncpg transaction of the write: ``publish``."""
    entry = _RECORD_DRIVER
    entry_params = {
        "org_id": event.account_id,
        "repository_id": event.repository_id,
        "action": event.action_name,
        "target": None,
        "now": now,
        **audit.actor_params(),
    }
    await conn.execute(entry.postgres, *entry.args(entry_params))
    statement = _PUBLISH_DRIVER["postgresql"]
    params = {"payload": event.payload(), "now": now, "account_id": event.account_id, "event": event.event}
    await conn.execute(statement.postgres, *statement.args(params))


_SUBSCRIBED = text(f"SELECT {subscribed_sql(':account_id', ':event')}")


async def is_subscribed(conn: AsyncConnection, account_id: int, event: str) -> bool:
    """Whether a hook hears the event: for a write that must read more to describe its event."""
    return bool((await conn.execute(_SUBSCRIBED, {"account_id": account_id, "event": event})).scalar())


def subscribed(conn: sqlite3.Connection, account_id: int, event: str) -> bool:
    """On SQLite's writer thread: whether an active hook hears ``event`` of the account."""
    found = conn.execute(f"SELECT {subscribed_sql('?', '?')}", (account_id, event)).fetchone()
    return bool(found and found[0])


def enqueue_sqlite(conn: sqlite3.Connection, payload: dict[str, Any], now: datetime) -> None:
    """On SQLite's writer thread, in the write's own transaction: queue ``payload`` for dispatch."""
    at = sqlite_time(now)
    conn.execute(f"{JOB_INSERT} VALUES ({JOB_VALUES}, ?, 0, ?, ?)", (json.dumps(payload), at, at))
