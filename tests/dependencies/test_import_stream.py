"""Large SBOM import: CycloneDX documents from ``bench.sbom_generate`` streamed over HTTP, checked
against what the import made of them before it streamed (cyclonedx-python-lib's reading), and its
failures: malformed documents, the route's own body limit, and a write that fails half-way."""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from bench.sbom_generate import write
from sqlalchemy import func, select

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import SHA_A
from tests.harness import Harness, running
from waybill.accounts import service as accounts
from waybill.config import Settings
from waybill.dependencies import imports, service
from waybill.dependencies import repository as sql
from waybill.dependencies.models import dependency_packages, dependency_snapshots
from waybill.dependencies.sbom_graph import manifest
from waybill.dependencies.schemas import Scope

IMPORT = "/waybill/repos/alice/web/dependency-graph/sbom-import"

# (relationship, scope, the package URLs it depends on) by package URL.
Graph = dict[str, tuple[str | None, str | None, frozenset[str]]]


def document(components: int, spec: str = "1.6", seed: int = 1) -> bytes:
    out = io.BytesIO()
    write(out, components, spec, seed)
    return out.getvalue()


def reference(raw: bytes) -> Graph:
    """The graph as the import made it before it streamed: the document read by cyclonedx-python-lib
    (its own model of components and dependencies), then the shared graph building."""
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import ComponentScope

    from waybill.dependencies import purls

    bom = Bom.from_json(json.loads(raw))  # type: ignore[attr-defined]
    scopes = {ComponentScope.REQUIRED: Scope.RUNTIME, ComponentScope.OPTIONAL: Scope.DEVELOPMENT}
    packages = {}
    for component in bom._get_all_components():
        if component.purl is not None:
            ref = str(component.bom_ref.value or component.purl)
            scope = scopes.get(component.scope) if component.scope else None
            packages[ref] = (component.name, purls.parse(str(component.purl)), scope)
    edges = {str(d.ref.value): [str(t.ref.value) for t in d.dependencies] for d in bom.dependencies}
    root = bom.metadata.component
    roots = {str(root.bom_ref.value)} if root is not None and root.bom_ref.value else set()
    return {
        r.package.purl: (r.relationship, r.scope, frozenset(r.dependencies))
        for r in manifest(packages, edges, roots).resolved
    }


async def graph(api: Harness, full_name: str = "alice/web") -> Graph:
    async def read(conn: Any) -> Graph:
        repo = await accounts.get_repository(conn, full_name)
        rows = await service.current_graph(conn, repo.id)
        purl_of = {row.package_id: row.purl for row in rows}
        return {
            row.purl: (row.relationship, row.scope, frozenset(purl_of[i] for i in row.depends_on or ()))
            for row in rows
        }

    return await api.tx(read)


async def stored(api: Harness) -> tuple[int, int]:
    """How many snapshots and packages the database holds."""

    async def count(conn: Any) -> tuple[int, int]:
        snapshots = await conn.scalar(select(func.count()).select_from(dependency_snapshots))
        packages = await conn.scalar(select(func.count()).select_from(dependency_packages))
        return int(snapshots), int(packages)

    return await api.tx(count)


@pytest.mark.parametrize(("spec", "batch"), [("1.5", 10_000), ("1.6", 37)])
async def test_generated_document_gives_the_graph_of_the_library_reading(
    alice: Setup, monkeypatch: pytest.MonkeyPatch, spec: str, batch: int
) -> None:
    # Fewer than 997 components: no repeated package URL, whose keeper the library's sorted sets
    # chose by sort order rather than document order.
    raw = document(600, spec)
    monkeypatch.setattr(sql, "WRITE_BATCH", batch)
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=raw)
    assert r.status_code == 201, r.text
    assert r.json()["result"] == "SUCCESS"
    got = await graph(alice.api)
    assert got == reference(raw)
    assert len(got) == 600 - 1  # component 0 has no package URL
    assert {relationship for relationship, _, _ in got.values()} == {"direct", "indirect"}
    assert any(children for _, _, children in got.values())


async def test_streamed_and_whole_readings_agree(tmp_path: Path) -> None:
    raw = document(3_000)
    path = tmp_path / "bom.json"
    path.write_bytes(raw)
    options = imports.Options(sha=SHA_A)
    with path.open("rb") as source:
        streamed = imports.read(source, options)
    whole = imports.parse(raw, options)
    assert streamed.base.manifests == whole.base.manifests
    assert (streamed.elements, streamed.edges) == (whole.elements, whole.edges) == (3_000, streamed.edges)
    # Repeated package URLs (every 997th component) are kept once, the first in document order;
    # components without one (every 1,009th, from the first) are left out.
    purls = [r.package.purl for r in streamed.base.manifests[0].resolved]
    assert len(purls) == len(set(purls)) == 3_000 - 3 - 3


