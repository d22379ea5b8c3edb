"""The artifact page, from the attestations the viewer may read."""

from __future__ import annotations

from tests.attestations.bundles import bundle_for, random_digest
from tests.harness import Harness
from tests.web.helpers import sign_in


async def _world(api: Harness) -> tuple[str, str, str]:
    for login in ("alice", "sam"):
        await api.user(login)
    await api.org("acme", owner="alice")
    await api.repo("acme/public")
    await api.repo("acme/private", private=True)
    return await api.token("alice"), await api.token("sam"), random_digest()


async def _attest(api: Harness, token: str, repo: str, digest: str, predicate_type: str) -> None:
    bundle = bundle_for([digest], predicate_type=predicate_type)
    response = await api.post(f"/repos/{repo}/attestations", token=token, json={"bundle": bundle})
    assert response.status_code == 201, response.text


async def test_the_artifact_page_lists_its_attestations_with_their_signer(api: Harness) -> None:
    owner, _, digest = await _world(api)
    await _attest(api, owner, "acme/public", digest, "https://slsa.dev/provenance/v1")
    await _attest(api, owner, "acme/private", digest, "https://spdx.dev/Document/v2.3")
    await sign_in(api, owner)
    page = await api.get(f"/ui/orgs/acme/artifacts/{digest}")
    assert page.status_code == 200
    assert page.text.count('<tr class="attestation">') == 2
    assert "acme/private" in page.text
    assert "https://slsa.dev/provenance/v1" in page.text
    assert "unreadable bundle" not in page.text


async def test_a_viewer_without_access_sees_no_private_attestation(api: Harness) -> None:
    owner, stranger, digest = await _world(api)
    await _attest(api, owner, "acme/public", digest, "https://slsa.dev/provenance/v1")
    await _attest(api, owner, "acme/private", digest, "https://spdx.dev/Document/v2.3")
    await sign_in(api, stranger)
    page = await api.get(f"/ui/orgs/acme/artifacts/{digest}")
    assert page.status_code == 200
    assert page.text.count('<tr class="attestation">') == 1
    assert "acme/private" not in page.text
    assert "spdx.dev" not in page.text


async def test_attacker_controlled_values_are_shown_as_text(api: Harness) -> None:
    owner, _, digest = await _world(api)
    await _attest(api, owner, "acme/public", digest, "https://evil.example/<script>alert(1)</script>")
    await sign_in(api, owner)
    page = await api.get(f"/ui/orgs/acme/artifacts/{digest}")
    assert "<script>alert(1)</script>" not in page.text
    assert "https://evil.example/&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


async def test_an_unknown_organization_or_a_malformed_digest_is_an_html_404(api: Harness) -> None:
    owner, _, digest = await _world(api)
    await sign_in(api, owner)
    for path in (f"/ui/orgs/nobody/artifacts/{digest}", "/ui/orgs/acme/artifacts/sha256:XYZ"):
        page = await api.get(path)
        assert page.status_code == 404, path
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert "<h1>Not found</h1>" in page.text


async def test_the_artifact_page_needs_a_session(api: Harness) -> None:
    _, _, digest = await _world(api)
    page = await api.get(f"/ui/orgs/acme/artifacts/{digest}")
    assert page.status_code == 303
    assert page.headers["location"].startswith("/ui/sign-in?next=")
