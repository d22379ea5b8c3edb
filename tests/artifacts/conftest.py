"""A small organization to write artifact metadata into, and helpers shared by the artifact tests."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Harness
from waybill.attestations import service as attestations
from waybill.attestations.service import Provenance

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


@pytest.fixture
def provenance(monkeypatch: pytest.MonkeyPatch) -> dict[str, Provenance]:
    """Stands in for the attestations domain: digest -> the provenance attestation it knows."""
    known: dict[str, Provenance] = {}

    async def provenance_for(conn: Any, owner_id: int, digests: Any) -> dict[str, Provenance]:
        return {d: known[d] for d in digests if d in known}

    monkeypatch.setattr(attestations, "provenance_for", provenance_for)
    return known


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
