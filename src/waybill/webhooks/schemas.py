"""Request bodies of the hook operations, parsed at the edge, and GitHub's response shapes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from waybill.core.clock import iso, iso_or_none
from waybill.core.errors import ValidationFailed
from waybill.webhooks.types import ContentType, Delivery, Hook

HOOK_RESOURCE = "Hook"
# GitHub shows that a secret is set, never the secret.
SECRET_MASK = "********"  # noqa: S105 (the mask, not a secret)
DEFAULT_EVENTS = ["push"]
_EVENT_NAME = re.compile(r"^(\*|[a-z][a-z0-9_]{0,63})$")

Unset = msgspec.UnsetType
UNSET = msgspec.UNSET


class ConfigBody(msgspec.Struct, omit_defaults=True):
    url: str | Unset = UNSET
    content_type: str | Unset = UNSET
    secret: str | Unset | None = UNSET
    insecure_ssl: str | int | float | Unset = UNSET
    # Accepted on organization hooks (GitHub's basic-auth fields), and not used.
    username: str | Unset = UNSET
    password: str | Unset = UNSET


class HookCreateBody(msgspec.Struct):
    name: str | Unset = UNSET
    config: ConfigBody | Unset = UNSET
    events: list[str] | Unset = UNSET
    active: bool | Unset = UNSET


class HookUpdateBody(msgspec.Struct):
    name: str | Unset = UNSET
    config: ConfigBody | Unset = UNSET
    events: list[str] | Unset = UNSET
    add_events: list[str] | Unset = UNSET
    remove_events: list[str] | Unset = UNSET
    active: bool | Unset = UNSET


class ConfigUpdateBody(msgspec.Struct, forbid_unknown_fields=True):
    url: str | Unset = UNSET
    content_type: str | Unset = UNSET
    secret: str | Unset | None = UNSET
    insecure_ssl: str | int | float | Unset = UNSET


def _invalid(field: str, message: str, value: Any = None) -> ValidationFailed:
    return ValidationFailed.one(HOOK_RESOURCE, field, "invalid", message, value)


@dataclass(frozen=True)
class ConfigChange:
    """A config's fields, each None when the body left it out."""

    url: str | None = None
    content_type: ContentType | None = None
    # "" clears the secret.
    secret: str | None = None
    insecure_ssl: str | None = None


def config_change(body: ConfigBody | ConfigUpdateBody | Unset, *, url_required: bool) -> ConfigChange:
    if isinstance(body, Unset):
        if url_required:
            raise ValidationFailed.one(HOOK_RESOURCE, "config.url", "missing_field", "config.url is missing")
        return ConfigChange()
    url = None if isinstance(body.url, Unset) else body.url.strip()
    if url_required and not url:
        raise ValidationFailed.one(HOOK_RESOURCE, "config.url", "missing_field", "config.url is missing")
    if url is not None and (not url or len(url) > 2048):
        raise _invalid("config.url", "config.url must be a URL of at most 2048 characters", url)
    content_type = None
    if not isinstance(body.content_type, Unset):
        try:
            content_type = ContentType(body.content_type)
        except ValueError:
            raise _invalid(
                "config.content_type", "config.content_type must be json or form", body.content_type
            ) from None
    secret = None
    if not isinstance(body.secret, Unset):
        secret = body.secret or ""
        if len(secret) > 256:
            raise _invalid("config.secret", "config.secret must be at most 256 characters")
    insecure = None
    if not isinstance(body.insecure_ssl, Unset):
        insecure = (
            str(int(body.insecure_ssl)) if isinstance(body.insecure_ssl, int | float) else body.insecure_ssl
        )
        if insecure not in ("0", "1"):
            raise _invalid("config.insecure_ssl", "config.insecure_ssl must be 0 or 1", body.insecure_ssl)
    return ConfigChange(url, content_type, secret, insecure)


def events_of(raw: list[str], field: str = "events") -> list[str]:
    for name in raw:
        if not _EVENT_NAME.match(name):
            raise _invalid(field, f"{field}: {name!r} is not an event name", name)
    return list(dict.fromkeys(raw))


def check_name(name: str | Unset) -> None:
    if not isinstance(name, Unset) and name != "web":
        raise _invalid("name", "name must be web", name)


# Responses.


def config(hook: Hook) -> dict[str, Any]:
    """GitHub's ``webhook-config``."""
    data: dict[str, Any] = {
        "content_type": hook.content_type.value,
        "insecure_ssl": hook.insecure_ssl,
        "url": hook.url,
    }
    if hook.secret:
        data["secret"] = SECRET_MASK
    return data


def hook(value: Hook, base: str) -> dict[str, Any]:
    """``hook`` (repository) or ``org-hook``; ``base`` is the URL of the hooks collection."""
    url = f"{base}/{value.id}"
    data: dict[str, Any] = {
        "type": "Organization" if value.repository_id is None else "Repository",
        "id": value.id,
        "name": value.name,
        "active": value.active,
        "events": value.events,
        "config": config(value),
        "updated_at": iso(value.updated_at),
        "created_at": iso(value.created_at),
        "url": url,
        "ping_url": f"{url}/pings",
        "deliveries_url": f"{url}/deliveries",
    }
    if value.repository_id is not None:
        data["test_url"] = f"{url}/test"
        data["last_response"] = value.last_response
    return data


def delivery_item(d: Delivery) -> dict[str, Any]:
    """``hook-delivery-item``."""
    return {
        "id": d.id,
        "guid": d.guid,
        "delivered_at": iso_or_none(d.delivered_at) or iso(d.created_at),
        "redelivery": d.redelivery,
        "duration": round(d.duration, 3),
        "status": d.status or "",
        "status_code": d.status_code,
        "event": d.event,
        "action": d.action,
        "installation_id": None,
        "repository_id": d.repository_id,
        "throttled_at": None,
    }


def delivery(d: Delivery) -> dict[str, Any]:
    """``hook-delivery``: the item, with the request sent and the response got."""
    return {
        **delivery_item(d),
        "url": d.url,
        "request": {"headers": d.request_headers, "payload": d.payload},
        "response": {"headers": d.response_headers, "payload": d.response_body},
    }
