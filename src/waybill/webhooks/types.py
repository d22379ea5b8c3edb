"""Values of the webhooks domain."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class ContentType(StrEnum):
    JSON = "json"
    FORM = "form"


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    # This attempt failed and the event was queued again.
    RETRIED = "retried"
    # This attempt failed and no other will follow (not retryable, or a day went by).
    FAILED = "failed"


ATTEMPTED = (DeliveryState.DELIVERED, DeliveryState.RETRIED, DeliveryState.FAILED)
QUEUED = (DeliveryState.PENDING, DeliveryState.SENDING)


class Event(StrEnum):
    """The events Waybill sends: GitHub's, then Waybill's own (what GitHub sends nothing for)."""

    PING = "ping"
    DEPENDABOT_ALERT = "dependabot_alert"
    SECURITY_ADVISORY = "security_advisory"
    CODE_SCANNING_ALERT = "code_scanning_alert"
    DEPLOYMENT_RECORD = "deployment_record"
    STORAGE_RECORD = "storage_record"
    ATTESTATION = "attestation"
    DEPENDENCY_SNAPSHOT = "dependency_snapshot"
    ADMISSION_DECISION = "admission_decision"


@dataclass(frozen=True)
class Hook:
    id: int
    owner_id: int
    repository_id: int | None
    name: str
    active: bool
    events: list[str]
    url: str
    content_type: ContentType
    secret: str | None
    insecure_ssl: str
    last_response: dict[str, Any]
    created_at: datetime
    updated_at: datetime

    @property
    def target_type(self) -> str:
        """``X-GitHub-Hook-Installation-Target-Type``."""
        return "organization" if self.repository_id is None else "repository"

    @property
    def target_id(self) -> int:
        return self.owner_id if self.repository_id is None else self.repository_id

    def hears(self, event: str) -> bool:
        return "*" in self.events or event in self.events


@dataclass(frozen=True)
class Delivery:
    id: int
    hook_id: int
    guid: str
    sequence: int | None
    event: str
    action: str | None
    repository_id: int | None
    redelivery: bool
    payload: dict[str, Any]
    state: DeliveryState
    attempt: int
    due_at: datetime
    lease_until: datetime | None
    first_due_at: datetime
    url: str
    status: str | None
    status_code: int
    duration: float
    delivered_at: datetime | None
    request_headers: dict[str, str] | None
    response_headers: dict[str, str] | None
    response_body: str | None
    created_at: datetime


@dataclass(frozen=True)
class Outcome:
    """What one attempt got back."""

    status: str
    status_code: int
    duration: float
    request_headers: dict[str, str]
    response_headers: dict[str, str] | None
    response_body: str | None
    # Worth another attempt: no connection, a timeout, a 5xx or a 429.
    retryable: bool

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300
