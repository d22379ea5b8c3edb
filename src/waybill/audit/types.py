"""The audit log's value types."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from waybill.core.audit import ActorType


@dataclass(frozen=True)
class Entry:
    id: int
    org_id: int
    repository_id: int | None
    repository_name: str | None
    action: str
    target: str | None
    actor_type: ActorType
    actor_id: int | None
    actor_login: str
    request_id: str | None
    created_at: datetime


@dataclass(frozen=True)
class Filters:
    """What a listing keeps: each given filter narrows it; ``action`` names one action
    (``deployment_record.created``) or all of an object's (``deployment_record``)."""

    actor: str | None = None
    action: str | None = None
    repository_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
