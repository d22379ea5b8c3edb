"""The advisory page: what the advisory says, the organization's open alerts of it, and the way to
its blast radius."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy.ext.asyncio import AsyncConnection

from tests.advisories.osv_docs import as_file, osv_document
from tests.web.helpers import sign_in
from tests.web.world import SCRIPT_SUMMARY, World
from waybill.accounts import service as accounts
from waybill.alerts import lifecycle
from waybill.alerts import service as alerts
from waybill.web import advisory

ADVISORY = "/ui/orgs/acme/advisories/GHSA-leftpad-high"
ROW = re.compile(r'<tr class="affected-package">(.*?)</tr>', re.S)
OPEN_ALERTS = re.compile(r'<strong class="open-alerts">([^<]+)</strong>')


def _links(text: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="([^"]+)"', text)]


async def _evaluate_web(conn: AsyncConnection) -> None:
    """Matches acme/web's graph against the advisories imported since it was submitted."""
    web = await accounts.find_repository(conn, "acme", "web")
    assert web is not None
    await lifecycle.evaluate_repository(conn, web.id)


async def test_the_page_says_what_the_advisory_says_and_counts_its_open_alerts(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get(ADVISORY)
    assert page.status_code == 200, page.text
    assert "left-pad is vulnerable" in page.text
    assert "high severity" in page.text
    assert "<code>GHSA-leftpad-high</code>" in page.text
    [row] = ROW.findall(page.text)
    assert "<code>left-pad</code>" in row
    assert "<code>&lt; 1.3.1</code>" in row
    assert "<code>1.3.1</code>" in row
    assert ">1 open</a>" in row
    assert OPEN_ALERTS.findall(page.text) == ["1"]
    assert 'href="https://example.org/GHSA-leftpad-high"' in page.text
    links = _links(page.text)
    assert "/ui/orgs/acme/blast-radius?advisory=GHSA-leftpad-high" in links
    alerts_link = "/ui/orgs/acme/alerts?state=open&ecosystem=npm&package=left-pad"
    assert alerts_link in links
    # Both lead where they say: the blast radius of this advisory, and its one open alert.
    blast = await world.api.get("/ui/orgs/acme/blast-radius?advisory=GHSA-leftpad-high")
    assert blast.status_code == 200
    assert "Blast radius" in blast.text
    listed = await world.api.get(alerts_link)
    assert listed.status_code == 200
    assert listed.text.count("GHSA-leftpad-high") >= 1
    assert "GHSA-express-medium" not in listed.text


async def test_cvss_cwes_identifiers_and_withdrawal_are_shown(world: World) -> None:
    doc = osv_document(
        "GHSA-rich-0001-0000",
        "npm",
        "left-pad",
        [{"introduced": "1.0.0"}, {"fixed": "1.2.0"}],
        aliases=["CVE-2026-0001"],
        withdrawn="2026-02-01T00:00:00Z",
        severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        database_specific={"severity": "CRITICAL", "cwe_ids": ["CWE-79"]},
    )
    await world.api.tx(lambda c: alerts.import_advisories(c, [as_file(doc)]))
    await world.api.tx(_evaluate_web)
    await sign_in(world.api, world.alice)
    page = await world.api.get("/ui/orgs/acme/advisories/GHSA-rich-0001-0000")
    assert page.status_code == 200, page.text
    assert "<code>CVE-2026-0001</code>" in page.text
    assert "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H" in page.text
    assert '<code class="cwe">CWE-79</code>' in page.text
    assert "Withdrawn on" in page.text
    # Withdrawn, and acme/web's left-pad is outside its range besides: no open alert of it.
    assert OPEN_ALERTS.findall(page.text) == ["0"]


async def test_alerts_past_the_pages_counted_make_the_count_a_lower_bound(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = osv_document("GHSA-both-0001-0000", "npm", "left-pad", [{"introduced": "0"}])
    doc["affected"].append(
        {"package": {"ecosystem": "npm", "name": "express"}, "ranges": [doc["affected"][0]["ranges"][0]]}
    )
    await world.api.tx(lambda c: alerts.import_advisories(c, [as_file(doc)]))
    await world.api.tx(_evaluate_web)
    await sign_in(world.api, world.alice)
    path = "/ui/orgs/acme/advisories/GHSA-both-0001-0000"
    assert OPEN_ALERTS.findall((await world.api.get(path)).text) == ["2"]
    monkeypatch.setattr(advisory, "ALERT_PAGE", 1)
    monkeypatch.setattr(advisory, "ALERT_PAGES", 1)
    assert OPEN_ALERTS.findall((await world.api.get(path)).text) == ["1+"]


async def test_a_viewer_without_access_sees_no_alert_count(world: World) -> None:
    await sign_in(world.api, world.alice)
    private = await world.api.get("/ui/orgs/acme/advisories/GHSA-vault-critical")
    assert OPEN_ALERTS.findall(private.text) == ["1"]
    await sign_in(world.api, world.sam)
    for ghsa in ("GHSA-vault-critical", "GHSA-leftpad-high"):
        page = await world.api.get(f"/ui/orgs/acme/advisories/{ghsa}")
        assert page.status_code == 200
        assert OPEN_ALERTS.findall(page.text) == []
        assert " open</a>" not in page.text
        assert "acme/secret" not in page.text
        assert "owners may read its alerts, so this page does not count them" in page.text


async def test_the_summary_is_text_and_the_blast_radius_page_links_back(world: World) -> None:
    await sign_in(world.api, world.alice)
    page = await world.api.get("/ui/orgs/acme/advisories/GHSA-express-medium")
    assert SCRIPT_SUMMARY not in page.text
    assert "&lt;script&gt;alert(" in page.text
    blast = await world.api.get("/ui/orgs/acme/blast-radius?advisory=GHSA-leftpad-high")
    node = re.search(
        r'<a class="node [^"]*" href="([^"]+)" data-key="advisory:GHSA-leftpad-high">', blast.text
    )
    assert node is not None
    assert node.group(1) == ADVISORY
    assert f'<a href="{ADVISORY}">' in blast.text
    followed = await world.api.get(node.group(1))
    assert followed.status_code == 200
    assert "left-pad is vulnerable" in followed.text


async def test_an_unknown_advisory_or_organization_is_an_html_404(world: World) -> None:
    await sign_in(world.api, world.alice)
    for path in (
        "/ui/orgs/acme/advisories/GHSA-none-0000-0000",
        "/ui/orgs/acme/advisories/" + "G" * 200,
        "/ui/orgs/nobody/advisories/GHSA-leftpad-high",
    ):
        missing = await world.api.get(path)
        assert missing.status_code == 404, path
        assert missing.headers["content-type"].startswith("text/html")
        assert "Not found" in missing.text
