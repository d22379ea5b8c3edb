"""Dependabot alerts: list filters and cursors, get, update (dismiss, reopen, assign) and their
errors, for repositories; all validated against GitHub's description in both API versions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.alerts.conftest import Org
from tests.spec import VERSIONS, assert_conforms

LIST = "dependabot/list-alerts-for-repo"
GET = "dependabot/get-alert"
UPDATE = "dependabot/update-alert"
WEB = "/repos/acme/web/dependabot/alerts"


async def _packages(org: Org, path: str = WEB, **params: Any) -> list[str]:
    r = await org.api.get(path, token=org.alice, params=params)
    assert r.status_code == 200, r.text
    assert_conforms(r, LIST)
    return [a["dependency"]["package"]["name"] for a in r.json()]


@pytest.mark.parametrize("version", VERSIONS)
async def test_alert_in_githubs_shape(org: Org, version: str) -> None:
    r = await org.api.get(f"{WEB}/1", token=org.alice, version=version)
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    body = r.json()
    assert body["number"] == 1
    assert body["state"] == "open"
    assert body["dependency"] == {
        "package": {"ecosystem": "npm", "name": "left-pad"},
        "manifest_path": "package-lock.json",
        "scope": "runtime",
        "relationship": "direct",
    }
    assert body["security_vulnerability"] == {
        "package": {"ecosystem": "npm", "name": "left-pad"},
        "severity": "high",
        "vulnerable_version_range": "< 1.0.3",
        "first_patched_version": {"identifier": "1.0.3"},
    }
    assert body["security_advisory"]["ghsa_id"] == "GHSA-aaaa-aaaa-aaaa"
    assert body["security_advisory"]["classification"] == "general"
    assert ("cvss" in body["security_advisory"]) == (version == "2022-11-28")
    assert body["url"] == "http://waybill.test/repos/acme/web/dependabot/alerts/1"
    assert body["html_url"].endswith("/acme/web/security/dependabot/1")
    assert (body["dismissed_at"], body["fixed_at"], body["assignees"]) == (None, None, [])


async def test_numbers_and_unreviewed_advisories(org: Org) -> None:
    # Unreviewed advisories raise no alert; numbers run per repository.
    assert await _packages(org, sort="created", direction="asc") == ["left-pad", "lodash", "requests"]
    assert await _packages(org, "/repos/acme/api/dependabot/alerts") == ["left-pad"]
    r = await org.api.get("/repos/acme/api/dependabot/alerts/1", token=org.alice)
    assert r.status_code == 200
    assert r.json()["security_vulnerability"]["vulnerable_version_range"] == "< 1.0.3"


async def test_malware_alert_of_unknown_severity_shows_low(org: Org) -> None:
    r = await org.api.get("/repos/acme/secret/dependabot/alerts/1", token=org.alice)
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    body = r.json()
    assert body["security_advisory"]["classification"] == "malware"
    assert body["security_vulnerability"]["severity"] == "low"
    assert (body["dependency"]["scope"], body["dependency"]["relationship"]) == (None, "unknown")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"severity": "critical"}, ["lodash"]),
        ({"severity": "high,medium"}, ["left-pad", "requests"]),
        ({"ecosystem": "pip"}, ["requests"]),
        ({"package": "lodash,requests"}, ["lodash", "requests"]),
        ({"manifest": "requirements.txt"}, ["requests"]),
        ({"epss_percentage": ">0.2"}, ["left-pad"]),
        ({"epss_percentage": "0.05..0.2"}, ["lodash"]),
        ({"has": "patch"}, ["left-pad", "lodash"]),
        ({"scope": "development"}, ["lodash"]),
        ({"relationship": "transitive"}, ["lodash"]),
        ({"classification": "malware"}, []),
        ({"classification": "general"}, ["left-pad", "lodash", "requests"]),
        ({"state": "dismissed"}, []),
        ({"state": "open,fixed"}, ["left-pad", "lodash", "requests"]),
    ],
)
async def test_list_filters(org: Org, params: dict[str, str], expected: list[str]) -> None:
    assert sorted(await _packages(org, **params)) == expected


async def test_sort_and_cursors(org: Org) -> None:
    assert await _packages(org, sort="epss_percentage") == ["left-pad", "lodash", "requests"]
    assert await _packages(org, sort="epss_percentage", direction="asc") == ["requests", "lodash", "left-pad"]
    first = await org.api.get(WEB, token=org.alice, params={"per_page": 2, "direction": "asc"})
    assert_conforms(first, LIST)
    assert [a["number"] for a in first.json()] == [1, 2]
    next_url = first.links["next"]["url"]
    second = await org.api.get(next_url, token=org.alice)
    assert_conforms(second, LIST)
    assert [a["number"] for a in second.json()] == [3]
    assert "next" not in second.links
    back = await org.api.get(second.links["prev"]["url"], token=org.alice)
    assert [a["number"] for a in back.json()] == [1, 2]


async def test_dismiss_reopen_and_assign(org: Org) -> None:
    r = await org.api.patch(
        f"{WEB}/2",
        token=org.dave,
        json={"state": "dismissed", "dismissed_reason": "not_used", "dismissed_comment": "dev only"},
    )
    assert r.status_code == 200, r.text
    assert_conforms(r, UPDATE)
    body = r.json()
    assert (body["state"], body["dismissed_reason"], body["dismissed_comment"]) == (
        "dismissed",
        "not_used",
        "dev only",
    )
    assert body["dismissed_by"]["login"] == "dave"
    assert await _packages(org, state="dismissed") == ["lodash"]

    r = await org.api.patch(f"{WEB}/2", token=org.alice, json={"state": "open"})
    assert r.status_code == 200, r.text
    assert_conforms(r, UPDATE)
    assert (r.json()["state"], r.json()["dismissed_by"]) == ("open", None)

    r = await org.api.patch(f"{WEB}/3", token=org.alice, json={"assignees": ["dave", "Bob"]})
    assert r.status_code == 200, r.text
    assert_conforms(r, UPDATE)
    assert sorted(a["login"] for a in r.json()["assignees"]) == ["bob", "dave"]
    assert await _packages(org, assignee="dave") == ["requests"]
    assert await _packages(org, assignee="*") == ["requests"]
    assert sorted(await _packages(org, assignee="none")) == ["left-pad", "lodash"]
    r = await org.api.patch(f"{WEB}/3", token=org.alice, json={"assignees": []})
    assert r.json()["assignees"] == []


async def test_a_fixed_alert_is_not_dismissed_or_reopened(org: Org) -> None:
    fixed = {"package-lock.json": {"pkg:npm/left-pad@1.0.3": ("left-pad", "runtime", "direct")}}
    await org.submit("api", fixed, 2)
    for body in ({"state": "dismissed", "dismissed_reason": "inaccurate"}, {"state": "open"}):
        r = await org.api.patch("/repos/acme/api/dependabot/alerts/1", token=org.alice, json=body)
        assert r.status_code == 409, r.text
        assert_conforms(r, UPDATE)


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"state": "dismissed"}, ["dismissed_reason must be provided when dismissing an alert"]),
        ({}, ["state or assignees must be given"]),
        ({"state": "closed"}, None),
        ({"state": "dismissed", "dismissed_reason": "nope"}, None),
        ({"state": "dismissed", "dismissed_reason": "not_used", "dismissed_comment": "x" * 281}, None),
        ({"state": "open", "colour": "red"}, None),
        ({"assignees": ["nobody-here"]}, ["unknown users: nobody-here"]),
    ],
)
async def test_update_validation(org: Org, body: dict[str, Any], errors: list[str] | None) -> None:
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json=body)
    assert r.status_code == 422, r.text
    assert_conforms(r, UPDATE)
    assert r.json()["message"] == "Validation Failed"
    if errors is not None:
        assert r.json()["errors"] == errors
    assert all(isinstance(e, str) for e in r.json()["errors"])


async def test_bad_json_unknown_alert_and_bad_query(org: Org) -> None:
    r = await org.api.patch(
        f"{WEB}/1", token=org.alice, content=b"{", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["message"] == "Problems parsing JSON"
    for path in (f"{WEB}/99", f"{WEB}/abc"):
        r = await org.api.get(path, token=org.alice)
        assert r.status_code == 404
        assert_conforms(r, GET)
    for params in ({"state": "closed"}, {"sort": "name"}, {"has": "deployment"}, {"after": "zzz"}):
        r = await org.api.get(WEB, token=org.alice, params=params)
        assert r.status_code == 422, params
        assert_conforms(r, LIST)
