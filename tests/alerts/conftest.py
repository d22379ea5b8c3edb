"""An organization with alerts: acme (owner alice) has public ``web`` and ``api`` and a private
``secret``; bob is a member (read), dave writes to ``web``, carol is an outsider. Synthetic advisories
for npm and PyPI packages; each repository has a snapshot with vulnerable versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from tests.advisories.osv_docs import as_file, osv_document
from tests.harness import Harness
from waybill.alerts import service as alerts

CVSS_HIGH = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H"  # 7.5


def advisories() -> list[dict[str, Any]]:
    return [
        osv_document(
            "GHSA-aaaa-aaaa-aaaa",
            "npm",
            "left-pad",
            [{"introduced": "0"}, {"fixed": "1.0.3"}],
            severity=[{"type": "CVSS_V3", "score": CVSS_HIGH}],
            database_specific={"severity": "HIGH", "epss": {"percentage": 0.5, "percentile": 0.9}},
        ),
        osv_document(
            "GHSA-bbbb-bbbb-bbbb",
            "npm",
            "lodash",
            [{"introduced": "4.0.0"}, {"fixed": "4.17.21"}],
            database_specific={"severity": "CRITICAL", "epss": {"percentage": 0.1, "percentile": 0.2}},
        ),
        osv_document(
            "GHSA-cccc-cccc-cccc",
            "PyPI",
            "requests",
            [{"introduced": "0"}],
            database_specific={"severity": "MODERATE"},
        ),
        osv_document("MAL-2024-1", "npm", "evil-pkg", [{"introduced": "0"}]),
        osv_document(
            "GHSA-dddd-dddd-dddd",
            "npm",
            "unreviewed-pkg",
            [{"introduced": "0"}],
            database_specific={"github_reviewed": False, "severity": "LOW"},
        ),
    ]


def snapshot(
    manifests: Mapping[str, Mapping[str, tuple[str, str | None, str | None]]], n: int = 1
) -> dict[str, Any]:
    """Manifests of package URL -> (key, scope, relationship)."""
    return {
        "version": 0,
        "sha": f"{n:040x}",
        "ref": "refs/heads/main",
        "job": {"correlator": "ci", "id": str(n)},
        "detector": {"name": "detector", "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": f"2026-01-{n:02d}T00:00:00Z",
        "manifests": {
            path: {
                "name": path,
                "file": {"source_location": path},
                "resolved": {
                    key: {
                        "package_url": purl,
                        **({"scope": scope} if scope else {}),
                        **({"relationship": rel} if rel else {}),
                    }
                    for purl, (key, scope, rel) in packages.items()
                },
            }
            for path, packages in manifests.items()
        },
    }


WEB = {
    "package-lock.json": {
        "pkg:npm/left-pad@1.0.0": ("left-pad", "runtime", "direct"),
        "pkg:npm/lodash@4.17.0": ("lodash", "development", "indirect"),
        "pkg:npm/unreviewed-pkg@1.0.0": ("unreviewed-pkg", "runtime", "direct"),
    },
    "requirements.txt": {"pkg:pypi/requests@2.0.0": ("requests", "runtime", "direct")},
}
API = {"package-lock.json": {"pkg:npm/left-pad@1.0.2": ("left-pad", "runtime", "direct")}}
SECRET = {"package-lock.json": {"pkg:npm/evil-pkg@1.0.0": ("evil-pkg", None, None)}}


@dataclass
class Org:
    api: Harness
    alice: str
    bob: str
    carol: str
    dave: str

    async def submit(self, repo: str, manifests: dict[str, Any], n: int = 1) -> None:
        r = await self.api.post(
            f"/repos/acme/{repo}/dependency-graph/snapshots", token=self.alice, json=snapshot(manifests, n)
        )
        assert r.status_code == 201, r.text
        await self.api.app.worker.run_until_idle()


@pytest.fixture
async def org(api: Harness) -> Org:
    for login in ("alice", "bob", "carol", "dave"):
        await api.user(login)
    await api.org("acme", owner="alice")
    await api.member("acme", "bob")
    await api.repo("acme/web")
    await api.repo("acme/api")
    await api.repo("acme/secret", private=True)
    await api.collaborator("acme/web", "dave", "write")
    await api.tx(lambda c: alerts.import_advisories(c, [as_file(d) for d in advisories()]))
    world = Org(api, *[await api.token(login) for login in ("alice", "bob", "carol", "dave")])
    await world.submit("web", WEB)
    await world.submit("api", API)
    await world.submit("secret", SECRET)
    return world
