"""SARIF documents for tests and benchmarks: real scanner output in ``sarif_data/``, and named
builders for the edge cases, all uploaded as clients upload them (gzip, then base64)."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).parent / "sarif_data"
SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SHA = "a" * 40
SHA2 = "b" * 40
CHECKOUT = "file:///github/workspace/"


def real(name: str) -> dict[str, Any]:
    """``ruff`` or ``bandit``: a scanner's own output (see ``sarif_data/README.md``)."""
    return json.loads((DATA / f"{name}.sarif").read_text())  # type: ignore[no-any-return]


def encode(document: dict[str, Any] | bytes) -> str:
    raw = document if isinstance(document, bytes) else json.dumps(document).encode()
    # No timestamp in the gzip header: equal documents encode alike (test ids are stable).
    return base64.b64encode(gzip.compress(raw, mtime=0)).decode()


def upload(
    document: dict[str, Any], *, sha: str = SHA, ref: str = "refs/heads/main", **extra: Any
) -> dict[str, Any]:
    return {"commit_sha": sha, "ref": ref, "sarif": encode(document), **extra}


def result(
    rule: str,
    path: str,
    line: int,
    *,
    message: str = "a finding",
    snippet: str | None = None,
    fingerprints: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line, "startColumn": 1, "endColumn": 10}
    if snippet is not None:
        region["snippet"] = {"text": snippet}
    out: dict[str, Any] = {
        "ruleId": rule,
        "message": {"text": message},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": path}, "region": region}}],
        **extra,
    }
    if fingerprints is not None:
        out["partialFingerprints"] = fingerprints
    return out


def rule(
    ident: str, *, level: str = "warning", security_severity: str | None = None, **extra: Any
) -> dict[str, Any]:
    properties: dict[str, Any] = {"tags": ["security"]}
    if security_severity is not None:
        properties["security-severity"] = security_severity
    return {
        "id": ident,
        "name": ident.title(),
        "shortDescription": {"text": f"{ident} short"},
        "fullDescription": {"text": f"{ident} full"},
        "defaultConfiguration": {"level": level},
        "properties": properties,
        **extra,
    }


def run(
    results: list[dict[str, Any]],
    *,
    tool: str = "Scanner",
    rules: list[dict[str, Any]] | None = None,
    category: str | None = None,
) -> dict[str, Any]:
    ids = sorted({r["ruleId"] for r in results})
    out: dict[str, Any] = {
        "tool": {"driver": {"name": tool, "version": "1.0.0", "rules": rules or [rule(i) for i in ids]}},
        "results": results,
    }
    if category is not None:
        out["automationDetails"] = {"id": category}
    return out


def document(*runs: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": SCHEMA, "version": "2.1.0", "runs": list(runs)}


def many_results(count: int) -> dict[str, Any]:
    """One run of ``count`` results: the first 10 critical, the rest notes (for the 5,000 cut)."""
    rules = [rule("crit", level="error", security_severity="9.5"), rule("note", level="note")]
    results = [
        result("crit" if i < 10 else "note", f"src/f{i // 100}.py", i % 100 + 1, fingerprints={"h": str(i)})
        for i in range(count)
    ]
    # The critical ones last, so keeping "the first 5,000" by position would lose them.
    results.reverse()
    return document(run(results, rules=rules))
