"""An organization with a repository that built signed images, and helpers to store what the gate
reads: provenance with its verdict, storage records and open alerts."""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.harness import Harness
from waybill.advisories.models import advisories
from waybill.alerts.models import dependabot_alerts
from waybill.attestations.models import attestation_subjects, attestation_verifications
from waybill.attestations.models import attestations as attestation_table
from waybill.attestations.schemas import SLSA_PROVENANCE
from waybill.core import clock

POLICY = "/waybill/orgs/acme/admission-policy"
CHECK = "/waybill/orgs/acme/admission/check"
KUBERNETES = "/waybill/orgs/acme/admission/kubernetes?environment=prod"
GATEKEEPER = "/waybill/orgs/acme/admission/gatekeeper?environment=prod"
DECISIONS = "/waybill/orgs/acme/admission/decisions"
REGISTRY = "https://ghcr.io"
WORKFLOW = "https://github.com/acme/web/.github/workflows/build.yml"


def digest(label: object) -> str:
    return "sha256:" + hashlib.sha256(str(label).encode()).hexdigest()


def image(label: object, name: str = "ghcr.io/acme/web") -> str:
    return f"{name}@{digest(label)}"


def environment(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "mode": "enforce",
        "require_provenance": False,
        "repositories": [],
        "workflows": [],
        "refs": [],
        "max_open_alert_severity": None,
        "only_alerts_with_patch": False,
        "registries": [],
        "exempt_images": [],
        "exempt_namespaces": [],
    }
    body.update(overrides)
    return body


@dataclass
class World:
    api: Harness
    alice: str
    carol: str
    web_id: int
    _ids: Any

    async def policy(self, **overrides: Any) -> None:
        response = await self.api.request(
            "PUT", POLICY, token=self.alice, json={"environments": {"prod": environment(**overrides)}}
        )
        assert response.status_code == 200, response.text

    async def provenance(
        self,
        subject: str,
        *,
        verified: bool | None = True,
        signer: str = WORKFLOW,
        ref: str = "refs/heads/main",
    ) -> None:
        attestation_id = next(self._ids)

        async def store(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(attestation_table).values(
                    id=attestation_id,
                    repository_id=self.web_id,
                    predicate_type=SLSA_PROVENANCE[-1],
                    media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
                    bundle_hash=hashlib.sha256(f"{subject}{attestation_id}".encode()).hexdigest(),
                    initiator="user",
                    created_at=clock.now(),
                )
            )
            await conn.execute(
                insert(attestation_subjects).values(digest=subject, attestation_id=attestation_id)
            )
            if verified is not None:
                await conn.execute(
                    insert(attestation_verifications).values(
                        attestation_id=attestation_id,
                        verified=verified,
                        source_repository_uri="https://github.com/acme/web",
                        build_signer_uri=f"{signer}@{ref}",
                        identity={"source_repository_ref": ref},
                        details={},
                        checked_at=clock.now(),
                    )
                )

        await self.api.tx(store)

    async def storage(self, subject: str, registry: str = REGISTRY) -> None:
        body = {"name": "web", "digest": subject, "registry_url": registry, "github_repository": "web"}
        response = await self.api.post(
            "/orgs/acme/artifacts/metadata/storage-record", token=self.alice, json=body
        )
        assert response.status_code == 200, response.text

    async def alert(self, severity: str, *, patched: str | None = "2.0.0") -> None:
        number = next(self._ids)

        async def store(conn: AsyncConnection) -> None:
            now = clock.now()
            advisory = await conn.execute(
                insert(advisories)
                .values(
                    ghsa_id=f"GHSA-test-{number:04d}-abcd",
                    type="reviewed",
                    severity=severity,
                    summary="bad",
                    identifiers=[],
                    reference_urls=[],
                    cwes=[],
                    published_at=now,
                    updated_at=now,
                )
                .returning(advisories.c.id)
            )
            await conn.execute(
                insert(dependabot_alerts).values(
                    repository_id=self.web_id,
                    number=number,
                    advisory_id=advisory.scalar_one(),
                    identity=f"id-{number}",
                    ecosystem="npm",
                    package_name="left-pad",
                    package_key="left-pad",
                    package_url="pkg:npm/left-pad",
                    manifest_path="package-lock.json",
                    relationship="direct",
                    vulnerable_version_range="< 2.0.0",
                    first_patched_version=patched,
                    present=True,
                    state="open",
                    created_at=now,
                    updated_at=now,
                )
            )

        await self.api.tx(store)


@pytest.fixture
async def world(api: Harness) -> World:
    for login in ("alice", "carol"):
        await api.user(login)
    await api.org("acme", owner="alice")
    await api.org("other", owner="carol")
    web = await api.repo("acme/web")
    await api.repo("other/web")
    return World(api, await api.token("alice"), await api.token("carol"), web.id, itertools.count(1000))
