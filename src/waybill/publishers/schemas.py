"""Request and response shapes of trusted publishing (Waybill's own, under ``/waybill/``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from waybill.core.clock import iso
from waybill.publishers.types import Exchanged, Publisher

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=255)]


class ExchangeBody(msgspec.Struct, forbid_unknown_fields=True):
    token: Annotated[str, msgspec.Meta(min_length=1, max_length=16384)]


class CreatePublisher(msgspec.Struct, forbid_unknown_fields=True):
    issuer: Annotated[str, msgspec.Meta(min_length=1, max_length=512)]
    claims: dict[Name, Annotated[str, msgspec.Meta(max_length=1024)]]
    # Levels are checked by the service, so that an error names the field as GitHub does.
    permissions: dict[Name, str]
    workflow: Annotated[str, msgspec.Meta(min_length=3, max_length=1024)] | None = None
    environment: Name | None = None


def publisher(found: Publisher) -> dict[str, Any]:
    return {
        "id": found.id,
        "repository": found.repository.full_name,
        "issuer": found.issuer.url,
        "claims": found.claims,
        "workflow": found.workflow,
        "environment": found.environment,
        "permissions": found.permissions,
        "created_at": iso(found.created_at),
    }


def exchanged(result: Exchanged) -> dict[str, Any]:
    return {
        "token": result.token,
        "expires_at": iso(result.expires_at),
        "permissions": result.permissions,
        "repositories": [result.repository.full_name],
    }