async def test_metadata_after_the_components_is_found(alice: Setup) -> None:
    parsed = json.loads(document(50))
    reordered = {k: v for k, v in parsed.items() if k != "metadata"} | {"metadata": parsed["metadata"]}
    raw = json.dumps(reordered).encode()
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=raw)
    assert r.status_code == 201, r.text
    assert await graph(alice.api) == reference(raw)


def _broken(raw: bytes, mutate: Any) -> bytes:
    parsed = json.loads(raw)
    mutate(parsed)
    return json.dumps(parsed).encode()


def _drop(key: str, index: int = 5) -> Any:
    return lambda d: d["components"][index].pop(key)


def _set(key: str, value: Any, index: int = 5) -> Any:
    return lambda d: d["components"][index].__setitem__(key, value)


@pytest.mark.parametrize(
    ("mutate", "field_suffix", "message_part"),
    [
        (_drop("name"), ".name", "name is missing"),
        (_set("purl", "pkg:npm/"), ".purl", "is not a valid package URL"),
        (_set("scope", "sometimes"), ".scope", "scope must be one of required, optional, excluded"),
        (_set("components", {"not": "a list"}), ".components", "components must be an array"),
    ],
)
async def test_a_bad_component_names_its_field_and_writes_nothing(
    alice: Setup, mutate: Callable[[dict[str, Any]], None], field_suffix: str, message_part: str
) -> None:
    raw = document(200)
    ref = json.loads(raw)["components"][5]["bom-ref"]
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=_broken(raw, mutate))
    assert r.status_code == 422, r.text
    (error,) = r.json()["errors"]
    assert error["resource"] == "SbomImport"
    assert error["field"] == f"components.{ref}{field_suffix}"
    assert message_part in error["message"]
    assert await stored(alice.api) == (0, 0)


async def test_a_bad_dependency_entry_names_its_field(alice: Setup) -> None:
    raw = _broken(document(200), lambda d: d["dependencies"][7].pop("ref"))
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=raw)
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "dependencies[7].ref"
    assert await stored(alice.api) == (0, 0)


@pytest.mark.parametrize("where", ["components", "dependencies"])
async def test_bad_json_mid_stream_is_a_400_and_writes_nothing(alice: Setup, where: str) -> None:
    raw = document(400)
    cut = raw.index(b'"dependencies"') + (2_000 if where == "dependencies" else -20_000)
    # Cut short, and a stray comma between two objects.
    comma = raw.index(b"},{", cut) + 2
    for broken in (raw[:cut], raw[:comma] + b"," + raw[comma:]):
        r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=broken)
        assert r.status_code == 400, r.text
        assert r.json()["message"] == "Problems parsing JSON"
    assert await stored(alice.api) == (0, 0)


async def test_a_write_failing_half_way_leaves_nothing(alice: Setup, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sql, "WRITE_BATCH", 50)
    real = sql._insert_resolved
    calls = 0

    async def failing(conn: Any, rows: list[tuple[Any, ...]]) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("the disk is full")
        await real(conn, rows)

    monkeypatch.setattr(sql, "_insert_resolved", failing)
    r = await alice.api.post(f"{IMPORT}?sha={SHA_A}", token=alice.token, content=document(300))
    assert r.status_code == 500
    assert calls == 3
    assert await stored(alice.api) == (0, 0)


@pytest.fixture
async def limited(settings: Settings, backend: str) -> AsyncIterator[tuple[Harness, str]]:
    """The server with a global body cap of 1 KiB and an SBOM import limit of 64 KiB."""
    async with running(replace(settings, max_body_bytes=1024, max_sbom_bytes=64 * 1024), backend) as api:
        await api.user("alice")
        await api.repo("alice/web")
        yield api, await api.token("alice")


async def _chunks(raw: bytes) -> AsyncIterator[bytes]:
    for start in range(0, len(raw), 4096):
        yield raw[start : start + 4096]


async def test_the_route_has_its_own_body_limit(limited: tuple[Harness, str]) -> None:
    api, token = limited
    small, large = document(40), document(100)
    assert 1024 < len(small) < 64 * 1024 < len(large)
    r = await api.post(f"{IMPORT}?sha={SHA_A}", token=token, content=small)
    assert r.status_code == 201, r.text
    # Announced by Content-Length: refused before the body is read.
    r = await api.post(f"{IMPORT}?sha={SHA_A}", token=token, content=large)
    assert r.status_code == 413
    assert r.json()["message"] == "Payload Too Large"
    # Chunked, no Content-Length: refused once the limit is passed.
    r = await api.post(f"{IMPORT}?sha={SHA_A}", token=token, content=_chunks(large))
    assert r.status_code == 413
    assert r.json()["message"] == "Payload Too Large"
    # Other routes keep the global cap.
    r = await api.post("/repos/alice/web/dependency-graph/snapshots", token=token, content=small)
    assert r.status_code == 413


async def test_a_refused_caller_is_refused_before_the_body_is_read(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/web")
    r = await api.post(f"{IMPORT}?sha={SHA_A}", token=await api.token("bob"), content=_chunks(document(50)))
    assert r.status_code == 403
