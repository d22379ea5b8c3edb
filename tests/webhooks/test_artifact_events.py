"""Waybill's own events of artifact metadata: ``deployment_record`` and ``storage_record``, queued
by the write itself, and only when a hook hears them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.artifacts.conftest import RECORD, STORAGE, digest, record_body
from tests.webhooks.conftest import ORG_HOOKS, World, hook_body
from tests.webhooks.receiver import Receiver
from tests.webhooks.schemas import check_waybill
from waybill.core.jobs import jobs
from waybill.core.outbox import DISPATCH_JOB


async def _dispatches(world: World) -> int:
    async with world.api.db.read() as conn:
        query = select(func.count()).select_from(jobs).where(jobs.c.kind == DISPATCH_JOB)
        return int((await conn.execute(query)).scalar_one())


async def _hook(world: World, url: str, events: list[str], collection: str = ORG_HOOKS) -> None:
    response = await world.api.post(collection, token=world.owner, json=hook_body(url, events=events))
    assert response.status_code == 201, response.text
    await world.run_jobs()


def _events(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.received if r.headers["X-GitHub-Event"] != "ping"]


async def test_a_write_without_hooks_queues_nothing(world: World) -> None:
    response = await world.api.post(RECORD, token=world.owner, json=record_body())
    assert response.status_code == 200, response.text
    assert await _dispatches(world) == 0


async def test_a_hook_for_other_events_queues_nothing(world: World, receiver: Receiver) -> None:
    await _hook(world, receiver.url, ["dependabot_alert"])
    await world.api.post(RECORD, token=world.owner, json=record_body())
    assert await _dispatches(world) == 0


async def test_deployment_record_events_follow_the_record(world: World, receiver: Receiver) -> None:
    api = world.api
    await _hook(world, receiver.url, ["deployment_record"])
    writes = [
        record_body(),
        record_body(),  # the same again: nothing changed
        record_body(tags={"team": "web"}),  # "updated": no event
        record_body(digest=digest("v2")),
        record_body(digest=digest("v2"), status="decommissioned"),
    ]
    for body in writes:
        response = await api.post(RECORD, token=world.owner, json=body)
        assert response.status_code == 200, response.text
    await world.run_jobs()
    events = _events(receiver)
    assert [e["action"] for e in events] == ["created", "digest_changed", "decommissioned"]
    for event in events:
        check_waybill("deployment_record", event)
    created = events[0]
    assert created["deployment_record"]["digest"] == digest("awesome")
    assert created["deployment_record"]["status"] == "deployed"
    assert created["repository"]["full_name"] == "acme/web"
    assert created["organization"]["login"] == "acme"
    assert created["sender"]["login"] == "octocat"
    assert {r.headers["X-GitHub-Event"] for r in receiver.received[1:]} == {"deployment_record"}


async def test_a_cluster_set_sends_one_event_per_changed_record(world: World, receiver: Receiver) -> None:
    from tests.artifacts.conftest import cluster_path, entry

    await _hook(world, receiver.url, ["*"])
    body = {"logical_environment": "prod", "deployments": [entry("a"), entry("b")]}
    response = await world.api.post(cluster_path(), token=world.owner, json=body)
    assert response.status_code == 200, response.text
    assert await _dispatches(world) == 1
    await world.run_jobs()
    events = _events(receiver)
    assert sorted(e["deployment_record"]["deployment_name"] for e in events) == ["a", "b"]


async def test_a_repository_hook_hears_only_its_repository(world: World, receiver: Receiver) -> None:
    await world.api.repo("acme/other")
    await _hook(world, receiver.url, ["deployment_record"], "/repos/acme/other/hooks")
    await world.api.post(RECORD, token=world.owner, json=record_body())
    await world.run_jobs()
    assert _events(receiver) == []
    await world.api.post(
        RECORD, token=world.owner, json=record_body(github_repository="other", deployment_name="o")
    )
    await world.run_jobs()
    assert [e["repository"]["name"] for e in _events(receiver)] == ["other"]


async def test_an_inactive_hook_hears_nothing(world: World, receiver: Receiver) -> None:
    response = await world.api.post(
        ORG_HOOKS, token=world.owner, json=hook_body(receiver.url, events=["*"], active=False)
    )
    assert response.status_code == 201
    await world.api.post(RECORD, token=world.owner, json=record_body())
    assert await _dispatches(world) == 0


@pytest.mark.parametrize("status", ["active", "eol"])
async def test_storage_record_events(world: World, receiver: Receiver, status: str) -> None:
    await _hook(world, receiver.url, ["storage_record"])
    body = {
        "name": "image",
        "digest": digest("stored"),
        "version": "1.0",
        "registry_url": "https://registry.example.com",
        "repository": "acme/image",
        "github_repository": "web",
        "status": status,
    }
    assert (await world.api.post(STORAGE, token=world.owner, json=body)).status_code == 200
    assert (
        await world.api.post(STORAGE, token=world.owner, json={**body, "status": "deleted"})
    ).status_code == 200
    await world.run_jobs()
    events = _events(receiver)
    assert [e["action"] for e in events] == ["created", "updated"]
    for event in events:
        check_waybill("storage_record", event)
    assert events[1]["storage_record"]["status"] == "deleted"
    assert events[0]["storage_record"]["name"] == "image"
