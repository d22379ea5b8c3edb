"""SBOM import (``/waybill/repos/{owner}/{repo}/dependency-graph/sbom-import``): real CycloneDX
documents made by ``cyclonedx-py`` from this test environment, and SPDX documents written by
spdx-tools."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from spdx_tools.spdx.model import (
    Actor,
    ActorType,
    CreationInfo,
    Document,
    ExternalPackageRef,
    ExternalPackageRefCategory,
    Package,
    Relationship,
    RelationshipType,
    SpdxNoAssertion,
)
from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import SHA_A, SHA_B
from tests.harness import Harness
from waybill.dependencies import service
from waybill.dependencies.types import Dependency

IMPORT = "/waybill/repos/alice/web/dependency-graph/sbom-import"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def cyclonedx_documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """``cyclonedx-py environment`` run on this test environment, once per CycloneDX version."""
    out = tmp_path_factory.mktemp("cyclonedx")
    tool = Path(sys.executable).with_name("cyclonedx-py")
    documents = {}
    for spec in ("1.4", "1.5", "1.6"):
        target = out / f"bom-{spec}.json"
        subprocess.run(
            [
                str(tool),
                "environment",
                "--sv",
                spec,
                # Its own schema validation takes seconds of CPU; the server parses the document.
                "--no-validate",
                "--pyproject",
                str(ROOT / "pyproject.toml"),
                "-o",
                str(target),
                sys.executable,
            ],
            check=True,
            capture_output=True,
        )
        documents[spec] = target.read_bytes()
    return documents


def spdx_document(spdx_version: str = "SPDX-2.3") -> bytes:
    """A document made with spdx-tools' model and written (and validated) by its JSON writer."""

    def package(spdx_id: str, name: str, purl: str | None) -> Package:
        refs = (
            []
            if purl is None
            else [ExternalPackageRef(ExternalPackageRefCategory.PACKAGE_MANAGER, "purl", purl)]
        )
        return Package(
            spdx_id=spdx_id,
            name=name,
            download_location=SpdxNoAssertion(),
            version=None if purl is None else purl.rsplit("@", 1)[1],
            files_analyzed=False,
            license_concluded=SpdxNoAssertion(),
            license_declared=SpdxNoAssertion(),
            copyright_text=SpdxNoAssertion(),
            external_references=refs,
        )

    document = Document(
        creation_info=CreationInfo(
            spdx_version=spdx_version,
            spdx_id="SPDXRef-DOCUMENT",
            name="shop-frontend",
            document_namespace="https://example.com/spdx/shop-frontend-1",
            creators=[Actor(ActorType.TOOL, "test-writer")],
            created=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        ),
        packages=[
            package("SPDXRef-root", "shop-frontend", None),
            package("SPDXRef-react", "react", "pkg:npm/react@18.3.1"),
            package("SPDXRef-loose", "loose-envify", "pkg:npm/loose-envify@1.4.0"),
            package("SPDXRef-jest", "jest", "pkg:npm/jest@29.7.0"),
        ],
        relationships=[
            Relationship("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES, "SPDXRef-root"),
            Relationship("SPDXRef-root", RelationshipType.DEPENDS_ON, "SPDXRef-react"),
            Relationship("SPDXRef-react", RelationshipType.DEPENDS_ON, "SPDXRef-loose"),
            Relationship("SPDXRef-jest", RelationshipType.DEV_DEPENDENCY_OF, "SPDXRef-root"),
        ],
    )
    stream = io.StringIO()
    write_document_to_stream(document, stream, validate=True)
    return stream.getvalue().encode()


async def graph(api: Harness) -> dict[str, Any]:
    async def read(conn: AsyncConnection) -> list[Dependency]:
        from waybill.accounts import service as accounts

        repo = await accounts.get_repository(conn, "alice/web")
        return await service.current_dependencies(conn, repo.id)

    return {d.package_url: d for d in await api.tx(read)}


@pytest.mark.parametrize("spec", ["1.4", "1.5", "1.6"])
async def test_cyclonedx_from_cyclonedx_py(
    alice: Setup, cyclonedx_documents: dict[str, bytes], spec: str
) -> None:
    raw = cyclonedx_documents[spec]
    r = await alice.api.post(
        f"{IMPORT}?sha={SHA_A}", token=alice.token, content=raw, headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "SUCCESS"
    deps = await graph(alice.api)
    components = [c for c in json.loads(raw)["components"] if c.get("purl")]
    assert len(deps) == len({c["purl"] for c in components})
    msgspec = deps[f"pkg:pypi/msgspec@{version('msgspec')}"]
    assert (msgspec.ecosystem, msgspec.name, msgspec.relationship) == ("pip", "msgspec", "direct")
    assert msgspec.manifest == "waybill"
    # greenlet comes in through SQLAlchemy, not the project itself.
    assert deps[f"pkg:pypi/greenlet@{version('greenlet')}"].relationship == "indirect"


async def test_cyclonedx_edges_reach_the_sbom_export(
    alice: Setup, cyclonedx_documents: dict[str, bytes]
) -> None:
    await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=cyclonedx_documents["1.6"])
    sbom = (await alice.api.get("/repos/alice/web/dependency-graph/sbom", token=alice.token)).json()["sbom"]
    ids = {p["externalRefs"][0]["referenceLocator"]: p["SPDXID"] for p in sbom["packages"]}
    sqlalchemy = ids[f"pkg:pypi/sqlalchemy@{version('sqlalchemy')}"]
    greenlet = ids[f"pkg:pypi/greenlet@{version('greenlet')}"]
    assert {
        "relationshipType": "DEPENDS_ON",
        "spdxElementId": sqlalchemy,
        "relatedSpdxElement": greenlet,
    } in (sbom["relationships"])


@pytest.mark.parametrize("spdx_version", ["SPDX-2.2", "SPDX-2.3"])
async def test_spdx_written_by_spdx_tools(alice: Setup, spdx_version: str) -> None:
    r = await alice.api.post(
        f"{IMPORT}?sha={SHA_A}&correlator=frontend", token=alice.token, content=spdx_document(spdx_version)
    )
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "SUCCESS"
    deps = await graph(alice.api)
    assert {(p, d.relationship, d.scope, d.manifest) for p, d in deps.items()} == {
        ("pkg:npm/react@18.3.1", "direct", None, "shop-frontend"),
        ("pkg:npm/loose-envify@1.4.0", "indirect", None, "shop-frontend"),
        ("pkg:npm/jest@29.7.0", "direct", "development", "shop-frontend"),
    }


async def test_options_in_a_wrapping_body_and_other_refs(alice: Setup) -> None:
    body = {
        "sbom": json.loads(spdx_document()),
        "sha": SHA_B,
        "ref": "refs/heads/feature",
        "manifest": "ui/package.json",
    }
    r = await alice.api.post(IMPORT, token=alice.token, json=body)
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "ACCEPTED"
    assert await graph(alice.api) == {}


async def test_githubs_own_export_round_trips(alice: Setup, api: Harness) -> None:
    await api.repo("alice/copy")
    await api.post(
        "/repos/alice/copy/dependency-graph/snapshots",
        token=alice.token,
        json={
            "version": 0,
            "sha": SHA_A,
            "ref": "refs/heads/main",
            "job": {"correlator": "c", "id": "1"},
            "detector": {"name": "d", "version": "1", "url": "https://example.com"},
            "scanned": "2026-01-01T00:00:00Z",
            "manifests": {
                "m": {
                    "name": "m",
                    "resolved": {
                        "a": {
                            "package_url": "pkg:npm/a@1.0.0",
                            "relationship": "direct",
                            "dependencies": ["b"],
                        },
                        "b": {"package_url": "pkg:npm/b@2.0.0", "relationship": "indirect"},
                    },
                }
            },
        },
    )
    exported = (await api.get("/repos/alice/copy/dependency-graph/sbom", token=alice.token)).json()
    r = await api.post(IMPORT, token=alice.token, json={**exported, "sha": SHA_A})
    assert r.status_code == 201, r.text
    deps = await graph(api)
    assert {(p, d.relationship) for p, d in deps.items()} == {
        ("pkg:npm/a@1.0.0", "direct"),
        ("pkg:npm/b@2.0.0", "indirect"),
    }


def _error(field: str, message: str, code: str = "invalid", **extra: Any) -> dict[str, Any]:
    return {
        "message": "Validation Failed",
        "documentation_url": "https://docs.github.com/rest",
        "status": "422",
        "errors": [{"resource": "SbomImport", "field": field, "code": code, "message": message, **extra}],
    }


async def test_sha_is_required(alice: Setup) -> None:
    r = await alice.api.post(IMPORT, token=alice.token, content=spdx_document())
    assert r.status_code == 422
    assert r.json() == _error("sha", "sha is missing", code="missing_field")


async def test_bad_ref(alice: Setup) -> None:
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}&ref=main", token=alice.token, content=spdx_document())
    assert r.status_code == 422
    assert r.json() == _error("ref", "ref must match the pattern ^refs/", value="main")


