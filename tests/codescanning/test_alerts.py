"""What an alert is: identity from partial fingerprints, else the rule, the file and the snippet,
else the start line; numbers per repository; fixed and reopened by newer analyses of the same tool
and category on the same ref; severity from the rule; dismissal; filters and pages."""

from __future__ import annotations

import pytest
from testkit import sarifs

from tests.codescanning.conftest import Org
from tests.contract.description import API_VERSIONS, check_response

LIST = "code-scanning/list-alerts-for-repo"
GET = "code-scanning/get-alert"
UPDATE = "code-scanning/update-alert"
INSTANCES = "code-scanning/list-alert-instances"
WEB = "/repos/acme/web/code-scanning/alerts"


def _one(rule: str, line: int, **extra: object) -> dict[str, object]:
    return sarifs.document(sarifs.run([sarifs.result(rule, "src/app.py", line, **extra)]))  # type: ignore[arg-type]


def _states(alerts: list[dict[str, object]]) -> dict[object, object]:
    return {a["number"]: a["state"] for a in alerts}


@pytest.mark.usefixtures("official_description")
@pytest.mark.parametrize("version", API_VERSIONS)
async def test_bandit_alert_in_githubs_shape(org: Org, version: str) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    r = await org.api.get(f"{WEB}/1", token=org.alice, version=version)
    assert r.status_code == 200, r.text
    check_response(r, GET)
    body = r.json()
    assert body["number"] == 1
    assert body["state"] == "open"
    assert body["rule"]["id"] == "B403"
    assert body["rule"]["name"] == "blacklist"
    assert body["rule"]["severity"] == "note"
    assert body["rule"]["tags"] == ["security", "external/cwe/cwe-502"]
    assert body["tool"] == {"name": "Bandit", "version": "1.9.4", "guid": None}
    instance = body["most_recent_instance"]
    assert instance["ref"] == "refs/heads/main"
    assert instance["commit_sha"] == sarifs.SHA
    assert instance["state"] == "open"
    assert instance["location"] == {
        "path": "app/handlers.py",
        "start_line": 4,
        "end_line": 4,
        "start_column": 1,
        "end_column": 14,
    }
    assert (
        instance["message"]["text"]
        == "Consider possible security implications associated with pickle module."
    )
    assert body["url"] == "http://waybill.test/repos/acme/web/code-scanning/alerts/1"
    assert body["instances_url"] == "http://waybill.test/repos/acme/web/code-scanning/alerts/1/instances"
    r = await org.api.get(WEB, token=org.alice, version=version)
    check_response(r, LIST)
    assert len(r.json()) == 8
    r = await org.api.get(f"{WEB}/1/instances", token=org.alice, version=version)
    check_response(r, INSTANCES)
    assert [i["ref"] for i in r.json()] == ["refs/heads/main"]


async def test_partial_fingerprints_keep_an_alert_that_moves(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10, fingerprints={"primaryLocationLineHash": "abc:1"})))
    await org.uploaded(
        sarifs.upload(_one("sqli", 42, fingerprints={"primaryLocationLineHash": "abc:1"}), sha=sarifs.SHA2)
    )
    alerts = await org.alerts()
    assert [
        (a["number"], a["state"], a["most_recent_instance"]["location"]["start_line"]) for a in alerts
    ] == [(1, "open", 42)]
    assert alerts[0]["most_recent_instance"]["commit_sha"] == sarifs.SHA2


async def test_without_fingerprints_the_snippet_names_the_alert(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10, snippet="cursor.execute(query % args)\n")))
    await org.uploaded(sarifs.upload(_one("sqli", 12, snippet="  cursor.execute(query  % args)")))
    assert [(a["number"], a["state"]) for a in await org.alerts()] == [(1, "open")]


