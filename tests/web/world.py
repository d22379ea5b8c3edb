"""A small organization with everything the pages show, written through the API: artifacts stored and
deployed (one deployment tagged with a script), provenance signed by a test Sigstore instance that the
server trusts, and a dependency snapshot at the commit the provenance names.

Advisories make Dependabot alerts: two on acme/web (one with a script in its summary), one on acme/secret.

acme/web is public, acme/secret private; alice owns acme, sam is a stranger to it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.sigstore import SigstoreDouble

from tests.advisories.osv_docs import as_file, osv_document
from tests.dependencies.helpers import snapshot
from tests.harness import Harness
from waybill.alerts import service as alerts

INSTANCE = SigstoreDouble(name="web-instance")
COMMIT = "5c0ffee" + "0" * 33
SCRIPT_TAG = "<script>alert(1)</script>"
RECORD = "/orgs/acme/artifacts/metadata/deployment-record"
STORAGE = "/orgs/acme/artifacts/metadata/storage-record"


def digest(label: str) -> str:
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


FRONTEND = digest("frontend")
WORKER = digest("worker")
VAULT = digest("vault")
SCRIPT_SUMMARY = "<script>alert('advisory')</script> in express"
ADVISORIES = [
    osv_document(
        "GHSA-leftpad-high",
        "npm",
        "left-pad",
        [{"introduced": "0"}, {"fixed": "1.3.1"}],
        database_specific={"severity": "HIGH"},
    ),
    osv_document(
        "GHSA-express-medium",
        "npm",
        "express",
        [{"introduced": "4.0.0"}, {"fixed": "4.19.0"}],
        database_specific={"severity": "MODERATE"},
        summary=SCRIPT_SUMMARY,
    ),
    osv_document(
        "GHSA-vault-critical",
        "npm",
        "evil-pkg",
        [{"introduced": "0"}],
        database_specific={"severity": "CRITICAL"},
    ),
]


def trust_roots(folder: Path) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "web-instance.json").write_text(json.dumps(INSTANCE.trusted_root()))
    return folder


def provenance(subject: str, repo: str) -> dict[str, Any]:
    """A SLSA provenance bundle for ``subject``, signed by a workflow of ``repo`` at ``COMMIT``."""
    payload = json.dumps(
        {
            "_type": "https://in-toto.io/Statement/v1",
            "subject": [{"name": "app", "digest": {"sha256": subject.removeprefix("sha256:")}}],
            "predicateType": "https://slsa.dev/provenance/v1",
            "predicate": {
                "buildDefinition": {
                    "buildType": "https://actions.github.io/buildtypes/workflow/v1",
                    "resolvedDependencies": [
                        {
                            "uri": f"git+https://github.com/{repo}@refs/heads/main",
                            "digest": {"gitCommit": COMMIT},
                        }
                    ],
                },
                "runDetails": {"builder": {"id": "https://github.com/actions/runner"}},
            },
        }
    ).encode()
    workflow = f"https://github.com/{repo}/.github/workflows/build.yml@refs/heads/main"
    identity = {
        "san": workflow,
        "build_signer_uri": workflow,
        "source_repository_uri": f"https://github.com/{repo}",
        "source_repository_digest": COMMIT,
    }
    return INSTANCE.bundle(payload=payload, identity=identity)


@dataclass
class World:
    api: Harness
    alice: str
    sam: str

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        response = await self.api.post(path, token=self.alice, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def deploy(self, subject: str, repo: str, name: str, **fields: Any) -> None:
        body = {
            "name": fields.pop("artifact", name),
            "digest": subject,
            "status": "deployed",
            "logical_environment": "production",
            "physical_environment": "pacific-east",
            "cluster": "moda-1",
            "deployment_name": name,
            "github_repository": repo,
            **fields,
        }
        await self.post(RECORD, {k: v for k, v in body.items() if v is not None})

    async def store(self, subject: str, repo: str, name: str, version: str, registry: str) -> None:
        body = {
            "name": name,
            "version": version,
            "digest": subject,
            "registry_url": registry,
            "repository": name,
            "github_repository": repo,
        }
        await self.post(STORAGE, body)


async def build(api: Harness) -> World:
    await api.user("alice")
    await api.user("sam")
    await api.org("acme", owner="alice")
    await api.repo("acme/web")
    await api.repo("acme/secret", private=True)
    world = World(api, await api.token("alice"), await api.token("sam"))
    await api.tx(lambda c: alerts.import_advisories(c, [as_file(d) for d in ADVISORIES]))
    await world.post("/repos/acme/web/attestations", {"bundle": provenance(FRONTEND, "acme/web")})
    packages = {
        "express": "pkg:npm/express@4.18.2",
        "left-pad": "pkg:npm/left-pad@1.3.0",
    }
    body = snapshot(packages, sha=COMMIT, edges={"express": ["left-pad"]})
    body["manifests"]["package-lock.json"]["resolved"]["left-pad"]["relationship"] = "indirect"
    await world.post("/repos/acme/web/dependency-graph/snapshots", body)
    await world.post(
        "/repos/acme/secret/dependency-graph/snapshots",
        snapshot({"evil-pkg": "pkg:npm/evil-pkg@1.0.0"}, sha=COMMIT),
    )
    await api.app.worker.run_until_idle()
    await world.store(FRONTEND, "web", "frontend", "1.4.0", "https://ghcr.io")
    await world.store(WORKER, "web", "worker", "2.0.1", "https://registry.example.com")
    await world.store(VAULT, "secret", "vault", "0.9.0", "https://ghcr.io")
    await world.deploy(
        FRONTEND, "web", "frontend", tags={"owner": SCRIPT_TAG}, runtime_risks=["internet-exposed"]
    )
    await world.deploy(
        FRONTEND,
        "web",
        "frontend",
        tags={"owner": SCRIPT_TAG},
        runtime_risks=["internet-exposed", "sensitive-data"],
    )
    await world.deploy(WORKER, "web", "worker", logical_environment="staging", cluster="moda-2")
    await world.deploy(VAULT, "secret", "vault", runtime_risks=["internet-exposed"], cluster="vault-1")
    return world
