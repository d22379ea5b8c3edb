"""Coverage is explicit: every GitHub route the server has is an operation of GitHub's description and
has contract cases in the registry, and every operation in the registry is routed."""

from __future__ import annotations

import re

import pytest

from tests.contract import description, registry
from waybill.app import create_app
from waybill.config import Settings

# Waybill's own surface (not GitHub's) lives under these prefixes and is outside the contract.
# Prometheus scrapes /metrics by convention, so it keeps that path.
OWN_PREFIXES = ("/waybill/", "/ui/", "/ui", "/metrics")
_PARAM = re.compile(r"\{[^}]+\}")


def _shape(path: str) -> str:
    return _PARAM.sub("{}", path)


def served_operations() -> dict[tuple[str, str], str]:
    """(METHOD, path shape) -> route path, for every GitHub-surface route of the app."""
    app = create_app(Settings())
    served: dict[tuple[str, str], str] = {}
    for route in app.litestar.routes:
        if route.path.startswith(OWN_PREFIXES):
            continue
        for method in getattr(route, "methods", ()):
            if method in ("HEAD", "OPTIONS"):
                continue
            served[(method, _shape(route.path))] = route.path
    return served


def described() -> dict[tuple[str, str], str]:
    """(METHOD, path shape) -> operationId, api.github.com first, then GHES."""
    by_shape: dict[tuple[str, str], str] = {}
    for product in reversed(description.PRODUCTS):
        for op in description.operations(product).values():
            by_shape[(op.method.upper(), _shape(op.path))] = op.operation_id
    return by_shape


@pytest.mark.usefixtures("official_description")
def test_every_served_route_is_a_github_operation_with_cases() -> None:
    ops = described()
    implemented = set(registry.implemented())
    unknown = sorted(f"{m} {p}" for (m, s), p in served_operations().items() if (m, s) not in ops)
    assert not unknown, f"routes that are no GitHub operation (put Waybill's own under /waybill/): {unknown}"
    missing = sorted(
        f"{ops[key]} ({key[0]} {path})"
        for key, path in served_operations().items()
        if ops[key] not in implemented
    )
    assert not missing, f"implemented operations without contract cases in tests/contract: {missing}"


@pytest.mark.usefixtures("official_description")
def test_every_registered_operation_is_served() -> None:
    ops = described()
    served = {ops[key] for key in served_operations() if key in ops}
    stale = sorted(set(registry.implemented()) - served)
    assert not stale, f"contract cases for operations the server does not route: {stale}"


@pytest.mark.usefixtures("official_description")
def test_every_registered_operation_has_a_success_and_an_error_case() -> None:
    by_op: dict[str, set[bool]] = {}
    for c in registry.cases():
        by_op.setdefault(c.operation_id, set()).add(c.status < 400)
    # ``GET /`` cannot fail short of a broken server.
    lacking = sorted(op for op, kinds in by_op.items() if kinds != {True, False} and op != "meta/root")
    assert not lacking, f"operations whose cases do not cover both a success and an error: {lacking}"