async def test_without_fingerprints_or_snippet_the_start_line_names_the_alert(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    await org.uploaded(sarifs.upload(_one("sqli", 11)))
    # Moved without a fingerprint: a new alert at line 11, and the one at line 10 is fixed.
    assert _states(await org.alerts()) == {2: "open", 1: "fixed"}


async def test_bandit_uploaded_twice_is_the_same_alerts(org: Org) -> None:
    await org.uploaded(sarifs.upload(sarifs.real("bandit")))
    await org.uploaded(sarifs.upload(sarifs.real("bandit"), sha=sarifs.SHA2))
    alerts = await org.alerts()
    assert sorted(a["number"] for a in alerts) == list(range(1, 9))
    assert {a["state"] for a in alerts} == {"open"}


async def test_fixed_then_reopened_by_the_same_tool_category_and_ref(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    empty = sarifs.document(sarifs.run([]))
    # Another tool, another category and another ref do not fix it.
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([], tool="Other"))))
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([], category="frontend/"))))
    await org.uploaded(sarifs.upload(empty, ref="refs/heads/feature"))
    [alert] = await org.alerts()
    assert (alert["state"], alert["fixed_at"]) == ("open", None)
    await org.uploaded(sarifs.upload(empty, sha=sarifs.SHA2))
    [alert] = await org.alerts()
    assert alert["state"] == "fixed"
    assert alert["fixed_at"] is not None
    assert alert["most_recent_instance"]["state"] == "fixed"
    assert alert["most_recent_instance"]["commit_sha"] == sarifs.SHA2
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    [alert] = await org.alerts()
    assert (alert["number"], alert["state"], alert["fixed_at"]) == (1, "open", None)


async def test_a_ref_shows_its_own_state(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    await org.uploaded(sarifs.upload(_one("sqli", 10), ref="refs/pull/7/merge"))
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([])), ref="refs/pull/7/merge"))
    assert _states(await org.alerts()) == {1: "open"}
    assert _states(await org.alerts(ref="refs/pull/7/merge")) == {1: "fixed"}
    assert _states(await org.alerts(pr="7")) == {1: "fixed"}
    assert _states(await org.alerts(pr="7", state="open")) == {}
    assert _states(await org.alerts(ref="main", state="open")) == {1: "open"}
    r = await org.api.get(f"{WEB}/1/instances", token=org.alice, params={"ref": "refs/pull/7/merge"})
    assert [(i["ref"], i["state"]) for i in r.json()] == [("refs/pull/7/merge", "fixed")]


async def test_baseline_absent_and_passing_results_are_no_findings(org: Org) -> None:
    results = [
        sarifs.result("a", "x.py", 1, baselineState="absent"),
        sarifs.result("b", "x.py", 2, kind="pass"),
        sarifs.result("c", "x.py", 3, baselineState="unchanged"),
        sarifs.result("d", "x.py", 4, baselineState="new"),
    ]
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run(results))))
    assert sorted(a["rule"]["id"] for a in await org.alerts()) == ["c", "d"]


async def test_severity_comes_from_the_rule(org: Org) -> None:
    rules = [
        sarifs.rule("crit", level="error", security_severity="9.8"),
        sarifs.rule("high", level="error", security_severity="7.5"),
        sarifs.rule("med", level="warning", security_severity="5.0"),
        sarifs.rule("low", level="note", security_severity="2.0"),
        sarifs.rule("plain", level="note"),
        {"id": "codeql", "properties": {"problem.severity": "recommendation"}},
    ]
    results = [sarifs.result(r["id"], "x.py", i + 1) for i, r in enumerate(rules)]
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run(results, rules=rules))))
    got = {
        a["rule"]["id"]: (a["rule"]["severity"], a["rule"]["security_severity_level"])
        for a in await org.alerts()
    }
    assert got == {
        "crit": ("error", "critical"),
        "high": ("error", "high"),
        "med": ("warning", "medium"),
        "low": ("note", "low"),
        "plain": ("note", None),
        "codeql": ("note", None),
    }
    r = await org.api.get(f"{WEB}/1", token=org.alice)
    assert r.json()["rule"]["description"] == "crit short"
    assert r.json()["rule"]["full_description"] == "crit full"
    # A result's own level wins over its rule's default.
    loud = sarifs.result("plain", "y.py", 1, level="error")
    await org.uploaded(
        sarifs.upload(sarifs.document(sarifs.run([loud], rules=rules)), ref="refs/heads/other")
    )
    assert {a["rule"]["id"] for a in await org.alerts(severity="critical,high")} == {"crit", "high"}
    assert {a["rule"]["id"] for a in await org.alerts(severity="note")} == {"low", "codeql", "plain"}
    errors = await org.alerts(severity="error")
    assert {(a["rule"]["id"], a["most_recent_instance"]["location"]["path"]) for a in errors} == {
        ("crit", "x.py"),
        ("high", "x.py"),
        ("plain", "y.py"),
    }


