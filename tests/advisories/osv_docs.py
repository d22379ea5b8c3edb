"""Synthetic OSV documents, built by name for tests of ecosystems the shared data does not cover."""

from __future__ import annotations

import json
from typing import Any

from waybill.advisories.osv import Document, parse


def osv_document(
    osv_id: str,
    ecosystem: str,
    name: str,
    events: list[dict[str, str]] | None = None,
    *,
    versions: list[str] | None = None,
    range_type: str = "ECOSYSTEM",
    modified: str = "2024-01-01T00:00:00Z",
    published: str = "2023-12-01T00:00:00Z",
    aliases: list[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    affected: dict[str, Any] = {"package": {"ecosystem": ecosystem, "name": name}}
    if events is not None:
        affected["ranges"] = [{"type": range_type, "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {
        "schema_version": "1.6.0",
        "id": osv_id,
        "modified": modified,
        "published": published,
        "aliases": aliases or [],
        "summary": f"{name} is vulnerable",
        "details": f"Versions of {name} in the ranges below are affected.",
        "affected": [affected],
        "references": [{"type": "WEB", "url": f"https://example.org/{osv_id}"}],
        **extra,
    }


def typed(doc: dict[str, Any]) -> Document:
    return parse(json.dumps(doc).encode(), "doc.json")[0]


def as_file(doc: dict[str, Any]) -> tuple[str, bytes]:
    return f"{doc['id']}.json", json.dumps(doc).encode()
