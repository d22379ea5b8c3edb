"""GitHub Apps for tests: registered through the service with a key made for real, and JWTs signed
with its private key the way app libraries sign them."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import jwt

from tests.harness import Harness
from waybill.apps import service as apps


@dataclass(frozen=True)
class AppKey:
    id: int
    slug: str
    client_id: str
    private_key: str

    def jwt(
        self, *, iss: Any = None, iat: float | None = None, exp: float | None = None, key: str = ""
    ) -> str:
        """An app JWT as libraries make it: ``iat`` back-dated 60 s, ``exp`` ten minutes on."""
        now = time.time()
        claims = {
            "iat": int(now - 60 if iat is None else iat),
            "exp": int(now + 600 if exp is None else exp),
            "iss": str(self.id) if iss is None else iss,
        }
        # Signed as JWS over the JSON itself: Octokit sends a numeric ``iss``, which ``jwt.encode`` refuses.
        return jwt.api_jws.encode(json.dumps(claims).encode(), key or self.private_key, algorithm="RS256")


async def register(api: Harness, slug: str, owner: str, permissions: dict[str, str] | None = None) -> AppKey:
    grants = permissions or {"artifact_metadata": "write", "attestations": "write"}
    created = await api.tx(lambda c: apps.create_app(c, slug, owner=owner, permissions=grants))
    assert created.private_key is not None
    return AppKey(created.app.id, created.app.slug, created.app.client_id, created.private_key)


async def install(api: Harness, slug: str, account: str, repositories: list[str] | None = None) -> int:
    found = await api.tx(lambda c: apps.install(c, slug, account, repositories))
    return found.id


async def installation_token(api: Harness, app: AppKey, installation_id: int, **body: Any) -> str:
    response = await api.post(
        f"/app/installations/{installation_id}/access_tokens", token=app.jwt(), json=body or None
    )
    assert response.status_code == 201, response.text
    return str(response.json()["token"])
