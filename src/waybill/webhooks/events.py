"""Event bodies built from what the outbox recorded, one builder per event."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from waybill.accounts import schemas as accounts_schemas
from waybill.accounts import service as accounts
from waybill.accounts.types import Account, Repository
from waybill.advisories import service as advisories
from waybill.alerts import schemas as alert_schemas
from waybill.alerts import service as dependabot
from waybill.artifacts import schemas as artifacts
from waybill.artifacts.types import Change, DeploymentRecord, DeploymentStatus, StorageRecord, StorageStatus
from waybill.codescanning import schemas as code_scanning_schemas
from waybill.codescanning import service as code_scanning
from waybill.core.drivers import utc
from waybill.core.errors import NotFound
from waybill.webhooks import payloads
from waybill.webhooks.payloads import Links
from waybill.webhooks.types import Event


@dataclass(frozen=True)
class Message:
    """One event body, for the hooks of the event's account (and of ``repository_id``)."""

    action: str | None
    repository_id: int | None
    body: dict[str, Any]


Builder = Callable[[AsyncConnection, dict[str, Any], Links], Awaitable[list[Message]]]


@dataclass(frozen=True)
class Parties:
    """The accounts and repositories an event's bodies name, read in two queries."""

    accounts: dict[int, Account]
    repositories: dict[int, Repository]


async def parties(conn: AsyncConnection, account_ids: set[int | None], repository_ids: set[int]) -> Parties:
    return Parties(
        await accounts.accounts_by_ids(conn, {i for i in account_ids if i is not None}),
        await accounts.repositories_by_ids(conn, repository_ids),
    )


def _deployment(raw: dict[str, Any]) -> DeploymentRecord:
    return DeploymentRecord(
        id=raw["id"],
        org_id=raw["org_id"],
        repository_id=raw["repository_id"],
        digest=raw["digest"],
        logical_environment=raw["logical_environment"],
        physical_environment=raw["physical_environment"],
        cluster=raw["cluster"],
        deployment_name=raw["deployment_name"],
        status=DeploymentStatus(raw["status"]),
        tags=raw["tags"],
        runtime_risks=raw["runtime_risks"],
        attestation_id=raw["attestation_id"],
        last_change=None if raw["last_change"] is None else Change(raw["last_change"]),
        created_at=utc(raw["created_at"]),
        updated_at=utc(raw["updated_at"]),
    )


async def _deployment_records(conn: AsyncConnection, payload: dict[str, Any], links: Links) -> list[Message]:
    """``deployment_record``: one event per record the write changed, its action the change."""
    records = [_deployment(raw) for raw in payload["records"]]
    found = await parties(
        conn, {payload["account_id"], payload.get("sender_id")}, {r.repository_id for r in records}
    )
    org, sender = found.accounts.get(payload["account_id"]), found.accounts.get(payload.get("sender_id") or 0)
    messages = []
    for record in records:
        assert record.last_change is not None
        body = payloads.envelope(
            links,
            action=record.last_change.value,
            repository_=found.repositories.get(record.repository_id),
            organization_=org,
            sender=sender,
            deployment_record={**artifacts.deployment_record(record), "status": record.status.value},
        )
        messages.append(Message(record.last_change.value, record.repository_id, body))
    return messages


async def _storage_record(conn: AsyncConnection, payload: dict[str, Any], links: Links) -> list[Message]:
    """``storage_record``: created, or updated when a write for the same place changed it."""
    raw = payload["record"]
    record = StorageRecord(
        id=raw["id"],
        name=payload["name"],
        digest=raw["digest"],
        artifact_url=raw["artifact_url"],
        registry_url=raw["registry_url"],
        repository=raw["registry_repository"] or None,
        status=StorageStatus(raw["status"]),
        created_at=utc(raw["created_at"]),
        updated_at=utc(raw["updated_at"]),
    )
    found = await parties(conn, {payload["account_id"], payload.get("sender_id")}, {raw["repository_id"]})
    action = "created" if record.created_at == record.updated_at else "updated"
    body = payloads.envelope(
        links,
        action=action,
        repository_=found.repositories.get(raw["repository_id"]),
        organization_=found.accounts.get(payload["account_id"]),
        sender=found.accounts.get(payload.get("sender_id") or 0),
        storage_record=artifacts.storage_record(record, nullable=True),
    )
    return [Message(action, raw["repository_id"], body)]


# The REST alert carries fields that GitHub's webhook shape of an alert (a closed object) has not:
# its assignees, and its advisory's classification.
_REST_ONLY_ALERT = frozenset({"assignees"})
_REST_ONLY_ADVISORY = frozenset({"classification"})


def _webhook_alert(alert: dict[str, Any]) -> dict[str, Any]:
    advisory = {k: v for k, v in alert["security_advisory"].items() if k not in _REST_ONLY_ADVISORY}
    return {**{k: v for k, v in alert.items() if k not in _REST_ONLY_ALERT}, "security_advisory": advisory}


