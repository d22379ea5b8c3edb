"""Named builders for snapshot bodies, and the spec's documented example."""

from __future__ import annotations

import copy
from typing import Any

from tests.spec import document

SNAPSHOTS = "/repos/{repo}/dependency-graph/snapshots"
SHA_A = "a" * 40
SHA_B = "b" * 40
SHA_C = "c" * 40


def example_snapshot() -> dict[str, Any]:
    """The request example of ``dependency-graph/create-repository-snapshot`` in GitHub's description."""
    examples = document("2022-11-28")["components"]["examples"]
    return copy.deepcopy(examples["dependency-graph-create-snapshot-request"]["value"])


def snapshot(
    packages: dict[str, str],
    *,
    sha: str = SHA_A,
    ref: str = "refs/heads/main",
    correlator: str = "workflow_job",
    detector: str = "detector",
    scanned: str = "2026-01-01T00:00:00Z",
    manifest: str = "package-lock.json",
    scope: str | None = None,
    edges: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """A snapshot with one manifest resolving ``packages`` (key -> package URL), all direct."""
    resolved: dict[str, Any] = {}
    for key, purl in packages.items():
        entry: dict[str, Any] = {"package_url": purl, "relationship": "direct"}
        if scope is not None:
            entry["scope"] = scope
        if edges and key in edges:
            entry["dependencies"] = edges[key]
        resolved[key] = entry
    return {
        "version": 0,
        "sha": sha,
        "ref": ref,
        "job": {"correlator": correlator, "id": "run-1"},
        "detector": {"name": detector, "version": "1.0.0", "url": "https://example.com/detector"},
        "scanned": scanned,
        "manifests": {
            manifest: {"name": manifest, "file": {"source_location": manifest}, "resolved": resolved}
        },
    }