async def test_5001_results_keep_the_5000_most_severe(org: Org) -> None:
    sarif_id = await org.uploaded(sarifs.upload(sarifs.many_results(5001)))
    r = await org.api.get(
        "/repos/acme/web/code-scanning/analyses", token=org.alice, params={"sarif_id": sarif_id}
    )
    [analysis] = r.json()
    assert (analysis["results_count"], analysis["warning"]) == (5000, "1 results were ignored")
    critical = await org.alerts(severity="critical", per_page=100)
    assert len(critical) == 10


async def test_several_runs_are_several_analyses(org: Org) -> None:
    document = sarifs.document(
        sarifs.run([sarifs.result("a", "x.py", 1)], tool="One"),
        sarifs.run([sarifs.result("a", "x.py", 1)], tool="Two", category="api/run-1"),
    )
    sarif_id = await org.uploaded(sarifs.upload(document))
    r = await org.api.get(
        "/repos/acme/web/code-scanning/analyses", token=org.alice, params={"sarif_id": sarif_id}
    )
    assert sorted((a["tool"]["name"], a["category"]) for a in r.json()) == [("One", ""), ("Two", "api/")]
    # The same rule at the same place from two tools is two alerts.
    assert sorted(a["tool"]["name"] for a in await org.alerts()) == ["One", "Two"]
    assert [a["tool"]["name"] for a in await org.alerts(tool_name="Two")] == ["Two"]


async def test_numbers_run_per_repository(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("a", 1)))
    await org.uploaded(sarifs.upload(_one("b", 1)), repo="secret")
    assert [a["number"] for a in await org.alerts("secret")] == [1]


async def test_dismiss_and_reopen(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    body = {"state": "dismissed", "dismissed_reason": "false positive", "dismissed_comment": "sanitised"}
    r = await org.api.patch(f"{WEB}/1", token=org.dave, json=body)
    assert r.status_code == 200, r.text
    check_response(r, UPDATE)
    got = r.json()
    assert (got["state"], got["dismissed_reason"], got["dismissed_comment"]) == (
        "dismissed",
        "false positive",
        "sanitised",
    )
    assert got["dismissed_by"]["login"] == "dave"
    # A later analysis that still reports it leaves it dismissed; one that does not keeps it dismissed too.
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    assert _states(await org.alerts()) == {1: "dismissed"}
    assert _states(await org.alerts(state="closed")) == {1: "dismissed"}
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([]))))
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json={"state": "open"})
    # Reopened after its fix: fixed.
    assert (r.json()["state"], r.json()["dismissed_reason"], r.json()["dismissed_by"]) == (
        "fixed",
        None,
        None,
    )


async def test_assignees_are_replaced_and_shown(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json={"assignees": ["dave", "Alice"]})
    assert r.status_code == 200, r.text
    check_response(r, UPDATE)
    assert [a["login"] for a in r.json()["assignees"]] == ["alice", "dave"]
    assert r.json()["state"] == "open"
    [listed] = await org.alerts()
    assert sorted(a["login"] for a in listed["assignees"]) == ["alice", "dave"]
    body = {"state": "dismissed", "dismissed_reason": "used in tests", "assignees": ["dave"]}
    r = await org.api.patch(f"{WEB}/1", token=org.dave, json=body)
    assert ([a["login"] for a in r.json()["assignees"]], r.json()["state"]) == (["dave"], "dismissed")
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json={"assignees": []})
    assert r.json()["assignees"] == []