async def test_unsupported_cyclonedx_version(alice: Setup, cyclonedx_documents: dict[str, bytes]) -> None:
    document = json.loads(cyclonedx_documents["1.6"])
    document["specVersion"] = "1.3"
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, json=document)
    assert r.status_code == 422
    assert r.json() == _error("specVersion", "CycloneDX 1.4, 1.5, 1.6 are supported", value="1.3")


async def test_invalid_spdx_document(alice: Setup) -> None:
    document = json.loads(spdx_document())
    del document["SPDXID"]
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, json=document)
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "body"
    assert r.json()["errors"][0]["message"].startswith("not a valid SPDX document: ")


async def test_not_an_sbom(alice: Setup) -> None:
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, json={"hello": "world"})
    assert r.status_code == 422
    assert r.json() == _error("body", "not a CycloneDX (bomFormat) or SPDX (spdxVersion) JSON document")


async def test_bad_package_url_in_spdx(alice: Setup) -> None:
    document = json.loads(spdx_document())
    for package in document["packages"]:
        if package["SPDXID"] == "SPDXRef-react":
            package["externalRefs"][0]["referenceLocator"] = "pkg:npm/"
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, json=document)
    assert r.status_code == 422
    field = "packages.SPDXRef-react.externalRefs"
    assert r.json() == _error(
        field,
        f"{field} is not a valid package URL: purl is missing the required name component: 'pkg:npm/'",
        value="pkg:npm/",
    )


async def test_import_needs_write_access(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/web")
    r = await api.post(f"{IMPORT}?sha={SHA_A}", token=await api.token("bob"), content=spdx_document())
    assert r.status_code == 403
    assert r.json()["message"] == "Must have write access to repository alice/web."
