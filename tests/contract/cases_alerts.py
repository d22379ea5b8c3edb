"""Contract cases of the Dependabot alert operations."""

from __future__ import annotations

from typing import Any

import httpx

from tests.contract.cases_dependencies import SHA_BASE, snapshot
from tests.contract.registry import case
from tests.contract.world import Http, World


def _alerts(w: World) -> str:
    return f"/repos/{w.org}/{w.public_repo}/dependabot/alerts"


async def _vulnerable(http: Http, w: World, v: str) -> None:
    """The seeded advisory affects left-pad below 1.3.1: a snapshot with 1.3.0 opens alert #1."""
    response = await http.request(
        "POST",
        f"/repos/{w.org}/{w.public_repo}/dependency-graph/snapshots",
        token=w.owner_token,
        version=v,
        json=snapshot(SHA_BASE, {"left-pad": "pkg:npm/left-pad@1.3.0"}),
    )
    assert response.status_code == 201, response.text
    # Alerts are evaluated by the database-queued worker; run it to completion.
    app: Any = getattr(http, "app")  # noqa: B009 (the harness's app, not part of the Http protocol)
    await app.worker.run_until_idle()


@case("dependabot/list-alerts-for-repo", "open alert", 200)
async def _list_repo(http: Http, w: World, v: str) -> httpx.Response:
    await _vulnerable(http, w, v)
    return await http.request("GET", _alerts(w), token=w.owner_token, version=v)


@case("dependabot/list-alerts-for-repo", "bad state", 422)
async def _list_repo_bad(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_alerts(w)}?state=sleepy", token=w.owner_token, version=v)


@case("dependabot/get-alert", "open alert", 200)
async def _get(http: Http, w: World, v: str) -> httpx.Response:
    await _vulnerable(http, w, v)
    return await http.request("GET", f"{_alerts(w)}/1", token=w.owner_token, version=v)


@case("dependabot/get-alert", "unknown alert", 404, message="Not Found")
async def _get_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_alerts(w)}/999", token=w.owner_token, version=v)


@case("dependabot/update-alert", "dismiss", 200)
async def _dismiss(http: Http, w: World, v: str) -> httpx.Response:
    await _vulnerable(http, w, v)
    body = {"state": "dismissed", "dismissed_reason": "tolerable_risk", "dismissed_comment": "not reachable"}
    return await http.request("PATCH", f"{_alerts(w)}/1", token=w.owner_token, version=v, json=body)


@case("dependabot/update-alert", "dismissed without a reason", 422)
async def _dismiss_bad(http: Http, w: World, v: str) -> httpx.Response:
    await _vulnerable(http, w, v)
    return await http.request(
        "PATCH", f"{_alerts(w)}/1", token=w.owner_token, version=v, json={"state": "dismissed"}
    )


@case("dependabot/list-alerts-for-org", "open alert", 200)
async def _list_org(http: Http, w: World, v: str) -> httpx.Response:
    await _vulnerable(http, w, v)
    return await http.request("GET", f"/orgs/{w.org}/dependabot/alerts", token=w.owner_token, version=v)


@case("dependabot/list-alerts-for-org", "not a member", 404, message="Not Found")
async def _list_org_forbidden(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.org}/dependabot/alerts", token=w.outsider_token, version=v)
