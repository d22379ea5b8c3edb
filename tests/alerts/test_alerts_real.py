"""Dependabot alerts against the real PyPI advisories: versions at the boundaries each advisory file
gives (introduced, fixed, last_affected, an explicit version), the lifecycle across snapshots."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.harness import Harness
from tests.spec import assert_conforms
from waybill.advisories import merging, osv
from waybill.alerts import service as alerts

LIST = "dependabot/list-alerts-for-repo"
GET = "dependabot/get-alert"
UPDATE = "dependabot/update-alert"
ALERTS = "/repos/alice/app/dependabot/alerts"


@dataclass(frozen=True)
class Case:
    ghsa: str
    package: str
    affected: str
    unaffected: str
    text: str
    patched: str | None


def _events(r: osv.Range) -> list[tuple[str, str]]:
    return [
        (k, v) for e in r.events for k in ("introduced", "fixed", "last_affected") if (v := getattr(e, k))
    ]


def _cases(docs: list[osv.Document]) -> dict[str, Case]:
    """One advisory of each boundary kind, the first in id order, read from the files."""
    found: dict[str, Case] = {}
    for doc in sorted(docs, key=lambda d: d.id):
        if doc.withdrawn is not None or len(doc.affected) != 1 or doc.affected[0].package is None:
            continue
        affected = doc.affected[0]
        name = affected.package.name  # type: ignore[union-attr]
        ranges = [r for r in affected.ranges if r.type == "ECOSYSTEM"]
        events = _events(ranges[0]) if len(ranges) == 1 else []
        kinds = [k for k, _ in events]
        ghsa = merging.ghsa_id(doc)
        if kinds == ["introduced", "fixed"] and events[0][1] != "0" and "introduced" not in found:
            start, end = events[0][1], events[1][1]
            found["introduced"] = Case(ghsa, name, start, end, f">= {start}, < {end}", end)
        elif kinds == ["introduced", "last_affected"] and "last_affected" not in found:
            end = events[1][1]
            found["last_affected"] = Case(ghsa, name, end, end + ".post1", f"<= {end}", None)
        elif not affected.ranges and affected.versions and "versions" not in found:
            version = affected.versions[0]
            found["versions"] = Case(ghsa, name, version, version + ".post1", f"= {version}", None)
    assert set(found) == {"introduced", "last_affected", "versions"}
    return found


def _snapshot(packages: dict[str, str], n: int) -> dict[str, Any]:
    resolved = {
        name: {"package_url": f"pkg:pypi/{name}@{v}", "relationship": "direct"}
        for name, v in packages.items()
    }
    return {
        "version": 0,
        "sha": f"{n:040x}",
        "ref": "refs/heads/main",
        "job": {"correlator": "pip", "id": str(n)},
        "detector": {"name": "pip-detector", "version": "1.0.0", "url": "https://example.com/pip"},
        "scanned": f"2026-01-0{n}T00:00:00Z",
        "manifests": {
            "requirements.txt": {
                "name": "requirements.txt",
                "file": {"source_location": "requirements.txt"},
                "resolved": resolved,
            }
        },
    }


async def _submit(api: Harness, token: str, packages: dict[str, str], n: int) -> None:
    r = await api.post(
        "/repos/alice/app/dependency-graph/snapshots", token=token, json=_snapshot(packages, n)
    )
    assert r.status_code == 201, r.text
    await api.app.worker.run_until_idle()


async def _alerts(api: Harness, token: str, **params: Any) -> list[dict[str, Any]]:
    r = await api.get(ALERTS, token=token, params={"per_page": 100, **params})
    assert r.status_code == 200, r.text
    assert_conforms(r, LIST)
    return list(r.json())


def _by_advisory(body: list[dict[str, Any]], case: Case) -> list[dict[str, Any]]:
    return [
        a
        for a in body
        if a["security_advisory"]["ghsa_id"] == case.ghsa
        and a["dependency"]["package"]["name"] == case.package
    ]


async def test_alerts_follow_the_real_advisories(api: Harness, shared_dir: Path) -> None:
    files = list(osv.load(shared_dir / "advisories" / "pypa-advisory-database"))
    cases = _cases([d for name, data in files for d in osv.parse(data, name)])
    await api.tx(lambda conn: alerts.import_advisories(conn, files))
    await api.user("alice")
    await api.repo("alice/app")
    token = await api.token("alice")

    # Every package at its affected boundary.
    await _submit(api, token, {c.package: c.affected for c in cases.values()}, 1)
    body = await _alerts(api, token)
    numbers: dict[str, int] = {}
    for kind, case in cases.items():
        [found] = _by_advisory(body, case)
        assert found["state"] == "open", kind
        assert found["dependency"]["manifest_path"] == "requirements.txt"
        assert found["dependency"]["relationship"] == "direct"
        vulnerability = found["security_vulnerability"]
        assert vulnerability["vulnerable_version_range"] == case.text, kind
        patched = None if case.patched is None else {"identifier": case.patched}
        assert vulnerability["first_patched_version"] == patched, kind
        numbers[kind] = found["number"]
    assert sorted(a["number"] for a in body) == list(range(1, len(body) + 1))

    r = await api.get(f"{ALERTS}/{numbers['introduced']}", token=token, version="2026-03-10")
    assert r.status_code == 200, r.text
    assert_conforms(r, GET)
    assert "cvss" not in r.json()["security_advisory"]

    # Every package just past its boundary: the advisory's alerts are fixed.
    await _submit(api, token, {c.package: c.unaffected for c in cases.values()}, 2)
    body = await _alerts(api, token)
    for kind, case in cases.items():
        [found] = _by_advisory(body, case)
        assert (found["number"], found["state"]) == (numbers[kind], "fixed"), kind
        assert found["fixed_at"] is not None
    fixed = await _alerts(api, token, state="fixed")
    assert {a["number"] for a in fixed} >= set(numbers.values())

    # The introduced-boundary version returns: its alert reopens with its number.
    introduced = cases["introduced"]
    await _submit(api, token, {introduced.package: introduced.affected}, 3)
    [found] = _by_advisory(await _alerts(api, token), introduced)
    assert (found["number"], found["state"], found["fixed_at"]) == (numbers["introduced"], "open", None)

    # Dismissed, it stays dismissed when the version leaves; reopened then, it is fixed.
    path = f"{ALERTS}/{numbers['introduced']}"
    r = await api.patch(
        path,
        token=token,
        json={"state": "dismissed", "dismissed_reason": "tolerable_risk", "dismissed_comment": "ok"},
    )
    assert r.status_code == 200, r.text
    assert_conforms(r, UPDATE)
    assert (r.json()["state"], r.json()["dismissed_reason"], r.json()["dismissed_by"]["login"]) == (
        "dismissed",
        "tolerable_risk",
        "alice",
    )
    await _submit(api, token, {}, 4)
    [found] = _by_advisory(await _alerts(api, token), introduced)
    assert found["state"] == "dismissed"
    r = await api.patch(path, token=token, json={"state": "open"})
    assert r.status_code == 200, r.text
    assert_conforms(r, UPDATE)
    assert (r.json()["state"], r.json()["dismissed_at"], r.json()["dismissed_reason"]) == (
        "fixed",
        None,
        None,
    )
