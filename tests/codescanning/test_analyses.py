"""Analyses: the list and its filters, one analysis as JSON or as its own SARIF, and deletion of
the newest of a set (the last one only with confirm_delete, taking its alerts with it)."""

from __future__ import annotations

import pytest
from testkit import sarifs

from tests.codescanning.conftest import Org
from tests.contract.description import API_VERSIONS, check_response

ANALYSES = "/repos/acme/web/code-scanning/analyses"


async def _analyses(org: Org, **params: object) -> list[dict[str, object]]:
    r = await org.api.get(ANALYSES, token=org.alice, params=params)
    assert r.status_code == 200, r.text
    return list(r.json())


@pytest.mark.usefixtures("official_description")
@pytest.mark.parametrize("version", API_VERSIONS)
async def test_analysis_in_githubs_shape(org: Org, version: str) -> None:
    sarif_id = await org.uploaded(sarifs.upload(sarifs.real("ruff"), checkout_uri=sarifs.CHECKOUT))
    r = await org.api.get(ANALYSES, token=org.alice, version=version)
    check_response(r, "code-scanning/list-recent-analyses")
    [listed] = r.json()
    r = await org.api.get(f"{ANALYSES}/{listed['id']}", token=org.alice, version=version)
    check_response(r, "code-scanning/get-analysis")
    body = r.json()
    assert body == listed
    assert body["sarif_id"] == sarif_id
    assert body["tool"] == {"name": "ruff", "version": "0.17.5", "guid": None}
    assert (body["results_count"], body["rules_count"]) == (7, 7)
    assert (body["ref"], body["commit_sha"], body["deletable"], body["error"], body["warning"]) == (
        "refs/heads/main",
        sarifs.SHA,
        True,
        "",
        "",
    )


@pytest.mark.usefixtures("official_description")
async def test_an_analysis_as_sarif(org: Org) -> None:
    document = sarifs.document(
        sarifs.run([sarifs.result("a", "x.py", 1)], tool="One"),
        sarifs.run([sarifs.result("b", "y.py", 2)], tool="Two"),
    )
    await org.uploaded(sarifs.upload(document))
    two = next(a for a in await _analyses(org) if a["tool"]["name"] == "Two")  # type: ignore[index]
    r = await org.api.get(
        f"{ANALYSES}/{two['id']}", token=org.alice, headers={"Accept": "application/sarif+json"}
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/sarif+json")
    check_response(r, "code-scanning/get-analysis")
    assert r.json() == {**document, "runs": [document["runs"][1]]}


async def test_filters(org: Org) -> None:
    first = await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([], tool="One"))))
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([], tool="Two")), ref="refs/heads/dev"))
    assert [a["tool"]["name"] for a in await _analyses(org)] == ["Two", "One"]  # type: ignore[index]
    assert [a["tool"]["name"] for a in await _analyses(org, direction="asc")] == ["One", "Two"]  # type: ignore[index]
    assert [a["sarif_id"] for a in await _analyses(org, tool_name="One")] == [first]
    assert [a["ref"] for a in await _analyses(org, ref="dev")] == ["refs/heads/dev"]
    assert [a["ref"] for a in await _analyses(org, ref="refs/heads/dev")] == ["refs/heads/dev"]
    assert await _analyses(org, sarif_id="nope") == []
    r = await org.api.get(ANALYSES, token=org.alice, params={"sort": "size"})
    assert r.status_code == 422


async def test_only_the_newest_of_a_set_is_deletable(org: Org) -> None:
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([sarifs.result("a", "x.py", 1)]))))
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([sarifs.result("a", "x.py", 1)]))))
    newest, older = await _analyses(org)
    assert (newest["deletable"], older["deletable"]) == (True, False)
    r = await org.api.delete(f"{ANALYSES}/{older['id']}", token=org.alice)
    assert (r.status_code, r.json()["message"]) == (400, "Analysis specified is not deletable.")
    r = await org.api.delete(f"{ANALYSES}/{newest['id']}", token=org.alice)
    assert r.status_code == 200, r.text
    base = "http://waybill.test/repos/acme/web/code-scanning/analyses"
    assert r.json() == {
        "next_analysis_url": f"{base}/{older['id']}",
        "confirm_delete_url": f"{base}/{older['id']}?confirm_delete",
    }
    r = await org.api.delete(f"{ANALYSES}/{older['id']}", token=org.alice)
    assert r.status_code == 400
    assert r.json()["message"].startswith("Analysis is last of its type and deletion may result in the loss")
    assert len(await org.alerts()) == 1
    r = await org.api.delete(f"{ANALYSES}/{older['id']}?confirm_delete", token=org.alice)
    assert r.json() == {"next_analysis_url": None, "confirm_delete_url": None}
    assert await _analyses(org) == []
    assert await org.alerts() == []