@pytest.mark.parametrize(
    ("assignees", "message"),
    [
        (["nobody"], "unknown users: nobody"),
        (["bob"], "users without write access to the repository: bob"),
        (["carol", "dave"], "users without write access to the repository: carol"),
    ],
)
async def test_assignees_must_be_users_with_write_access(
    org: Org, assignees: list[str], message: str
) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json={"assignees": assignees})
    assert r.status_code == 422, r.text
    assert (r.json()["errors"][0]["field"], r.json()["errors"][0]["message"]) == ("assignees", message)
    [listed] = await org.alerts()
    assert listed["assignees"] == []


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"state": "dismissed"}, 422, "dismissed_reason"),
        ({}, 422, "state"),
        ({"state": "dismissed", "dismissed_reason": "bored"}, 422, "dismissed_reason"),
        ({"state": "closed"}, 422, "state"),
        (
            {"state": "dismissed", "dismissed_reason": "won't fix", "dismissed_comment": "x" * 281},
            422,
            "dismissed_comment",
        ),
    ],
)
async def test_bad_updates(org: Org, body: dict[str, object], status: int, field: str) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    r = await org.api.patch(f"{WEB}/1", token=org.alice, json=body)
    assert r.status_code == status, r.text
    assert r.json()["errors"][0]["field"] == field


async def test_pages_and_sorts(org: Org) -> None:
    results = [sarifs.result(f"r{i}", "x.py", i + 1) for i in range(5)]
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run(results))))
    r = await org.api.get(WEB, token=org.alice, params={"per_page": 2, "sort": "number", "direction": "asc"})
    assert [a["number"] for a in r.json()] == [1, 2]
    assert 'rel="next"' in r.headers["link"]
    r = await org.api.get(
        WEB, token=org.alice, params={"per_page": 2, "page": 3, "sort": "number", "direction": "asc"}
    )
    assert [a["number"] for a in r.json()] == [5]
    assert 'rel="next"' not in r.headers.get("link", "")


@pytest.mark.parametrize("query", ["state=sleepy", "sort=size", "direction=up", "severity=huge", "pr=abc"])
async def test_bad_filters_are_422(org: Org, query: str) -> None:
    r = await org.api.get(f"{WEB}?{query}", token=org.alice)
    assert r.status_code == 422, r.text


@pytest.mark.parametrize(
    "path", ["/999", "/abc", "/999/instances", "/267605894050936", "/2147483648/instances"]
)
async def test_unknown_alerts_are_404(org: Org, path: str) -> None:
    r = await org.api.get(f"{WEB}{path}", token=org.alice)
    assert r.status_code == 404


async def test_dismissing_a_number_beyond_32_bits_is_404(org: Org) -> None:
    # Found by the fuzzer: PostgreSQL's integer column refused the number, and the server answered 500.
    body = {"state": "dismissed", "dismissed_reason": "false positive"}
    r = await org.api.patch(f"{WEB}/267605894050936", token=org.alice, json=body)
    assert r.status_code == 404, r.text


async def test_the_newest_run_describes_the_rule(org: Org) -> None:
    await org.uploaded(sarifs.upload(_one("sqli", 10)))
    renamed = sarifs.rule("sqli", level="error", security_severity="8.0")
    renamed["shortDescription"] = {"text": "SQL built from input"}
    document = sarifs.document(sarifs.run([sarifs.result("sqli", "src/app.py", 10)], rules=[renamed]))
    await org.uploaded(sarifs.upload(document))
    [alert] = await org.alerts()
    assert (alert["number"], alert["rule"]["description"], alert["rule"]["severity"]) == (
        1,
        "SQL built from input",
        "error",
    )
    assert alert["rule"]["security_severity_level"] == "high"


async def test_nul_characters_and_huge_lines_are_stored_without_them(org: Org) -> None:
    odd = sarifs.result("nul\u0000rule", "src/a\u0000.py", 2**40, message="bad\u0000byte")
    await org.uploaded(sarifs.upload(sarifs.document(sarifs.run([odd]))))
    [alert] = await org.alerts()
    assert alert["rule"]["id"] == "nulrule"
    instance = alert["most_recent_instance"]
    assert (instance["message"]["text"], instance["location"]["path"]) == ("badbyte", "src/a.py")
    assert "start_line" not in instance["location"]
