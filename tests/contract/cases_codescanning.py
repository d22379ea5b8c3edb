"""Contract cases of the code scanning operations: SARIF uploads, analyses and alerts. The seeded
world has uploaded bandit's SARIF to the public repository; ``_processed`` runs the worker over it."""

from __future__ import annotations

from typing import Any

import httpx
from testkit import sarifs

from tests.contract.registry import case
from tests.contract.world import Http, World


def _repo(w: World) -> str:
    return f"/repos/{w.org}/{w.public_repo}/code-scanning"


async def _processed(http: Http) -> None:
    # Uploads are processed by the database-queued worker; run it to completion.
    app: Any = getattr(http, "app")  # noqa: B009 (the harness's app, not part of the Http protocol)
    await app.worker.run_until_idle()


# code-scanning/upload-sarif


@case("code-scanning/upload-sarif", "ruff's SARIF", 202)
async def _upload(http: Http, w: World, v: str) -> httpx.Response:
    body = sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT)
    return await http.request("POST", f"{_repo(w)}/sarifs", token=w.owner_token, version=v, json=body)


@case("code-scanning/upload-sarif", "not gzip", 400)
async def _upload_not_gzip(http: Http, w: World, v: str) -> httpx.Response:
    body = {"commit_sha": sarifs.SHA, "ref": "refs/heads/main", "sarif": "e30="}
    return await http.request("POST", f"{_repo(w)}/sarifs", token=w.owner_token, version=v, json=body)


@case("code-scanning/upload-sarif", "bad commit_sha", 422, message="Validation Failed")
async def _upload_bad_sha(http: Http, w: World, v: str) -> httpx.Response:
    body = {"commit_sha": "main", "ref": "refs/heads/main", "sarif": "e30="}
    return await http.request("POST", f"{_repo(w)}/sarifs", token=w.owner_token, version=v, json=body)


@case("code-scanning/upload-sarif", "private repository of another", 404, message="Not Found")
async def _upload_hidden(http: Http, w: World, v: str) -> httpx.Response:
    body = sarifs.upload(sarifs.real("bandit"))
    path = f"/repos/{w.org}/{w.private_repo}/code-scanning/sarifs"
    return await http.request("POST", path, token=w.outsider_token, version=v, json=body)


# code-scanning/get-sarif


@case("code-scanning/get-sarif", "processed", 200)
async def _sarif(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request(
        "GET", f"{_repo(w)}/sarifs/{w.extra['sarif_id']}", token=w.owner_token, version=v
    )


@case("code-scanning/get-sarif", "outsider", 403)
async def _sarif_outsider(http: Http, w: World, v: str) -> httpx.Response:
    path = f"{_repo(w)}/sarifs/{w.extra['sarif_id']}"
    return await http.request("GET", path, token=w.outsider_token, version=v)


# code-scanning/list-recent-analyses


@case("code-scanning/list-recent-analyses", "bandit's analysis", 200)
async def _analyses(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"{_repo(w)}/analyses", token=w.owner_token, version=v)


@case("code-scanning/list-recent-analyses", "outsider", 403)
async def _analyses_outsider(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/analyses", token=w.outsider_token, version=v)


# code-scanning/get-analysis


@case("code-scanning/get-analysis", "JSON", 200)
async def _analysis(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"{_repo(w)}/analyses/1", token=w.owner_token, version=v)


@case("code-scanning/get-analysis", "SARIF", 200)
async def _analysis_sarif(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    headers = {"Accept": "application/sarif+json"}
    return await http.request(
        "GET", f"{_repo(w)}/analyses/1", token=w.owner_token, version=v, headers=headers
    )


@case("code-scanning/get-analysis", "unknown analysis", 404, message="Not Found")
async def _analysis_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/analyses/999", token=w.owner_token, version=v)


# code-scanning/delete-analysis


@case("code-scanning/delete-analysis", "confirmed", 200)
async def _delete(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    path = f"{_repo(w)}/analyses/1?confirm_delete"
    return await http.request("DELETE", path, token=w.owner_token, version=v)


@case("code-scanning/delete-analysis", "last of its type, unconfirmed", 400)
async def _delete_unconfirmed(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("DELETE", f"{_repo(w)}/analyses/1", token=w.owner_token, version=v)


# code-scanning/list-alerts-for-repo


@case("code-scanning/list-alerts-for-repo", "open alerts", 200)
async def _alerts(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"{_repo(w)}/alerts", token=w.owner_token, version=v)


@case("code-scanning/list-alerts-for-repo", "bad state", 422, message="Validation Failed")
async def _alerts_bad(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/alerts?state=sleepy", token=w.owner_token, version=v)


# code-scanning/get-alert


@case("code-scanning/get-alert", "open alert", 200)
async def _alert(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"{_repo(w)}/alerts/1", token=w.owner_token, version=v)


@case("code-scanning/get-alert", "unknown alert", 404, message="Not Found")
async def _alert_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/alerts/999", token=w.owner_token, version=v)


# code-scanning/update-alert


@case("code-scanning/update-alert", "dismiss", 200)
async def _dismiss(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    body = {"state": "dismissed", "dismissed_reason": "used in tests", "dismissed_comment": "fixture"}
    return await http.request("PATCH", f"{_repo(w)}/alerts/1", token=w.owner_token, version=v, json=body)


@case("code-scanning/update-alert", "outsider", 403)
async def _dismiss_outsider(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    body = {"state": "dismissed", "dismissed_reason": "won't fix"}
    return await http.request("PATCH", f"{_repo(w)}/alerts/1", token=w.outsider_token, version=v, json=body)


# code-scanning/list-alert-instances


@case("code-scanning/list-alert-instances", "on main", 200)
async def _instances(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"{_repo(w)}/alerts/1/instances", token=w.owner_token, version=v)


@case("code-scanning/list-alert-instances", "unknown alert", 404, message="Not Found")
async def _instances_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"{_repo(w)}/alerts/999/instances", token=w.owner_token, version=v)


# code-scanning/list-alerts-for-org


@case("code-scanning/list-alerts-for-org", "open alerts", 200)
async def _org_alerts(http: Http, w: World, v: str) -> httpx.Response:
    await _processed(http)
    return await http.request("GET", f"/orgs/{w.org}/code-scanning/alerts", token=w.owner_token, version=v)


@case("code-scanning/list-alerts-for-org", "not a member", 404, message="Not Found")
async def _org_alerts_outsider(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("GET", f"/orgs/{w.org}/code-scanning/alerts", token=w.outsider_token, version=v)
