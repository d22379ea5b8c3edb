"""Event bodies built from what the outbox recorded, one builder per event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.webhooks.payloads import Links


@dataclass(frozen=True)
class Message:
    """One event body, for the hooks of the event's account (and of ``repository_id``)."""

    action: str | None
    repository_id: int | None
    body: dict[str, Any]


Builder = Callable[[AsyncConnection, dict[str, Any], Links], Awaitable[list[Message]]]
BUILDERS: dict[str, Builder] = {}


async def build(conn: AsyncConnection, event: str, payload: dict[str, Any], links: Links) -> list[Message]:
    builder = BUILDERS.get(event)
    if builder is None:
        raise LookupError(f"no webhook body for event {event!r}")
    return await builder(conn, payload, links)