@pytest.mark.parametrize("path", ["/999", "/abc"])
async def test_unknown_analyses_are_404(org: Org, path: str) -> None:
    r = await org.api.get(f"{ANALYSES}{path}", token=org.alice)
    assert r.status_code == 404
    r = await org.api.delete(f"{ANALYSES}{path}", token=org.alice)
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("category", "key", "environment"),
    [
        (
            ".github/workflows/codeql.yml:analyze/language:python/os:linux/",
            ".github/workflows/codeql.yml:analyze",
            '{"language":"python","os":"linux"}',
        ),
        (".github/workflows/scan.yml:lint/", ".github/workflows/scan.yml:lint", "{}"),
        ("ruff/", "ruff/", "{}"),
        (None, "Semgrep", "{}"),
    ],
)
async def test_analysis_key_and_environment_come_from_the_category(
    org: Org, category: str | None, key: str, environment: str
) -> None:
    findings = [sarifs.result("r", "tests/test_app.py", 3), sarifs.result("r", "src/app.py", 4)]
    run = sarifs.run(findings, category=category)
    run["tool"]["driver"]["name"] = "Semgrep"
    sarif_id = await org.uploaded(sarifs.upload(sarifs.document(run)))
    [analysis] = (await org.api.get(ANALYSES, token=org.alice, params={"sarif_id": sarif_id})).json()
    assert (analysis["analysis_key"], analysis["environment"]) == (key, environment)
    alerts = await org.alerts(sort="number", direction="asc")
    instances = [a["most_recent_instance"] for a in alerts]
    assert {(i["analysis_key"], i["environment"]) for i in instances} == {(key, environment)}
    assert [i["classifications"] for i in instances] == [["test"], []]


async def test_classifications_come_from_sarif_tags_and_paths(org: Org) -> None:
    """A result's own tags and its file's artifact tags name classifications (any case), beside
    what the path says; other tags name none."""
    findings = [
        sarifs.result("r", "src/schema.py", 1, properties={"tags": ["Generated", "security"]}),
        sarifs.result("r", "src/lib.py", 2),
        sarifs.result("r", "tests/test_x.py", 3, properties={"tags": ["library"]}),
        sarifs.result("r", "src/plain.py", 4, properties={"tags": ["security", "source"]}),
    ]
    findings[1]["locations"][0]["physicalLocation"]["artifactLocation"]["index"] = 0
    run = sarifs.run(findings)
    run["artifacts"] = [{"location": {"uri": "src/lib.py"}, "properties": {"tags": ["library", "test"]}}]
    await org.uploaded(sarifs.upload(sarifs.document(run)))
    alerts = await org.alerts(sort="number", direction="asc")
    assert [a["most_recent_instance"]["classifications"] for a in alerts] == [
        ["generated"],
        ["test", "library"],
        ["test", "library"],
        [],
    ]
    number = alerts[0]["number"]
    instances = await org.api.get(f"/repos/acme/web/code-scanning/alerts/{number}/instances", token=org.alice)
    assert instances.status_code == 200, instances.text
    assert instances.json()[0]["classifications"] == ["generated"]


async def test_deleting_the_newest_analysis_rolls_its_set_back(org: Org) -> None:
    first = sarifs.document(sarifs.run([sarifs.result("a", "x.py", 1), sarifs.result("b", "x.py", 2)]))
    # The second analysis fixes b and finds c.
    second = sarifs.document(sarifs.run([sarifs.result("a", "x.py", 1), sarifs.result("c", "x.py", 3)]))
    await org.uploaded(sarifs.upload(first))
    await org.uploaded(sarifs.upload(second))
    states = {a["rule"]["id"]: a["state"] for a in await org.alerts()}
    assert states == {"a": "open", "b": "fixed", "c": "open"}
    newest, older = await _analyses(org)
    r = await org.api.delete(f"{ANALYSES}/{newest['id']}", token=org.alice)
    assert r.status_code == 200, r.text
    assert r.json()["next_analysis_url"].endswith(f"/analyses/{older['id']}")
    alerts = await org.alerts()
    assert {a["rule"]["id"]: a["state"] for a in alerts} == {"a": "open", "b": "open"}
    assert {a["most_recent_instance"]["analysis_key"] for a in alerts} == {"Scanner"}
    [left] = await _analyses(org)
    assert (left["id"], left["deletable"]) == (older["id"], True)
