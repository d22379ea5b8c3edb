"""The audit log's query and response shapes."""

from __future__ import annotations

from typing import Any

from waybill.audit.types import Entry
from waybill.core import clock


def entry(e: Entry, org_login: str) -> dict[str, Any]:
    """GitHub's audit log names (``@timestamp`` in milliseconds, ``actor``, ``org``, ``repo``),
    with Waybill's ``actor_type``, ``target`` and ``request_id``."""
    return {
        "_document_id": str(e.id),
        "@timestamp": int(e.created_at.timestamp() * 1000),
        "created_at": clock.iso(e.created_at),
        "action": e.action,
        "actor": e.actor_login,
        "actor_id": e.actor_id,
        "actor_type": e.actor_type.value,
        "org": org_login,
        "org_id": e.org_id,
        "repo": None if e.repository_name is None else f"{org_login}/{e.repository_name}",
        "repo_id": e.repository_id,
        "target": e.target,
        "request_id": e.request_id,
    }
