"""GitHub's official OpenAPI description, per API version, from the pinned npm ``@octokit/openapi``.

The package ships one undated description per product (``api.github.com.json``, ``ghes-3.19.json``):
the default version's shapes, with each later version's changes attached as
``x-github-breaking-changes`` (a JSON merge patch, or a list of JSON Patch operations). The dated
description of a version is that file with its changes up to that version applied and the others
dropped. Operations api.github.com lacks (the GHES site-admin ones) come from the GHES description,
which is the same for both versions.

``make test`` installs the package into ``tests/clients/js/node_modules`` with ``npm ci`` (pinned by
the lock file), so after the first install everything here works offline.
"""

from __future__ import annotations

import copy
import json
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jsonschema

JS_DIR = Path(__file__).resolve().parents[1] / "clients" / "js"
GENERATED = JS_DIR / "node_modules" / "@octokit" / "openapi" / "generated"
API_VERSIONS = ("2022-11-28", "2026-03-10")
DEFAULT_VERSION = API_VERSIONS[0]
PRODUCTS = {"api.github.com": "api.github.com.json", "ghes": "ghes-3.19.json"}
CI = os.environ.get("CI", "").lower() == "true"


class DescriptionMissing(RuntimeError):
    pass


def installed() -> bool:
    return (GENERATED / PRODUCTS["api.github.com"]).is_file()


@cache
def _raw(product: str) -> dict[str, Any]:
    path = GENERATED / PRODUCTS[product]
    if not path.is_file():
        raise DescriptionMissing(f"{path} is missing: run `make test` (it runs `npm ci` in {JS_DIR.name})")
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = _merge_patch(out.get(key), value)
    return out


def _pointer(path: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]


def _json_patch(target: Any, ops: list[dict[str, Any]]) -> Any:
    """The RFC 6902 operations the description uses: add, remove, replace."""
    doc = copy.deepcopy(target)
    for op in ops:
        *parents, last = _pointer(op["path"])
        node = doc
        for part in parents:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            index = len(node) if last == "-" else int(last)
            if op["op"] == "remove":
                del node[index]
            elif op["op"] == "replace":
                node[index] = op["value"]
            else:
                node.insert(index, op["value"])
        elif op["op"] == "remove":
            del node[last]
        elif op["op"] in ("add", "replace"):
            node[last] = op["value"]
        else:
            raise ValueError(f"unsupported JSON Patch operation {op['op']!r}")
    return doc


def _apply_changes(node: Any, version: str) -> Any:
    if isinstance(node, list):
        return [_apply_changes(n, version) for n in node]
    if not isinstance(node, dict):
        return node
    changes = node.get("x-github-breaking-changes", [])
    out = {k: _apply_changes(v, version) for k, v in node.items() if k != "x-github-breaking-changes"}
    for change in changes:
        if change["version"] > version:
            continue
        patch = change["patch"]
        out = _json_patch(out, patch) if isinstance(patch, list) else _merge_patch(out, patch)
    return out


@cache
def document(product: str, version: str) -> dict[str, Any]:
    """The description of ``product`` as GitHub serves it under ``version``."""
    if version not in API_VERSIONS:
        raise ValueError(version)
    doc = _raw(product)
    return _apply_changes(doc, version) if product == "api.github.com" else doc


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    product: str

    def spec(self, version: str) -> dict[str, Any]:
        return document(self.product, version)["paths"][self.path][self.method]  # type: ignore[no-any-return]


