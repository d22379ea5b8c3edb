"""The audit log: who changed what, when, written in the transaction of the change itself.

A write records its entries with the actor and request id of the context it runs in: the HTTP
layer names the request id for each request and the caller once it is resolved; the command line
names the operator and an id of its own run; a job names itself. Unlike the outbox's events, an
entry is written whether or not anyone listens, so the hot writes fold it into their own statement
(``ENTRY_COLUMNS`` and ``actor_params``) rather than paying a round trip for it.
"""

from __future__ import annotations

import contextvars
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Index, String, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.core import clock
from waybill.core.drivers import sqlite_time
from waybill.core.models import BigId, UTCDateTime, metadata


class ActorType(StrEnum):
    USER = "user"
    # A GitHub App installation, acting as its bot account.
    APP = "app"
    # A CI job, through a trusted publisher's OIDC exchange.
    PUBLISHER = "publisher"
    # The ``waybill`` command line, run by an operator on the server's host.
    CLI = "cli"
    # A background job of the server.
    JOB = "job"


@dataclass(frozen=True)
class Actor:
    type: ActorType
    login: str
    id: int | None = None


audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("org_id", BigId, ForeignKey("accounts.id", ondelete="CASCADE"), nullable=False),
    # No foreign key: an entry outlives the repository it names.
    Column("repository_id", BigId, nullable=True),
    Column("action", String(64), nullable=False),
    # What the action was on, in its domain's words (a deployment's name, an artifact's digest).
    Column("target", String(512), nullable=True),
    Column("actor_type", String(16), nullable=False),
    Column("actor_id", BigId, nullable=True),
    Column("actor_login", String(255), nullable=False),
    Column("request_id", String(64), nullable=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Index("ix_audit_log_org_id_id", "org_id", "id"),
    Index("ix_audit_log_created_at", "created_at"),
)

# The columns a write's statement fills, and the parameters ``actor_params`` gives it for the actor.
ENTRY_COLUMNS = (
    "org_id, repository_id, action, target, actor_type, actor_id, actor_login, request_id, created_at"
)
ACTOR_VALUES = ":audit_actor_type, :audit_actor_id, :audit_actor_login, :audit_request_id"
# PostgreSQL types a SELECT list's parameters from themselves, not from the columns they go to.
ACTOR_VALUES_PG = (
    "CAST(:audit_actor_type AS text), CAST(:audit_actor_id AS bigint), CAST(:audit_actor_login AS text),"
    " CAST(:audit_request_id AS text)"
)

UNKNOWN = Actor(ActorType.JOB, "unknown")
_actor: contextvars.ContextVar[Actor] = contextvars.ContextVar("waybill_audit_actor", default=UNKNOWN)
_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("waybill_request_id", default=None)


def set_request(request_id: str | None) -> None:
    """The request id of what runs in this context from now on."""
    _request_id.set(request_id)


def set_actor(actor: Actor) -> None:
    _actor.set(actor)


def actor() -> Actor:
    return _actor.get()


def request_id() -> str | None:
    return _request_id.get()


def actor_params() -> dict[str, Any]:
    who = _actor.get()
    return {
        "audit_actor_type": who.type.value,
        "audit_actor_id": who.id,
        "audit_actor_login": who.login,
        "audit_request_id": _request_id.get(),
    }


RECORD_SQL = (
    f"INSERT INTO audit_log ({ENTRY_COLUMNS})"  # noqa: S608 (SQL, not input)
    f" VALUES (:org_id, :repository_id, :action, :target, {ACTOR_VALUES}, :now)"
)
_RECORD = text(RECORD_SQL)


async def record(
    conn: AsyncConnection, org_id: int, action: str, *, repository_id: int | None, target: str | None = None
) -> None:
    """One entry, in the caller's transaction."""
    now = clock.now()
    await conn.execute(
        _RECORD,
        {
            "org_id": org_id,
            "repository_id": repository_id,
            "action": action,
            "target": target,
            "now": sqlite_time(now) if conn.dialect.name == "sqlite" else now,
            **actor_params(),
        },
    )


def record_sqlite(
    conn: sqlite3.Connection,
    who: dict[str, Any],
    org_id: int,
    action: str,
    *,
    repository_id: int | None,
    target: str | None,
    now: datetime,
) -> None:
    """On SQLite's writer thread, in the write's own unit: ``record``. ``who`` is ``actor_params()``
    taken in the caller's context (the writer thread has none of its own)."""
    params = {
        "org_id": org_id,
        "repository_id": repository_id,
        "action": action,
        "target": target,
        "now": sqlite_time(now),
        **who,
    }
    # The text itself: compiling the SQLAlchemy form on every write would cost more than the insert.
    conn.execute(RECORD_SQL, params)


RECORD_MANY_SQLITE = (
    f"INSERT INTO audit_log ({ENTRY_COLUMNS}) SELECT :org_id, json_extract(value, '$[0]'),"  # noqa: S608 (SQL, not input)
    f" json_extract(value, '$[1]'), json_extract(value, '$[2]'), {ACTOR_VALUES}, :now"
    " FROM json_each(:entries)"
)


def record_many_sqlite(
    conn: sqlite3.Connection, who: dict[str, Any], org_id: int, entries: str, now: datetime
) -> None:
    """``record_sqlite`` for the entries of one write: a JSON array of [repository_id, action,
    target], in one statement."""
    conn.execute(RECORD_MANY_SQLITE, {"org_id": org_id, "entries": entries, "now": sqlite_time(now), **who})