async def _dependabot_alerts(conn: AsyncConnection, payload: dict[str, Any], links: Links) -> list[Message]:
    """``dependabot_alert``: GitHub's shape, the alert as it is when the event is sent."""
    repository_id = int(payload["repository_id"])
    changes = [(int(number), str(action)) for number, action in payload["alerts"]]
    views = {
        v.alert.number: v for v in await dependabot.alert_views(conn, repository_id, [n for n, _ in changes])
    }
    found = await parties(conn, {payload["account_id"], payload.get("sender_id")}, {repository_id})
    messages = []
    for number, action in changes:
        view = views.get(number)
        if view is None:
            continue
        body = payloads.envelope(
            links,
            action=action,
            repository_=found.repositories.get(repository_id),
            organization_=found.accounts.get(payload["account_id"]),
            sender=found.accounts.get(payload.get("sender_id") or 0),
            alert=_webhook_alert(alert_schemas.alert(view, links.api, links.web, with_cvss=True)),
        )
        messages.append(Message(action, repository_id, body))
    return messages


def _code_scanning_alert(
    view: code_scanning_schemas.AlertView, at: dict[str, Any], found: Parties, links: Links
) -> dict[str, Any]:
    """GitHub's webhook shape of a code scanning alert: the REST alert, with its state as it was at
    the change. The shape has no ``fixed_at`` value (it is always null there)."""
    body = code_scanning_schemas.alert(view, links.api, links.web)
    dismisser = found.accounts.get(at["dismissed_by_id"] or 0)
    body.update(
        state=at["state"],
        fixed_at=None,
        dismissed_at=at["dismissed_at"],
        dismissed_reason=at["dismissed_reason"],
        dismissed_comment=at["dismissed_comment"],
        dismissed_by=None
        if dismisser is None
        else accounts_schemas.simple_user(dismisser, links.api, links.web),
        most_recent_instance=body["most_recent_instance"] or None,
    )
    return body


async def _code_scanning_alerts(
    conn: AsyncConnection, payload: dict[str, Any], links: Links
) -> list[Message]:
    """``code_scanning_alert``: one event per change an upload, a deletion or a user made."""
    repository_id = int(payload["repository_id"])
    changes = payload["alerts"]
    views = {
        v.alert.number: v
        for v in await code_scanning.alert_views(conn, repository_id, [int(c["number"]) for c in changes])
    }
    people = {payload["account_id"], payload.get("sender_id")} | {c["dismissed_by_id"] for c in changes}
    found = await parties(conn, people, {repository_id})
    messages = []
    for change in changes:
        view = views.get(int(change["number"]))
        if view is None:
            continue  # deleted with its analysis since
        body = payloads.envelope(
            links,
            action=change["action"],
            repository_=found.repositories.get(repository_id),
            organization_=found.accounts.get(payload["account_id"]),
            sender=found.accounts.get(payload.get("sender_id") or 0),
            alert=_code_scanning_alert(view, change, found, links),
            ref=change["ref"],
            commit_oid=change["commit_oid"],
        )
        messages.append(Message(change["action"], repository_id, body))
    return messages


async def _security_advisories(
    conn: AsyncConnection, payload: dict[str, Any], _links: Links
) -> list[Message]:
    """``security_advisory``: published, updated or withdrawn by an import; GitHub sends it with no
    repository, and so does Waybill, to every hook that hears it."""
    messages = []
    for ghsa_id, action in payload["advisories"]:
        try:
            advisory, vulnerabilities = await advisories.get_advisory(conn, ghsa_id)
        except NotFound:
            continue  # rebuilt away since (no document left)
        body = {
            "action": action,
            "security_advisory": alert_schemas.security_advisory(advisory, vulnerabilities, with_cvss=True),
        }
        messages.append(Message(action, None, body))
    return messages


def _prebuilt(event: Event) -> Builder:
    """For events whose object was described when it was written (``outbox.publish_object``)."""

    async def build(conn: AsyncConnection, payload: dict[str, Any], links: Links) -> list[Message]:
        repository_id = payload["repository_id"]
        account_id = int(payload["account_id"])
        found = await parties(
            conn, {account_id, payload.get("sender_id")}, set() if repository_id is None else {repository_id}
        )
        repo = None if repository_id is None else found.repositories.get(repository_id)
        # A change the system made (a queued verification) is sent by the repository's owner.
        sender = found.accounts.get(payload.get("sender_id") or account_id)
        body = payloads.envelope(
            links,
            action=payload["action"],
            repository_=repo,
            organization_=found.accounts.get(account_id),
            sender=sender,
            **{event.value: payload["object"]},
        )
        return [Message(payload["action"], repository_id, body)]

    return build


BUILDERS: dict[str, Builder] = {
    Event.ATTESTATION.value: _prebuilt(Event.ATTESTATION),
    Event.DEPENDENCY_SNAPSHOT.value: _prebuilt(Event.DEPENDENCY_SNAPSHOT),
    Event.ADMISSION_DECISION.value: _prebuilt(Event.ADMISSION_DECISION),
    Event.SECURITY_ADVISORY.value: _security_advisories,
    Event.DEPENDABOT_ALERT.value: _dependabot_alerts,
    Event.CODE_SCANNING_ALERT.value: _code_scanning_alerts,
    Event.DEPLOYMENT_RECORD.value: _deployment_records,
    Event.STORAGE_RECORD.value: _storage_record,
}


async def build(conn: AsyncConnection, event: str, payload: dict[str, Any], links: Links) -> list[Message]:
    builder = BUILDERS.get(event)
    if builder is None:
        raise LookupError(f"no webhook body for event {event!r}")
    return await builder(conn, payload, links)
