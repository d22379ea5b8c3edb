"""Contract cases of the organization and repository hook operations."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.contract.registry import case
from tests.contract.world import HOOK_URL, Http, World, create_hook


def _org(w: World) -> str:
    return f"/orgs/{w.org}/hooks"


def _repo(w: World) -> str:
    return f"/repos/{w.org}/{w.public_repo}/hooks"


def _body(url: str = HOOK_URL) -> dict[str, object]:
    return {"name": "web", "events": ["ping"], "config": {"url": url, "content_type": "json", "secret": "s"}}


def _register(prefix: str, hooks: Callable[[World], str]) -> None:
    """The cases of one kind of hook: both answer the same; ``prefix`` names the operations' family."""

    def _one(w: World) -> str:
        key = "org_hook_id" if hooks is _org else "repo_hook_id"
        return f"{hooks(w)}/{w.extra[key]}"

    def _delivery(w: World) -> str:
        key = "org_delivery_id" if hooks is _org else "repo_delivery_id"
        return f"{_one(w)}/deliveries/{w.extra[key]}"

    @case(f"{prefix}/list-webhooks", "hooks", 200)
    async def _list(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", hooks(w), token=w.owner_token, version=v)

    @case(f"{prefix}/list-webhooks", "outsider", 404, message="Not Found")
    async def _list_outsider(http: Http, w: World, v: str) -> httpx.Response:
        token = w.outsider_token
        if hooks is _repo:
            return await http.request("GET", f"/repos/{w.org}/{w.private_repo}/hooks", token=token, version=v)
        return await http.request("GET", hooks(w), token=token, version=v)

    @case(f"{prefix}/create-webhook", "hook", 201)
    async def _create(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("POST", hooks(w), token=w.owner_token, version=v, json=_body())

    @case(f"{prefix}/create-webhook", "no url", 422, message="Validation Failed")
    async def _create_bad(http: Http, w: World, v: str) -> httpx.Response:
        body = {"name": "web", "config": {"content_type": "json"}}
        return await http.request("POST", hooks(w), token=w.owner_token, version=v, json=body)

    @case(f"{prefix}/get-webhook", "hook", 200)
    async def _get(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", _one(w), token=w.owner_token, version=v)

    @case(f"{prefix}/get-webhook", "unknown hook", 404, message="Not Found")
    async def _get_unknown(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{hooks(w)}/999999", token=w.owner_token, version=v)

    @case(f"{prefix}/update-webhook", "deactivate", 200)
    async def _update(http: Http, w: World, v: str) -> httpx.Response:
        body = {"active": False, "events": ["ping", "deployment_record"]}
        return await http.request("PATCH", _one(w), token=w.owner_token, version=v, json=body)

    @case(f"{prefix}/update-webhook", "bad content type", 422, message="Validation Failed")
    async def _update_bad(http: Http, w: World, v: str) -> httpx.Response:
        body = {"config": {"url": HOOK_URL, "content_type": "yaml"}}
        return await http.request("PATCH", _one(w), token=w.owner_token, version=v, json=body)

    @case(f"{prefix}/delete-webhook", "hook", 204)
    async def _delete(http: Http, w: World, v: str) -> httpx.Response:
        hook_id = await create_hook(http, w, hooks(w), v)
        return await http.request("DELETE", f"{hooks(w)}/{hook_id}", token=w.owner_token, version=v)

    @case(f"{prefix}/delete-webhook", "unknown hook", 404, message="Not Found")
    async def _delete_unknown(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("DELETE", f"{hooks(w)}/999999", token=w.owner_token, version=v)

    suffix = "org" if prefix == "orgs" else "repo"

    @case(f"{prefix}/get-webhook-config-for-{suffix}", "config", 200)
    async def _config(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{_one(w)}/config", token=w.owner_token, version=v)

    @case(f"{prefix}/get-webhook-config-for-{suffix}", "unknown hook", 404, message="Not Found")
    async def _config_unknown(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{hooks(w)}/999999/config", token=w.owner_token, version=v)

    @case(f"{prefix}/update-webhook-config-for-{suffix}", "content type", 200)
    async def _update_config(http: Http, w: World, v: str) -> httpx.Response:
        body = {"content_type": "form", "insecure_ssl": "0"}
        return await http.request("PATCH", f"{_one(w)}/config", token=w.owner_token, version=v, json=body)

    @case(
        f"{prefix}/update-webhook-config-for-{suffix}", "bad insecure_ssl", 422, message="Validation Failed"
    )
    async def _update_config_bad(http: Http, w: World, v: str) -> httpx.Response:
        body = {"insecure_ssl": "maybe"}
        return await http.request("PATCH", f"{_one(w)}/config", token=w.owner_token, version=v, json=body)

    @case(f"{prefix}/ping-webhook", "ping", 204)
    async def _ping(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("POST", f"{_one(w)}/pings", token=w.owner_token, version=v)

    @case(f"{prefix}/ping-webhook", "unknown hook", 404, message="Not Found")
    async def _ping_unknown(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("POST", f"{hooks(w)}/999999/pings", token=w.owner_token, version=v)

    @case(f"{prefix}/list-webhook-deliveries", "ping attempted", 200)
    async def _deliveries(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{_one(w)}/deliveries", token=w.owner_token, version=v)

    @case(f"{prefix}/list-webhook-deliveries", "bad cursor", 422, message="Validation Failed")
    async def _deliveries_bad(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{_one(w)}/deliveries?cursor=%21", token=w.owner_token, version=v)

    @case(f"{prefix}/get-webhook-delivery", "ping attempted", 200)
    async def _delivery_get(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", _delivery(w), token=w.owner_token, version=v)

    @case(f"{prefix}/get-webhook-delivery", "unknown delivery", 404, message="Not Found")
    async def _delivery_unknown(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("GET", f"{_one(w)}/deliveries/999999", token=w.owner_token, version=v)

    @case(f"{prefix}/redeliver-webhook-delivery", "ping again", 202)
    async def _redeliver(http: Http, w: World, v: str) -> httpx.Response:
        return await http.request("POST", f"{_delivery(w)}/attempts", token=w.owner_token, version=v)

    @case(f"{prefix}/redeliver-webhook-delivery", "unknown delivery", 404, message="Not Found")
    async def _redeliver_unknown(http: Http, w: World, v: str) -> httpx.Response:
        path = f"{_one(w)}/deliveries/999999/attempts"
        return await http.request("POST", path, token=w.owner_token, version=v)


_register("orgs", _org)
_register("repos", _repo)


@case("repos/test-push-webhook", "hook", 204)
async def _test(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request(
        "POST", f"{_repo(w)}/{w.extra['repo_hook_id']}/tests", token=w.owner_token, version=v
    )


@case("repos/test-push-webhook", "unknown hook", 404, message="Not Found")
async def _test_unknown(http: Http, w: World, v: str) -> httpx.Response:
    return await http.request("POST", f"{_repo(w)}/999999/tests", token=w.owner_token, version=v)
