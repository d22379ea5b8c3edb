"""Property-based testing with Schemathesis, from GitHub's official description, against a live Waybill.

The description is cut down to the operations Waybill implements (``registry.implemented()``), with
GHES's site-administration operations merged in, its path parameters given the seeded world's names
as examples (so that generated requests reach real organizations, repositories and digests), and the
undeclared statuses GitHub answers everywhere added as ``IMPLICIT_RESPONSES`` say. Each API version
and backend gets its own run, with a site administrator's token that also owns the organization.

``make fuzz`` runs the long version; ``test_fuzz.py`` runs a short, deterministic one in ``make test``::

    python -m tests.contract.fuzz --max-examples 400 --seed 20261110 --min-requests 20000
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.contract import description, registry
from tests.contract.world import World
from tests.live import LiveServer, live_server

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
)
_REF = re.compile(r'"\$ref":\s*"#/components/([^/"]+)/([^"]+)"')


def _refs(node: Any) -> set[tuple[str, str]]:
    return set(_REF.findall(json.dumps(node)))


def _prefix_refs(node: Any, prefix: str) -> Any:
    if isinstance(node, list):
        return [_prefix_refs(n, prefix) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _prefix_refs(v, prefix) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/"):
        kind, _, name = ref.removeprefix("#/components/").partition("/")
        out["$ref"] = f"#/components/{kind}/{prefix}{name}"
    return out


def _examples(world: World) -> dict[str, Any]:
    """Path parameter name -> the seeded value that positive requests should reach."""
    values: dict[str, Any] = {
        "org": world.org,
        "owner": world.org,
        "repo": world.public_repo,
        # The fuzzing token is the site administrator's, so user-scoped operations name it.
        "username": world.admin,
    }
    values.update(world.extra.get("path_examples", {}))
    return values


def implemented_description(version: str, world: World, base_url: str) -> dict[str, Any]:
    """GitHub's description for ``version``, cut to what Waybill implements, ready for fuzzing."""
    ops = [description.operation(op) for op in registry.implemented()]
    main = description.document("api.github.com", version)
    doc: dict[str, Any] = {
        "openapi": main["openapi"],
        "info": {**main["info"], "title": f"{main['info']['title']} (Waybill's operations, {version})"},
        "servers": [{"url": base_url}],
        "paths": {},
        "components": {},
    }
    sources: dict[str, tuple[dict[str, Any], str]] = {"api.github.com": (main, "")}
    sources["ghes"] = (description.document("ghes", version), "ghes-")
    for op in ops:
        source, prefix = sources[op.product]
        item = source["paths"][op.path]
        spec = _prefix_refs(copy.deepcopy(item[op.method]), prefix)
        spec.pop("x-github-breaking-changes", None)
        target = doc["paths"].setdefault(op.path, {})
        if "parameters" in item:
            target["parameters"] = _prefix_refs(copy.deepcopy(item["parameters"]), prefix)
        target[op.method] = spec
    # Components reachable from the kept operations, from whichever description they came.
    pending = _refs(doc["paths"])
    seen: set[tuple[str, str]] = set()
    while pending:
        kind, name = pending.pop()
        if (kind, name) in seen:
            continue
        seen.add((kind, name))
        source, prefix = sources["ghes"] if name.startswith("ghes-") else sources["api.github.com"]
        if name.startswith("ghes-"):
            node = _prefix_refs(copy.deepcopy(source["components"][kind][name.removeprefix("ghes-")]), prefix)
        else:
            node = copy.deepcopy(source["components"][kind][name])
        doc["components"].setdefault(kind, {})[name] = node
        pending |= _refs(node) - seen
    for schema_name in {name for name, _ in description.IMPLICIT_RESPONSES.values()}:
        if ("schemas", schema_name) not in seen:
            doc["components"].setdefault("schemas", {})[schema_name] = copy.deepcopy(
                main["components"]["schemas"][schema_name]
            )
    examples = _examples(world)
    for param in doc["components"].get("parameters", {}).values():
        if param.get("in") == "path" and param.get("name") in examples:
            param["example"] = examples[param["name"]]
            param.pop("examples", None)
    for item in doc["paths"].values():
        for method, spec in item.items():
            if method == "parameters":
                continue
            for param in spec.get("parameters", []):
                if "$ref" not in param and param.get("in") == "path" and param.get("name") in examples:
                    param["example"] = examples[param["name"]]
            responses = spec["responses"]
            for status, (schema_name, why) in description.IMPLICIT_RESPONSES.items():
                if str(status) not in responses:
                    responses[str(status)] = {
                        "description": f"(not declared by GitHub; answered on every operation) {why}",
                        "content": {
                            "application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}
                        },
                    }
    _add_links(doc)
    return doc


# OpenAPI links GitHub's description lacks, for the stateful phase: (operationId, status) -> links.
LINKS: dict[tuple[str, str], dict[str, Any]] = {
    ("repos/create-attestation", "201"): {
        "DeleteByIdInOrganization": {
            "operationId": "orgs/delete-attestations-by-id",
            "parameters": {"org": "$request.path.owner", "attestation_id": "$response.body#/id"},
        },
        "DeleteByIdForUser": {
            "operationId": "users/delete-attestations-by-id",
            "parameters": {"username": "$request.path.owner", "attestation_id": "$response.body#/id"},
        },
    },
}


