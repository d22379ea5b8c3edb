"""A small world for the attestation tests: an organization with a public and a private repository,
its owner, a read-only collaborator and a stranger, each with a classic token."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.attestations.bundles import bundle_for


@dataclass
class World:
    api: Any
    owner: str
    reader: str
    stranger: str
    public_id: int
    private_id: int

    async def attest(
        self, repo: str = "acme/public", bundle: dict[str, Any] | None = None, **kwargs: Any
    ) -> int:
        r = await self.api.post(
            f"/repos/{repo}/attestations", token=self.owner, json={"bundle": bundle or bundle_for(**kwargs)}
        )
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


@pytest.fixture
async def world(api: Any) -> World:
    for login in ("alice", "rita", "sam"):
        await api.user(login)
    await api.org("acme", owner="alice")
    public = await api.repo("acme/public")
    private = await api.repo("acme/private", private=True)
    await api.collaborator("acme/private", "rita", "read")
    return World(
        api,
        owner=await api.token("alice"),
        reader=await api.token("rita"),
        stranger=await api.token("sam"),
        public_id=public.id,
        private_id=private.id,
    )
