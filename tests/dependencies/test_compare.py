"""GET /repos/{owner}/{repo}/dependency-graph/compare/{basehead}: dependency review."""

from __future__ import annotations

from typing import Any

import pytest

from tests.dependencies.conftest import Setup
from tests.dependencies.helpers import SHA_A, SHA_B, SHA_C, snapshot
from tests.harness import Harness
from tests.spec import assert_conforms

OP = "dependency-graph/diff-range"
SNAPSHOTS = "/repos/alice/web/dependency-graph/snapshots"
COMPARE = "/repos/alice/web/dependency-graph/compare/"


def change(
    change_type: str,
    purl: str,
    name: str,
    version: str,
    *,
    manifest: str = "package-lock.json",
    ecosystem: str = "npm",
    scope: str = "runtime",
) -> dict[str, Any]:
    return {
        "change_type": change_type,
        "manifest": manifest,
        "ecosystem": ecosystem,
        "name": name,
        "version": version,
        "package_url": purl,
        "license": None,
        "source_repository_url": None,
        "vulnerabilities": [],
        "scope": scope,
    }


@pytest.fixture
async def history(alice: Setup) -> Setup:
    """main at SHA_A: lodash 4.17.20, left-pad; feature at SHA_B: lodash 4.17.21, express (dev);
    main later at SHA_C: only a pip package in another manifest."""
    api, token = alice.api, alice.token
    base = {"lodash": "pkg:npm/lodash@4.17.20", "left-pad": "pkg:npm/left-pad@1.3.0"}
    await api.post(SNAPSHOTS, token=token, json=snapshot(base, sha=SHA_A, scope="runtime"))
    head = snapshot(
        {"lodash": "pkg:npm/lodash@4.17.21"}, sha=SHA_B, ref="refs/heads/feature", scope="runtime"
    )
    head["manifests"]["package-lock.json"]["resolved"]["express"] = {
        "package_url": "pkg:npm/express@4.18.2",
        "scope": "development",
    }
    await api.post(SNAPSHOTS, token=token, json=head)
    later = snapshot(
        {"django": "pkg:pypi/django@5.0"},
        sha=SHA_C,
        manifest="requirements.txt",
        scanned="2026-02-01T00:00:00Z",
    )
    await api.post(SNAPSHOTS, token=token, json=later)
    return alice


async def test_added_removed_and_changed_versions(history: Setup) -> None:
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_B}", token=history.token)
    assert r.status_code == 200, r.text
    assert_conforms(r, OP)
    assert r.json() == [
        change("added", "pkg:npm/express@4.18.2", "express", "4.18.2", scope="development"),
        change("removed", "pkg:npm/left-pad@1.3.0", "left-pad", "1.3.0"),
        change("removed", "pkg:npm/lodash@4.17.20", "lodash", "4.17.20"),
        change("added", "pkg:npm/lodash@4.17.21", "lodash", "4.17.21"),
    ]


async def test_graph_at_an_old_commit_is_rebuilt(history: Setup) -> None:
    # main moved on to SHA_C (a different manifest replaced the first), yet SHA_A's graph remains.
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_C}", token=history.token)
    assert r.status_code == 200
    assert r.json() == [
        change("removed", "pkg:npm/left-pad@1.3.0", "left-pad", "1.3.0"),
        change("removed", "pkg:npm/lodash@4.17.20", "lodash", "4.17.20"),
        change(
            "added",
            "pkg:pypi/django@5.0",
            "django",
            "5.0",
            manifest="requirements.txt",
            ecosystem="pip",
            scope="unknown",
        ),
    ]


async def test_refs_branch_names_and_short_shas(history: Setup) -> None:
    api, token = history.api, history.token
    by_sha = (await api.get(f"{COMPARE}{SHA_C}...{SHA_B}", token=token)).json()
    assert (await api.get(f"{COMPARE}main...feature", token=token)).json() == by_sha
    assert (await api.get(f"{COMPARE}refs/heads/main...refs/heads/feature", token=token)).json() == by_sha
    assert (await api.get(f"{COMPARE}ccccccc...bbbbbbbbbb", token=token)).json() == by_sha


async def test_manifest_filter(history: Setup) -> None:
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_C}?name=requirements.txt", token=history.token)
    assert [c["name"] for c in r.json()] == ["django"]


async def test_same_commit_has_no_changes(history: Setup) -> None:
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_A}", token=history.token)
    assert r.status_code == 200
    assert r.json() == []


async def test_pages_with_link_header(history: Setup) -> None:
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_B}?per_page=3", token=history.token)
    assert len(r.json()) == 3
    assert 'rel="next"' in r.headers["link"]
    r = await history.api.get(f"{COMPARE}{SHA_A}...{SHA_B}?per_page=3&page=2", token=history.token)
    assert [c["version"] for c in r.json()] == ["4.17.21"]


async def test_unknown_commit_is_404(history: Setup) -> None:
    r = await history.api.get(f"{COMPARE}{SHA_A}...{'d' * 40}", token=history.token)
    assert r.status_code == 404
    assert_conforms(r, OP)
    assert r.json() == {
        "message": "Dependency review could not obtain dependency data for the specified owner, "
        "repository, or revision range.",
        "documentation_url": "https://docs.github.com/rest",
        "status": "404",
    }


@pytest.mark.parametrize("basehead", [SHA_A, f"{SHA_A}..{SHA_B}", f"...{SHA_B}", f"{SHA_A}..."])
async def test_malformed_basehead_is_400(history: Setup, basehead: str) -> None:
    r = await history.api.get(f"{COMPARE}{basehead}", token=history.token)
    assert r.status_code == 400
    assert_conforms(r, OP)
    assert r.json()["message"] == "Invalid basehead: expected the form {base}...{head}"


async def test_private_repository(api: Harness) -> None:
    await api.user("alice")
    await api.user("bob")
    await api.repo("alice/secret", private=True)
    owner = await api.token("alice")
    await api.post(
        "/repos/alice/secret/dependency-graph/snapshots", token=owner, json=snapshot({"a": "pkg:npm/a@1"})
    )
    url = f"/repos/alice/secret/dependency-graph/compare/{SHA_A}...{SHA_A}"
    r = await api.get(url, token=await api.token("bob"))
    assert r.status_code == 404
    assert_conforms(r, OP)
    # No Advanced Security licence gate: a reader of a private repository gets its review.
    assert (await api.get(url, token=owner)).status_code == 200
