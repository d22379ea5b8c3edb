"""A small organization to write artifact metadata into, and helpers shared by the artifact tests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.harness import Harness
from waybill.attestations.models import attestation_subjects
from waybill.attestations.models import attestations as attestation_table
from waybill.attestations.schemas import SLSA_PROVENANCE
from waybill.core import clock

RECORD = "/orgs/acme/artifacts/metadata/deployment-record"
STORAGE = "/orgs/acme/artifacts/metadata/storage-record"
VERSIONS = ("2022-11-28", "2026-03-10")


def cluster_path(cluster: str = "moda-1", org: str = "acme") -> str:
    return f"/orgs/{org}/artifacts/metadata/deployment-record/cluster/{cluster}"


def digest(label: object) -> str:
    """A well-formed sha256 digest, different for each label."""
    return "sha256:" + hashlib.sha256(str(label).encode()).hexdigest()


def record_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "awesome-image",
        "digest": digest("awesome"),
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "pacific-east",
        "cluster": "moda-1",
        "deployment_name": "deployment-pod",
        "github_repository": "web",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def entry(deployment: str, **overrides: Any) -> dict[str, Any]:
    """One cluster deployment entry named ``deployment``, in repository web."""
    body: dict[str, Any] = {
        "name": "image",
        "digest": digest(deployment),
        "deployment_name": deployment,
        "github_repository": "web",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


@dataclass
class World:
    """acme (owner alice) with a public ``web`` and a private ``secret`` repository; bob is a member
    (read access); carol is an outsider; dave is a write collaborator on ``web`` only."""

    api: Harness
    alice: str
    bob: str
    carol: str
    dave: str
    web_id: int
    secret_id: int


@pytest.fixture
async def world(api: Harness) -> World:
    for login in ("alice", "bob", "carol", "dave"):
        await api.user(login)
    await api.org("acme", owner="alice")
    await api.org("other", owner="carol")
    await api.member("acme", "bob")
    web = await api.repo("acme/web")
    secret = await api.repo("acme/secret", private=True)
    await api.repo("other/web")
    await api.collaborator("acme/web", "dave", "write")
    return World(
        api,
        alice=await api.token("alice"),
        bob=await api.token("bob"),
        carol=await api.token("carol"),
        dave=await api.token("dave"),
        web_id=web.id,
        secret_id=secret.id,
    )


class StoredProvenance:
    """Provenance attestations stored as rows (the bundle itself does not matter to these tests): the
    artifact writes read them as they read uploaded ones."""

    def __init__(self, api: Harness) -> None:
        self.api = api

    async def add(self, subject: str, *, attestation_id: int, repository_id: int) -> None:
        async def store(conn: AsyncConnection) -> None:
            await conn.execute(
                insert(attestation_table).values(
                    id=attestation_id,
                    repository_id=repository_id,
                    predicate_type=SLSA_PROVENANCE[-1],
                    media_type="application/vnd.dev.sigstore.bundle.v0.3+json",
                    bundle_hash=hashlib.sha256(subject.encode()).hexdigest(),
                    initiator="user",
                    created_at=clock.now(),
                )
            )
            await conn.execute(
                insert(attestation_subjects).values(digest=subject, attestation_id=attestation_id)
            )

        await self.api.tx(store)


@pytest.fixture
def provenance(api: Harness) -> StoredProvenance:
    return StoredProvenance(api)


@cache
def spec_request_example(shared: Path, operation_id: str) -> dict[str, Any]:
    document = json.loads((shared / "spec" / "github-supply-chain.2022-11-28.openapi.json").read_text())
    for item in document["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                value: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["examples"][
                    "default"
                ]["value"]
                return value
    raise KeyError(operation_id)
