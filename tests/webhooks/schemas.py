"""The schemas event bodies are checked against: GitHub's (npm ``@octokit/openapi-webhooks``, pinned
in tests/clients/js) for GitHub's events, and Waybill's own (docs/webhooks) for the rest."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from tests.contract.description import JS_DIR

GITHUB = JS_DIR / "node_modules" / "@octokit" / "openapi-webhooks" / "generated" / "api.github.com.json"
WAYBILL = Path(__file__).resolve().parents[2] / "docs" / "webhooks"


@cache
def _github() -> dict[str, Any]:
    return json.loads(GITHUB.read_text())  # type: ignore[no-any-return]


def _openapi_to_json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type, everywhere."""
    if isinstance(node, list):
        return [_openapi_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _openapi_to_json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


def check_github(event: str, action: str | None, body: dict[str, Any]) -> None:
    """Fail unless ``body`` is what GitHub's description gives for the event and action."""
    doc = _github()
    key = (
        event.replace("_", "-") if action is None else f"{event.replace('_', '-')}-{action.replace('_', '-')}"
    )
    operation = doc["webhooks"][key]["post"]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    root = {**_openapi_to_json_schema(schema), "components": _openapi_to_json_schema(doc["components"])}
    jsonschema.Draft7Validator(root).validate(body)


def check_waybill(event: str, body: dict[str, Any]) -> None:
    schema = json.loads((WAYBILL / f"{event}.schema.json").read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker()).validate(body)
