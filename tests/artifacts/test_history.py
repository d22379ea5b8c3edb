"""The deployment history extension: every change kept, "what ran where at T", "where did D run"."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.artifacts.conftest import RECORD, World, cluster_path, digest, entry, record_body
from waybill.core import clock

HISTORY = "/waybill/orgs/acme/deployments/history"
DOCS = "https://docs.github.com/rest"


@pytest.fixture
def at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Sets the server's clock: ``at("2026-01-01")``."""

    def set_time(day: str) -> None:
        moment = datetime.fromisoformat(day).replace(tzinfo=UTC)
        monkeypatch.setattr(clock, "now", lambda: moment)

    return set_time


async def _post(world: World, **overrides: Any) -> dict[str, Any]:
    r = await world.api.post(RECORD, token=world.alice, json=record_body(**overrides))
    assert r.status_code == 200, r.text
    value: dict[str, Any] = r.json()["deployment_records"][0]
    return value


async def _history(world: World, token: str | None = None, **params: Any) -> list[dict[str, Any]]:
    r = await world.api.get(HISTORY, token=token or world.alice, params=params)
    assert r.status_code == 200, r.text
    value: list[dict[str, Any]] = r.json()["history"]
    return value


async def test_every_change_is_kept_and_a_no_op_is_not(world: World, at: Callable[[str], None]) -> None:
    at("2026-01-01")
    record = await _post(world)
    at("2026-01-02")
    await _post(world)  # nothing changed
    at("2026-01-03")
    await _post(world, digest=digest("v2"))
    at("2026-01-04")
    await _post(world, digest=digest("v2"), status="decommissioned")
    at("2026-01-05")
    await _post(world, digest=digest("v2"))
    at("2026-01-06")
    await _post(world, digest=digest("v2"), tags={"team": "x"}, runtime_risks=["internet-exposed"])
    history = await _history(world)
    assert [(h["change"], h["recorded_at"], h["digest"], h["status"]) for h in history] == [
        ("updated", "2026-01-06T00:00:00Z", digest("v2"), "deployed"),
        ("status_changed", "2026-01-05T00:00:00Z", digest("v2"), "deployed"),
        ("decommissioned", "2026-01-04T00:00:00Z", digest("v2"), "decommissioned"),
        ("digest_changed", "2026-01-03T00:00:00Z", digest("v2"), "deployed"),
        ("created", "2026-01-01T00:00:00Z", digest("awesome"), "deployed"),
    ]
    assert history[0] == {
        "id": history[0]["id"],
        "deployment_record_id": record["id"],
        "change": "updated",
        "recorded_at": "2026-01-06T00:00:00Z",
        "digest": digest("v2"),
        "status": "deployed",
        "logical_environment": "prod",
        "physical_environment": "pacific-east",
        "cluster": "moda-1",
        "deployment_name": "deployment-pod",
        "repository": "acme/web",
        "artifact": {"name": "awesome-image", "version": None},
        "tags": {"team": "x"},
        "runtime_risks": ["internet-exposed"],
        "attestation_id": None,
    }


async def test_tag_order_is_not_a_change(world: World) -> None:
    await _post(world, tags={"a": "1", "b": "2"}, runtime_risks=["sensitive-data", "internet-exposed"])
    await _post(world, tags={"b": "2", "a": "1"}, runtime_risks=["internet-exposed", "sensitive-data"])
    assert [h["change"] for h in await _history(world)] == ["created"]


async def test_what_ran_where_at_a_time(world: World, at: Callable[[str], None]) -> None:
    at("2026-01-01")
    await _post(world, deployment_name="api")
    await _post(world, deployment_name="worker", digest=digest("w1"))
    await _post(world, deployment_name="api", logical_environment="staging", digest=digest("s1"))
    at("2026-02-01")
    await _post(world, deployment_name="api", digest=digest("v2"))
    at("2026-03-01")
    await _post(world, deployment_name="worker", digest=digest("w1"), status="decommissioned")

    def state(history: list[dict[str, Any]]) -> list[tuple[str, str, str, str]]:
        return sorted(
            (h["logical_environment"], h["deployment_name"], h["digest"], h["status"]) for h in history
        )

    assert await _history(world, at="2025-12-31T23:59:59Z") == []
    assert state(await _history(world, at="2026-01-15T00:00:00Z", logical_environment="prod")) == [
        ("prod", "api", digest("awesome"), "deployed"),
        ("prod", "worker", digest("w1"), "deployed"),
    ]
    assert state(await _history(world, at="2026-02-15T00:00:00+00:00", cluster="moda-1")) == [
        ("prod", "api", digest("v2"), "deployed"),
        ("prod", "worker", digest("w1"), "deployed"),
        ("staging", "api", digest("s1"), "deployed"),
    ]
    assert state(await _history(world, at="2026-03-01T00:00:00Z", logical_environment="prod")) == [
        ("prod", "api", digest("v2"), "deployed"),
        ("prod", "worker", digest("w1"), "decommissioned"),
    ]
    assert state(
        await _history(world, at="2026-03-01", status="deployed", physical_environment="pacific-east")
    ) == [
        ("prod", "api", digest("v2"), "deployed"),
        ("staging", "api", digest("s1"), "deployed"),
    ]
    # A digest filter with ``at`` applies to the state at that time, not to older states.
    assert await _history(world, at="2026-02-15", digest=digest("awesome")) == []
    assert state(await _history(world, digest=digest("awesome"))) == [
        ("prod", "api", digest("awesome"), "deployed")
    ]
    assert await _history(world, cluster="elsewhere") == []
    assert len(await _history(world, deployment_name="api")) == 3


