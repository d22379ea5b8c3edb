"""Validate responses against GitHub's OpenAPI description of an operation (by ``operationId``),
for the API version the request asked for."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from tests.conftest import CI, SHARED

SPEC_DIR = SHARED / "spec"
VERSIONS = ("2022-11-28", "2026-03-10")
# Undated: its ``x-github-breaking-changes`` are applied here for the version asked for.
ALERTS_FILE = "github-alerts-advisories.openapi.json"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema."""
    if isinstance(node, list):
        return [_nullable(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _nullable(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def _read(path: Path) -> Any:
    """A description file from ``../shared/spec``: a test that needs one is skipped when it is absent,
    except under CI=true, where that fails."""
    if not path.is_file():
        if CI:
            pytest.fail(f"CI=true but {path} is missing")
        pytest.skip(f"{path.name} from ../shared/spec is not present on this machine")
    return json.loads(path.read_text())


@cache
def document(version: str, spec_dir: Path = SPEC_DIR) -> dict[str, Any]:
    return _nullable(_read(spec_dir / f"github-supply-chain.{version}.openapi.json"))  # type: ignore[no-any-return]


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: ``null`` removes a key, objects merge, anything else replaces."""
    if not isinstance(patch, dict) or not isinstance(target, dict):
        return patch
    out = dict(target)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def _breaking_changes(node: Any, version: str) -> Any:
    if isinstance(node, list):
        return [_breaking_changes(n, version) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _breaking_changes(v, version) for k, v in node.items() if k != "x-github-breaking-changes"}
    for change in node.get("x-github-breaking-changes", []):
        if change["version"] <= version and isinstance(change["patch"], dict):
            out = _merge_patch(out, _breaking_changes(change["patch"], version))
    return out


@cache
def alerts_document(version: str) -> dict[str, Any]:
    raw = _read(SPEC_DIR / ALERTS_FILE)
    return _nullable(_breaking_changes(raw, version))  # type: ignore[no-any-return]


def _operations_of(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    ops: dict[str, dict[str, Any]] = {}
    for path_item in doc["paths"].values():
        for op in path_item.values():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = op
    return ops


@cache
def _operations(version: str) -> dict[str, dict[str, Any]]:
    return _operations_of(document(version))


@cache
def _alerts_operations(version: str) -> dict[str, dict[str, Any]]:
    return _operations_of(alerts_document(version))


def _document_for(operation_id: str, version: str) -> dict[str, Any]:
    """The supply-chain description, or the alerts one for the operations only it has."""
    if operation_id in _operations(version):
        return document(version)
    return alerts_document(version)


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = doc
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def response_schema(operation_id: str, status: int, version: str = VERSIONS[0]) -> dict[str, Any] | None:
    """The JSON schema of the documented response, or None when the status has no JSON body."""
    doc = _document_for(operation_id, version)
    responses = _operations_of(doc)[operation_id]["responses"]
    declared = responses.get(str(status))
    if declared is None:
        if status >= 400:
            return doc["components"]["schemas"]["basic-error"]  # type: ignore[no-any-return]
        raise AssertionError(f"{operation_id} does not document status {status}")
    content = _resolve(doc, declared).get("content", {})
    for media_type, body in content.items():
        if "json" in media_type:
            return body.get("schema")  # type: ignore[no-any-return]
    return None


def assert_conforms(response: httpx.Response, operation_id: str, version: str | None = None) -> None:
    """Fail unless the response's status is documented and its body matches the documented schema."""
    version = version or response.request.headers.get("X-GitHub-Api-Version", VERSIONS[0])
    schema = response_schema(operation_id, response.status_code, version)
    if schema is None:
        return
    assert response.headers["content-type"].startswith("application/json"), response.headers
    root = {**schema, "components": _document_for(operation_id, version)["components"]}
    jsonschema.Draft7Validator(root).validate(response.json())