def _add_links(doc: dict[str, Any]) -> None:
    present = {
        spec["operationId"]
        for item in doc["paths"].values()
        for method, spec in item.items()
        if method != "parameters"
    }
    for item in doc["paths"].values():
        for method, spec in item.items():
            if method == "parameters":
                continue
            for (operation_id, status), links in LINKS.items():
                if spec["operationId"] == operation_id and status in spec["responses"]:
                    usable = {k: v for k, v in links.items() if v["operationId"] in present}
                    if usable:
                        spec["responses"][status] = {**spec["responses"][status], "links": usable}


@dataclass
class RunResult:
    backend: str
    version: str
    requests: int = 0
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    generated: int = 0
    output: str = ""
    exit_code: int = 0


def run_schemathesis(
    server: LiveServer,
    version: str,
    *,
    max_examples: int,
    seed: int,
    workdir: Path,
    phases: str = "examples,coverage,fuzzing,stateful",
    stream: bool = False,
    tags: tuple[str, ...] = (),
) -> RunResult:
    doc = implemented_description(version, server.world, server.url)
    spec = workdir / f"openapi-{version}.json"
    spec.write_text(json.dumps(doc))
    report = workdir / f"report-{server.backend}-{version}.ndjson"
    exe = shutil.which("schemathesis", path=str(Path(sys.executable).parent)) or "schemathesis"
    command = [
        exe,
        "run",
        str(spec),
        "--url",
        server.url,
        "--header",
        f"Authorization: Bearer {server.world.admin_token}",
        "--header",
        f"X-GitHub-Api-Version: {version}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        phases,
        "--max-examples",
        str(max_examples),
        "--seed",
        str(seed),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--continue-on-failure",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "30",
        "--no-color",
        "--report",
        "ndjson,json",
        "--report-ndjson-path",
        str(report),
        "--report-json-path",
        str(report.with_suffix(".json")),
        *(arg for tag in tags for arg in ("--include-tag", tag)),
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    completed = subprocess.run(
        command,
        env=env,
        # Schemathesis keeps a cache in its working directory.
        cwd=workdir,
        stdout=None if stream else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        check=False,
    )
    result = RunResult(server.backend, version, output=completed.stdout or "", exit_code=completed.returncode)
    _read_report(report, result)
    return result


def _read_report(report: Path, result: RunResult) -> None:
    """Count requests, statuses and failures from Schemathesis's NDJSON event stream, and take the
    summary of its JSON run report (which also counts failures the stream does not itemise)."""
    summary = report.with_suffix(".json")
    if summary.exists():
        data = json.loads(summary.read_text())
        result.generated = data["test_cases"]["generated"]
        for failure in data.get("failures", []):
            operations = ", ".join(failure["operations"])
            result.failures.append(f"{failure['code']} {failure['title']} ({failure['count']}): {operations}")
        for error in data.get("errors", []):
            result.failures.append(f"error: {json.dumps(error)[:800]}")
    if not report.exists():
        result.failures.append("schemathesis wrote no report")
        return
    for line in report.read_text().splitlines():
        event = json.loads(line)
        for name, body in event.items():
            if name == "ScenarioFinished":
                recorder = body.get("recorder", {})
                result.cases += len(recorder.get("cases", {}))
                for interactions in recorder.get("interactions", {}).values():
                    response = interactions.get("response") or {}
                    result.requests += 1
                    if "status_code" in response:
                        result.statuses[response["status_code"]] += 1
                interactions = recorder.get("interactions", {})
                for case_id, checks in recorder.get("checks", {}).items():
                    for check in checks:
                        if str(check.get("status")).lower() == "failure":
                            exchange = interactions.get(case_id) or {}
                            request = exchange.get("request") or {}
                            status = (exchange.get("response") or {}).get("status_code")
                            sent = f"{request.get('method')} {request.get('uri')}"
                            result.failures.append(f"{check.get('name')}: {sent} -> {status}")
            elif name == "NonFatalError":
                result.failures.append(f"error: {json.dumps(body)[:800]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--backend", action="append", choices=["sqlite", "postgresql"])
    parser.add_argument("--version", action="append", choices=list(description.API_VERSIONS))
    parser.add_argument("--max-examples", type=int, default=400)
    parser.add_argument("--seed", type=int, default=20261110)
    parser.add_argument("--min-requests", type=int, default=0)
    # GitHub's tags (``code-scanning``, ``dependabot``...): a long run over some families only.
    parser.add_argument("--tag", action="append", default=[])
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite", "postgresql"]
    versions = args.version or list(description.API_VERSIONS)
    results: list[RunResult] = []
    with tempfile.TemporaryDirectory(prefix="waybill-fuzz-") as tmp:
        for backend in backends:
            for version in versions:
                # A fresh server per run, so that each version's run starts from the seeded world.
                with live_server(backend, Path(tmp) / f"{backend}-{version}") as server:
                    print(f"== schemathesis: {backend}, API {version}, {server.url}", flush=True)
                    result = run_schemathesis(
                        server,
                        version,
                        max_examples=args.max_examples,
                        seed=args.seed,
                        workdir=Path(tmp),
                        stream=True,
                        tags=tuple(args.tag),
                    )
                results.append(result)
                print(
                    f"== {backend} {version}: {result.requests} requests, {result.generated} cases, "
                    f"{len(result.failures)} failures; statuses {dict(sorted(result.statuses.items()))}",
                    flush=True,
                )
                for failure in result.failures:
                    print("   FAILURE", failure, flush=True)
    total = sum(r.requests for r in results)
    failures = sum(len(r.failures) for r in results)
    print(f"TOTAL: {total} requests over {len(registry.implemented())} operations, {failures} failures")
    if failures or any(r.exit_code for r in results):
        return 1
    if total < args.min_requests:
        print(f"fewer than {args.min_requests} requests: raise --max-examples")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