@cache
def operations(product: str) -> dict[str, Operation]:
    ops: dict[str, Operation] = {}
    for path, item in _raw(product)["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                ops[op["operationId"]] = Operation(op["operationId"], method, path, product)
    return ops


def operation(operation_id: str) -> Operation:
    """An operation of api.github.com, else of GHES (site administration)."""
    for product in PRODUCTS:
        found = operations(product).get(operation_id)
        if found is not None:
            return found
    raise KeyError(operation_id)


def resolve(doc: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = doc
        for part in _pointer(node["$ref"].removeprefix("#")):
            target = target[part]
        node = target
    return node


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects as JSON Schema: ``nullable`` becomes a null alternative."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k not in ("nullable", "discriminator", "example")}
    if node.get("nullable") is True:
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _components(product: str, version: str) -> dict[str, Any]:
    return _json_schema(document(product, version)["components"])  # type: ignore[no-any-return]


# GitHub answers these on every operation, whether or not the operation declares them; Waybill does
# too. This is the one place that says so: an undeclared status is accepted only when it is listed
# here, and its body must match the schema named. (Everything else undeclared is a failure.)
IMPLICIT_RESPONSES: dict[int, tuple[str, str]] = {
    400: ("basic-error", "unsupported X-GitHub-Api-Version, or a body that is not JSON"),
    401: ("basic-error", "missing or bad credentials where authentication is needed"),
    403: ("basic-error", "authenticated but not allowed (site administration, rate limit)"),
    404: ("basic-error", "a resource in the path that does not exist or is not visible"),
    413: ("basic-error", "a body over the size limit"),
    422: ("validation-error", "a body that is JSON but not valid for the operation"),
}


@dataclass(frozen=True)
class Expectation:
    """What the description says a response with this status looks like."""

    declared: bool
    media_types: tuple[str, ...]
    schema: dict[str, Any] | None
    # The schema of each JSON media type, where an operation offers several (``application/sarif+json``).
    schemas: dict[str, Any] | None = None

    def schema_for(self, media_type: str) -> dict[str, Any] | None:
        if self.schemas and media_type in self.schemas:
            return self.schemas[media_type]  # type: ignore[no-any-return]
        return self.schema


def _implicit(status: int, declared: bool) -> Expectation:
    name = IMPLICIT_RESPONSES[status][0]
    return Expectation(declared, ("application/json",), {"$ref": f"#/components/schemas/{name}"})


def expectation(op: Operation, status: int, version: str) -> Expectation:
    doc = document(op.product, version)
    responses = op.spec(version)["responses"]
    declared = responses.get(str(status)) or responses.get(f"{str(status)[0]}XX")
    if declared is None:
        if status not in IMPLICIT_RESPONSES:
            return Expectation(False, (), None)
        return _implicit(status, False)
    content = resolve(doc, declared).get("content") or {}
    if not content and status in IMPLICIT_RESPONSES:
        # An error described in words only ("Bad Request if the sarif field is invalid"): GitHub
        # sends its usual error body, so it is held to the shape every error has.
        return _implicit(status, True)
    schemas = {mt: body.get("schema") for mt, body in content.items() if "json" in mt}
    schema = next(iter(schemas.values()), None)
    return Expectation(True, tuple(content), schema, schemas)


def check_response(response: httpx.Response, operation_id: str, version: str | None = None) -> None:
    """Fail unless the response's status is documented for the operation (or is one of
    ``IMPLICIT_RESPONSES``), its content type is one the description gives, and its body
    matches the schema, all for the API version the request asked for."""
    version = version or response.request.headers.get("X-GitHub-Api-Version", DEFAULT_VERSION)
    op = operation(operation_id)
    expected = expectation(op, response.status_code, version)
    where = f"{op.method.upper()} {op.path} -> {response.status_code} (API {version})"
    assert expected.declared or response.status_code in IMPLICIT_RESPONSES, (
        f"{where}: status not documented; body {response.text[:500]}"
    )
    if not expected.media_types:
        assert not response.content, f"{where}: the description gives no body, got {response.text[:200]}"
        return
    content_type = response.headers.get("content-type", "").split(";")[0].strip()
    assert content_type in expected.media_types, f"{where}: content type {content_type!r}"
    schema = expected.schema_for(content_type)
    if schema is None:
        return
    root = {**_json_schema(schema), "components": _components(op.product, version)}
    validator = jsonschema.Draft7Validator(root)
    errors = sorted(validator.iter_errors(response.json()), key=lambda e: list(e.absolute_path))
    assert not errors, f"{where}: body does not match the description:\n" + "\n".join(
        f"  at {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message[:300]}" for e in errors[:10]
    )


def _removed(doc_old: dict[str, Any], doc_new: dict[str, Any], old: Any, new: Any, depth: int = 0) -> Any:
    """A tree of the properties the newer schema no longer has: {name: True | subtree}, with
    ``"[]"`` for array items and ``"{}"`` for map values."""
    old, new = resolve(doc_old, old), resolve(doc_new, new)
    if depth > 8 or not isinstance(old, dict) or not isinstance(new, dict):
        return {}
    tree: dict[str, Any] = {}
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, schema in old_props.items():
        if name not in new_props:
            tree[name] = True
        else:
            sub = _removed(doc_old, doc_new, schema, new_props[name], depth + 1)
            if sub:
                tree[name] = sub
    for key, marker in (("items", "[]"), ("additionalProperties", "{}")):
        if isinstance(old.get(key), dict) and isinstance(new.get(key), dict):
            sub = _removed(doc_old, doc_new, old[key], new[key], depth + 1)
            if sub:
                tree[marker] = sub
    return tree


def _present(body: Any, tree: Any, path: str = "") -> list[str]:
    found: list[str] = []
    if isinstance(body, list) and "[]" in tree:
        for i, item in enumerate(body):
            found += _present(item, tree["[]"], f"{path}[{i}]")
    if isinstance(body, dict):
        for name, sub in tree.items():
            if name == "{}":
                for key, value in body.items():
                    found += _present(value, sub, f"{path}.{key}")
            elif name in body:
                found += [f"{path}.{name}"] if sub is True else _present(body[name], sub, f"{path}.{name}")
    return found


def check_no_removed_fields(response: httpx.Response, operation_id: str, version: str) -> None:
    """Fail when a body under a later API version carries a field that version removed (for
    example ``bundle`` in attestation lists, or ``authorizations_url`` in ``GET /``)."""
    op = operation(operation_id)
    if op.product != "api.github.com" or version == DEFAULT_VERSION or not response.content:
        return
    old_doc, new_doc = document(op.product, DEFAULT_VERSION), document(op.product, version)
    status = str(response.status_code)
    old = op.spec(DEFAULT_VERSION)["responses"].get(status)
    new = op.spec(version)["responses"].get(status)
    if old is None or new is None:
        return
    old_content = resolve(old_doc, old).get("content", {}).get("application/json", {})
    new_content = resolve(new_doc, new).get("content", {}).get("application/json", {})
    tree = _removed(old_doc, new_doc, old_content.get("schema"), new_content.get("schema"))
    present = _present(response.json(), tree)
    assert not present, f"{op.method.upper()} {op.path} (API {version}) still sends removed fields: {present}"
