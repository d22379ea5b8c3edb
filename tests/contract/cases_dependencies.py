"""Contract cases of the dependency graph operations (snapshots, SBOM export and reports, review)."""

from __future__ import annotations

import httpx

from tests.contract.registry import case
from tests.contract.world import Http, World

SHA_BASE, SHA_HEAD = "a" * 40, "b" * 40


def snapshot(sha: str, packages: dict[str, str]) -> dict[str, object]:
    resolved = {
        name: {"package_url": purl, "relationship": "direct", "scope": "runtime"}
        for name, purl in packages.items()
    }
    return {
        "version": 0,
        "sha": sha,
        "ref": "refs/heads/main",
        "job": {"correlator": "contract", "id": "1"},
        "detector": {"name": "contract", "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": "2026-01-01T00:00:00Z",
        "manifests": {"package-lock.json": {"name": "package-lock.json", "resolved": resolved}},
    }


def _repo(w: World) -> str:
    return f"/repos/{w.org}/{w.public_repo}/dependency-graph"


async def _submit(http: Http, w: World, v: str, sha: str, packages: dict[str, str]) -> httpx.Response:
    return await http.request(
        "POST", f"{_repo(w)}/snapshots", token=w.owner_token, version=v, json=snapshot(sha, packages)
    )


# dependency-graph/create-repository-snapshot


@case("dependency-graph/create-repository-snapshot", "snapshot", 201)
async def _create(http: Http, w: World, v: str) -> httpx.Response:
    return await _submit(http, w, v, SHA_BASE, {"left-pad": "pkg:npm/left-pad@1.3.0"})


@case("dependency-graph/create-repository-snapshot", "sha missing", 422, message="Validation Failed")
async def _create_bad(http: Http, w: World, v: str) -> httpx.Response:
    body = snapshot(SHA_BASE, {})
    del body["sha"]
    return await http.request("POST", f"{_repo(w)}/snapshots", token=w.owner_token, version=v, json=body)


# dependency-graph/export-sbom


@case("dependency-graph/export-sbom", "repository", 200)
async def _sbom(http: Http, w: World, v: str) -> httpx.Response:
    await _submit(http, w, v, SHA_BASE, {"left-pad": "pkg:npm/left-pad@1.3.0"})
    return await http.request("GET", f"{_repo(w)}/sbom", token=w.owner_token, version=v)


@case("dependency-graph/export-sbom", "private repository, outsider", 404, message="Not Found")
async def _sbom_hidden(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/repos/{w.org}/{w.private_repo}/dependency-graph/sbom"
    return await http.request("GET", path, token=w.outsider_token, version=v)


# dependency-graph/generate-sbom-report, dependency-graph/fetch-sbom-report


@case("dependency-graph/generate-sbom-report", "requested", 201)
async def _generate(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/sbom/generate-report", token=w.owner_token, version=v)


@case("dependency-graph/generate-sbom-report", "unknown repository", 404, message="Not Found")
async def _generate_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"/repos/{w.org}/no-such-repo/dependency-graph/sbom/generate-report"
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("dependency-graph/fetch-sbom-report", "not ready yet", 202)
async def _fetch_pending(http: Http, w: World, v: str) -> httpx.Response:
    generated = await http.request("GET", f"{_repo(w)}/sbom/generate-report", token=w.owner_token, version=v)
    assert generated.status_code == 201, generated.text
    path = "/" + generated.json()["sbom_url"].split("/", 3)[3]
    return await http.request("GET", path, token=w.owner_token, version=v)


@case("dependency-graph/fetch-sbom-report", "unknown report", 404, message="Not Found")
async def _fetch_unknown(http: Http, w: World, v: str) -> httpx.Response:
    path = f"{_repo(w)}/sbom/fetch-report/00000000-0000-0000-0000-000000000000"
    return await http.request("GET", path, token=w.owner_token, version=v)


# dependency-graph/diff-range


@case("dependency-graph/diff-range", "two snapshots", 200)
async def _diff(http: Http, w: World, v: str) -> httpx.Response:
    await _submit(http, w, v, SHA_BASE, {"left-pad": "pkg:npm/left-pad@1.3.0"})
    await _submit(http, w, v, SHA_HEAD, {"left-pad": "pkg:npm/left-pad@1.3.1"})
    return await http.request(
        "GET", f"{_repo(w)}/compare/{SHA_BASE}...{SHA_HEAD}", token=w.owner_token, version=v
    )


@case("dependency-graph/diff-range", "malformed basehead", 400)
async def _diff_bad(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/compare/{SHA_BASE}", token=w.owner_token, version=v)