async def test_history_pages_with_cursors(world: World) -> None:
    for i in range(5):
        await _post(world, deployment_name=f"pod-{i}")
    r = await world.api.get(HISTORY, token=world.alice, params={"per_page": 2})
    names = [h["deployment_name"] for h in r.json()["history"]]
    while 'rel="next"' in r.headers.get("link", ""):
        next_url = r.headers["link"].split(">;")[0].lstrip("<")
        r = await world.api.get(next_url.removeprefix("http://waybill.test"), token=world.alice)
        names += [h["deployment_name"] for h in r.json()["history"]]
    assert names == [f"pod-{i}" for i in reversed(range(5))]


async def test_where_a_digest_ever_ran(world: World, at: Callable[[str], None]) -> None:
    subject = digest("image")
    at("2026-01-01")
    r = await world.api.post(
        cluster_path(),
        token=world.alice,
        json={
            "logical_environment": "prod",
            "deployments": [entry("a", digest=subject), entry("b", digest=subject)],
        },
    )
    assert r.status_code == 200
    at("2026-01-02")
    await _post(world, deployment_name="c", digest=subject, github_repository="secret")
    at("2026-02-01")
    await _post(
        world, cluster="moda-1", physical_environment=None, deployment_name="a", digest=digest("next")
    )

    r = await world.api.get(f"/waybill/orgs/acme/artifacts/{subject}/deployments", token=world.alice)
    assert r.status_code == 200
    deployments = {d["deployment_name"]: d for d in r.json()["deployments"]}
    assert set(deployments) == {"a", "b", "c"}
    assert deployments["a"] == {
        "deployment_record_id": deployments["a"]["deployment_record_id"],
        "logical_environment": "prod",
        "physical_environment": "",
        "cluster": "moda-1",
        "deployment_name": "a",
        "first_deployed_at": "2026-01-01T00:00:00Z",
        "last_deployed_at": "2026-01-01T00:00:00Z",
        "currently_deployed": False,
        "current_digest": digest("next"),
        "current_status": "deployed",
    }
    assert deployments["b"]["currently_deployed"] is True
    # Anonymous callers do not see the private repository's record.
    r = await world.api.get(f"/waybill/orgs/acme/artifacts/{subject}/deployments")
    assert {d["deployment_name"] for d in r.json()["deployments"]} == {"a", "b"}


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"at": "yesterday"}, "at", "at must be an ISO 8601 time such as 2026-03-10T12:00:00Z"),
        ({"digest": "sha256:abc"}, "digest", "digest must be sha256: followed by 64 lowercase hex digits"),
        ({"status": "running"}, "status", "status must be deployed or decommissioned"),
        ({"after": "!!"}, "after", "after is not a valid cursor"),
    ],
)
async def test_bad_history_queries(world: World, params: dict[str, str], field: str, message: str) -> None:
    r = await world.api.get(HISTORY, token=world.alice, params=params)
    assert r.status_code == 422
    [error] = r.json()["errors"]
    assert (error["field"], error["code"], error["message"]) == (field, "invalid", message)


async def test_history_of_an_unknown_org_is_not_found(world: World) -> None:
    for path in (
        "/waybill/orgs/nobody/deployments/history",
        f"/waybill/orgs/nobody/artifacts/{digest(1)}/deployments",
    ):
        r = await world.api.get(path, token=world.alice)
        assert r.status_code == 404
        assert r.json() == {"message": "Not Found", "documentation_url": DOCS, "status": "404"}
