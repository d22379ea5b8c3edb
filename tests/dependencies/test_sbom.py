"""SBOM export (SPDX 2.3 in GitHub's shape, valid for spdx-tools) and the asynchronous reports."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from spdx_tools.spdx.parser.parse_anything import parse_file
from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document
from sqlalchemy import update

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import example_snapshot, snapshot
from tests.harness import Harness
from tests.spec import assert_conforms
from waybill.core import clock
from waybill.dependencies.models import dependency_sbom_reports

SNAPSHOTS = "/repos/alice/web/dependency-graph/snapshots"
SBOM = "/repos/alice/web/dependency-graph/sbom"
GENERATE = "/repos/alice/web/dependency-graph/sbom/generate-report"


def assert_valid_spdx(document: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "sbom.spdx.json"
    path.write_text(json.dumps(document))
    parsed = parse_file(str(path))
    assert validate_full_spdx_document(parsed) == []


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def test_export_is_valid_spdx_in_githubs_shape(alice: Setup, tmp_path: Path) -> None:
    await alice.api.post(SNAPSHOTS, token=alice.token, json=example_snapshot())
    r = await alice.api.get(SBOM, token=alice.token)
    assert r.status_code == 200, r.text
    assert_conforms(r, "dependency-graph/export-sbom")
    sbom = r.json()["sbom"]
    assert_valid_spdx(sbom, tmp_path)
    assert sbom["spdxVersion"] == "SPDX-2.3"
    assert sbom["name"] == "alice/web"
    assert sbom["dataLicense"] == "CC0-1.0"
    assert sbom["documentNamespace"].startswith("http://waybill.test/alice/web/dependency_graph/sbom-")
    root = sbom["packages"][0]
    assert root == {
        "name": "alice/web",
        "SPDXID": "SPDXRef-Repository",
        "versionInfo": "main",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": False,
        "externalRefs": [
            {
                "referenceCategory": "PACKAGE-MANAGER",
                "referenceType": "purl",
                "referenceLocator": "pkg:github/alice/web@main",
            }
        ],
    }
    by_purl = {p["externalRefs"][0]["referenceLocator"]: p for p in sbom["packages"][1:]}
    assert set(by_purl) == {
        "pkg:npm/%40actions/core@1.1.9",
        "pkg:npm/%40actions/http-client@1.0.7",
        "pkg:npm/tunnel@0.0.6",
    }
    core = by_purl["pkg:npm/%40actions/core@1.1.9"]
    assert (core["name"], core["versionInfo"]) == ("@actions/core", "1.1.9")
    ids = {purl: p["SPDXID"] for purl, p in by_purl.items()}
    rels = {
        (r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in sbom["relationships"]
    }
    assert rels == {
        ("SPDXRef-DOCUMENT", "DESCRIBES", "SPDXRef-Repository"),
        ("SPDXRef-Repository", "DEPENDS_ON", ids["pkg:npm/%40actions/core@1.1.9"]),
        (ids["pkg:npm/%40actions/core@1.1.9"], "DEPENDS_ON", ids["pkg:npm/%40actions/http-client@1.0.7"]),
        (ids["pkg:npm/%40actions/http-client@1.0.7"], "DEPENDS_ON", ids["pkg:npm/tunnel@0.0.6"]),
    }


async def test_export_of_an_empty_graph_is_valid(alice: Setup, tmp_path: Path) -> None:
    r = await alice.api.get(SBOM, token=alice.token)
    assert r.status_code == 200
    assert_conforms(r, "dependency-graph/export-sbom")
    assert_valid_spdx(r.json()["sbom"], tmp_path)
    assert len(r.json()["sbom"]["packages"]) == 1


async def test_export_keeps_distinct_ids_for_packages_differing_only_in_qualifiers(
    alice: Setup, tmp_path: Path
) -> None:
    body = snapshot({"a": "pkg:maven/org.x/lib@1.0?type=jar", "b": "pkg:maven/org.x/lib@1.0?type=pom"})
    await alice.api.post(SNAPSHOTS, token=alice.token, json=body)
    sbom = (await alice.api.get(SBOM, token=alice.token)).json()["sbom"]
    assert_valid_spdx(sbom, tmp_path)
    assert [p["name"] for p in sbom["packages"][1:]] == ["org.x:lib", "org.x:lib"]
    assert len({p["SPDXID"] for p in sbom["packages"]}) == 3


async def test_export_of_a_private_repository_without_access_is_404(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/secret", private=True)
    r = await api.get("/repos/alice/secret/dependency-graph/sbom", token=await api.token("bob"))
    assert r.status_code == 404
    assert_conforms(r, "dependency-graph/export-sbom")


async def test_report_lifecycle(alice: Setup, tmp_path: Path) -> None:
    api = alice.api
    await api.post(SNAPSHOTS, token=alice.token, json=example_snapshot())
    r = await api.get(GENERATE, token=alice.token)
    assert r.status_code == 201, r.text
    assert_conforms(r, "dependency-graph/generate-sbom-report")
    url = r.json()["sbom_url"]
    assert url.startswith("http://waybill.test/repos/alice/web/dependency-graph/sbom/fetch-report/")

    pending = await api.get(local(url), token=alice.token)
    assert pending.status_code == 202
    assert pending.content == b""
    assert_conforms(pending, "dependency-graph/fetch-sbom-report")

    # The report, and the alerts evaluation the snapshot queued.
    assert await api.app.worker.run_until_idle() == 2
    ready = await api.get(local(url), token=alice.token)
    assert ready.status_code == 302
    assert_conforms(ready, "dependency-graph/fetch-sbom-report")
    location = ready.headers["location"]
    assert location.startswith("http://waybill.test/waybill/repos/alice/web/dependency-graph/sbom/reports/")

    # The download URL is fetched without a token.
    download = await api.get(local(location))
    assert download.status_code == 200
    document = download.json()
    assert_valid_spdx(document, tmp_path)
    assert len(document["packages"]) == 4


async def test_download_url_expires_and_must_be_signed(alice: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    api = alice.api
    url = (await api.get(GENERATE, token=alice.token)).json()["sbom_url"]
    await api.app.worker.run_until_idle()
    location = local((await api.get(local(url), token=alice.token)).headers["location"])
    tampered = location.replace("signature=", "signature=0")
    r = await api.get(tampered)
    assert r.status_code == 403
    assert r.json()["message"] == "The download URL has expired or its signature is invalid."

    later = time.time() + 601
    monkeypatch.setattr("waybill.core.signing.time.time", lambda: later)
    r = await api.get(location)
    assert r.status_code == 403


async def test_reports_are_gone_after_a_week(alice: Setup) -> None:
    api = alice.api
    url = (await api.get(GENERATE, token=alice.token)).json()["sbom_url"]
    await api.app.worker.run_until_idle()
    assert (await api.get(local(url), token=alice.token)).status_code == 302

    await api.tx(
        lambda c: c.execute(
            update(dependency_sbom_reports).values(created_at=clock.now() - timedelta(days=7, seconds=1))
        )
    )
    r = await api.get(local(url), token=alice.token)
    assert r.status_code == 404
    assert_conforms(r, "dependency-graph/fetch-sbom-report")


async def test_unknown_report_and_report_of_another_repository_are_404(alice: Setup) -> None:
    api = alice.api
    await api.repo("alice/other")
    url = (await api.get(GENERATE, token=alice.token)).json()["sbom_url"]
    report_id = url.rsplit("/", 1)[1]
    r = await api.get("/repos/alice/web/dependency-graph/sbom/fetch-report/nope", token=alice.token)
    assert r.status_code == 404
    r = await api.get(f"/repos/alice/other/dependency-graph/sbom/fetch-report/{report_id}", token=alice.token)
    assert r.status_code == 404


async def test_report_worker_is_idempotent(alice: Setup) -> None:
    api = alice.api
    url = (await api.get(GENERATE, token=alice.token)).json()["sbom_url"]
    from waybill.core import jobs
    from waybill.dependencies import service

    assert await api.app.worker.run_until_idle() == 1
    job = await api.tx(lambda c: jobs.get(c, 1))
    assert job is not None
    assert job.kind == "dependencies.sbom_report"
    # A second run of the same job (a lease that ran out) finds the report built.
    assert await service.build_report(api.db, job) == {"uuid": url.rsplit("/", 1)[1]}
    assert (await api.get(local(url), token=alice.token)).status_code == 302


async def test_generate_report_of_a_private_repository_without_access_is_404(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/secret", private=True)
    r = await api.get(
        "/repos/alice/secret/dependency-graph/sbom/generate-report", token=await api.token("bob")
    )
    assert r.status_code == 404
    assert_conforms(r, "dependency-graph/generate-sbom-report")
