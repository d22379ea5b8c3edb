"""``/metrics``: Prometheus' text for site administrators, 404 for everyone else."""

from __future__ import annotations

from dataclasses import replace

from prometheus_client.parser import text_string_to_metric_families

from tests.harness import Harness, running
from waybill.config import Settings
from waybill.ops import metrics


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def _admin(api: Harness) -> str:
    await api.user("root", site_admin=True)
    return await api.token("root")


async def test_only_a_site_administrator_sees_metrics(api: Harness) -> None:
    await api.user("alice")
    assert (await api.get("/metrics")).status_code == 404
    assert (await api.get("/metrics", token=await api.token("alice"))).status_code == 404
    response = await api.get("/metrics", token=await _admin(api))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")


async def test_requests_are_counted_by_route_template(api: Harness) -> None:
    token = await _admin(api)
    before = _samples((await api.get("/metrics", token=token)).text)
    key = (
        "waybill_http_requests_total",
        frozenset({("route", "/users/{username}"), ("method", "GET"), ("status", "200")}),
    )
    missing = (
        "waybill_http_requests_total",
        frozenset({("route", "unmatched"), ("method", "GET"), ("status", "404")}),
    )
    for _ in range(3):
        assert (await api.get("/users/root", token=token)).status_code == 200
    assert (await api.get("/api/v3/users/root", token=token)).status_code == 200
    assert (await api.get("/no/such/route")).status_code == 404
    after = _samples((await api.get("/metrics", token=token)).text)
    assert after[key] - before.get(key, 0) == 4
    assert after[missing] - before.get(missing, 0) >= 1
    latency = (
        "waybill_http_request_duration_seconds_count",
        frozenset({("route", "/users/{username}"), ("method", "GET")}),
    )
    assert after[latency] - before.get(latency, 0) == 4


async def test_rate_limit_refusals_and_queue_depth(settings: Settings, backend: str) -> None:
    async with running(replace(settings, rate_limit_enabled=True, rate_limit_anonymous=1), backend) as api:
        token = await _admin(api)
        key = ("waybill_rate_limit_refusals_total", frozenset({("caller", "anonymous")}))
        before = _samples((await api.get("/metrics", token=token)).text).get(key, 0)
        await api.get("/")
        assert (await api.get("/")).status_code == 403

        await metrics.sample(api.app.db)
        after = _samples((await api.get("/metrics", token=token)).text)
        assert after[key] - before == 1
        assert "waybill_database_connections_in_use" in {name for name, _ in after}
