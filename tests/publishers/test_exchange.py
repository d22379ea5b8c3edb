"""Trusted publishing: a CI job's OIDC token (GitHub Actions or GitLab CI shaped, signed by a local
issuer that publishes its JWKS over HTTP) exchanged for a short-lived token of one repository."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from testkit.oidc import Issuer, SigningKey, running_issuer

from tests.attestations.bundles import bundle_for, random_digest
from tests.harness import Harness, running
from waybill.accounts import service as accounts
from waybill.config import Settings
from waybill.publishers import service as publishers

AUDIENCE = "http://waybill.test"
WORKFLOW = ".github/workflows/release.yml@refs/heads/main"


@pytest.fixture
def issuer() -> Iterator[Issuer]:
    with running_issuer() as running:
        yield running


async def _bind(api: Harness, issuer: Issuer, *, pinned: bool = False, **binding: object) -> None:
    await api.user("octocat")
    await api.org("acme", owner="octocat")
    await api.repo("acme/web")
    await api.repo("acme/other")

    async def bind(conn):  # type: ignore[no-untyped-def]
        await publishers.add_issuer(conn, issuer.url, issuer.jwks() if pinned else None)
        repo = await accounts.get_repository(conn, "acme/web")
        await publishers.add_publisher(
            conn,
            repo,
            issuer_url=issuer.url,
            claims=binding.get("claims") or {"repository": "acme/web", "repository_id": "74"},  # type: ignore[arg-type]
            workflow=binding.get("workflow", WORKFLOW),  # type: ignore[arg-type]
            environment=binding.get("environment", "prod"),  # type: ignore[arg-type]
            permissions={"attestations": "write", "artifact_metadata": "write"},
        )

    await api.tx(bind)


async def _exchange(api: Harness, token: str):  # type: ignore[no-untyped-def]
    return await api.post("/waybill/oidc/token", json={"token": token})


async def test_a_github_actions_token_writes_to_its_repository_only(api: Harness, issuer: Issuer) -> None:
    await _bind(api, issuer)
    response = await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE)))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token"].startswith("wbo_")
    assert body["repositories"] == ["acme/web"]
    assert body["permissions"] == {"metadata": "read", "attestations": "write", "artifact_metadata": "write"}
    token = body["token"]
    bundle = {"bundle": bundle_for([random_digest()])}
    assert (await api.post("/repos/acme/web/attestations", token=token, json=bundle)).status_code == 201
    other = await api.post("/repos/acme/other/attestations", token=token, json=bundle)
    assert other.status_code == 403
    assert other.json()["message"].startswith("Resource not accessible by integration")
    record = {
        "name": "web",
        "digest": random_digest(),
        "status": "deployed",
        "logical_environment": "prod",
        "deployment_name": "web",
        "github_repository": "web",
    }
    written = await api.post("/orgs/acme/artifacts/metadata/deployment-record", token=token, json=record)
    assert written.status_code == 200, written.text
    # The binding, the exchange and the writes it allowed are in the organization's log.
    owner = await api.token("octocat", "read:audit_log")
    log = (await api.get("/waybill/orgs/acme/audit-log", token=owner)).json()
    actions = [(e["action"], e["actor_type"]) for e in log if e["repo"] == "acme/web"]
    assert actions[:3] == [
        ("deployment_record.created", "publisher"),
        ("attestation.created", "publisher"),
        ("publisher.token_exchanged", "publisher"),
    ]
    assert actions[3][0] == "publisher.created"


async def test_a_gitlab_token_matches_on_project_id_config_and_environment(
    api: Harness, issuer: Issuer
) -> None:
    await _bind(
        api,
        issuer,
        claims={"project_path": "acme/web", "project_id": "20"},
        workflow=".gitlab-ci.yml@refs/heads/main",
        environment="production",
    )
    response = await _exchange(api, issuer.sign(issuer.gitlab(AUDIENCE)))
    assert response.status_code == 201, response.text
    assert response.json()["repositories"] == ["acme/web"]


def _refused(check: str) -> str:
    return f"OIDC token refused ({check})"


@pytest.mark.parametrize(
    ("change", "check"),
    [
        ({"aud": "https://elsewhere.example"}, "audience"),
        ({"exp": 1_000_000_000, "iat": 999_999_000, "nbf": 999_999_000}, "exp"),
        ({"nbf": 4_000_000_000}, "nbf"),
        ({"iat": 4_000_000_000}, "iat"),
        ({"jti": None}, "jti"),
        ({"iss": "https://untrusted.example"}, "issuer"),
    ],
)
async def test_a_token_failing_a_check_on_itself_is_told_which(
    api: Harness, issuer: Issuer, change: dict[str, object], check: str
) -> None:
    await _bind(api, issuer)
    claims = {k: v for k, v in {**issuer.github_actions(AUDIENCE), **change}.items() if v is not None}
    response = await _exchange(api, issuer.sign(claims))
    assert response.status_code == 401, response.text
    assert response.json()["message"].startswith(_refused(check))


async def test_a_wrong_signature_is_refused(api: Harness, issuer: Issuer) -> None:
    await _bind(api, issuer)
    impostor = SigningKey(issuer.current.kid)
    response = await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE), key=impostor))
    assert response.status_code == 401
    assert response.json()["message"].startswith(_refused("signature"))


async def test_a_replayed_jti_is_refused(api: Harness, issuer: Issuer) -> None:
    await _bind(api, issuer)
    token = issuer.sign(issuer.github_actions(AUDIENCE))
    assert (await _exchange(api, token)).status_code == 201
    again = await _exchange(api, token)
    assert again.status_code == 401
    assert again.json()["message"].startswith(_refused("replay"))


@pytest.mark.parametrize(
    "change",
    [
        {"repository": "acme/other", "repository_id": "75"},
        {"job_workflow_ref": "acme/web/.github/workflows/other.yml@refs/heads/main"},
        {"job_workflow_ref": "acme/web/.github/workflows/release.yml@refs/heads/feature"},
        {"environment": "staging"},
    ],
    ids=["another repository", "another workflow", "another ref", "another environment"],
)
async def test_a_token_matching_no_publisher_is_told_nothing_more(
    api: Harness, issuer: Issuer, change: dict[str, str]
) -> None:
    await _bind(api, issuer)
    response = await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE, **change)))
    assert response.status_code == 403
    assert response.json()["message"] == "No trusted publisher matches this token"


async def test_keys_are_fetched_once_and_again_when_the_issuer_rotates(api: Harness, issuer: Issuer) -> None:
    await _bind(api, issuer)
    old = issuer.current
    for _ in range(2):
        assert (await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE)))).status_code == 201
    assert issuer.requests.count("/.well-known/jwks") == 1
    issuer.rotate()
    assert (await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE)))).status_code == 201
    assert issuer.requests.count("/.well-known/jwks") == 2
    retired = await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE), key=old))
    assert retired.status_code == 401
    assert retired.json()["message"].startswith(_refused("signature"))


async def test_pinned_keys_need_no_network(api: Harness, issuer: Issuer) -> None:
    await _bind(api, issuer, pinned=True)
    assert (await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE)))).status_code == 201
    assert issuer.requests == []


async def test_the_audience_is_configurable(settings: Settings, backend: str, issuer: Issuer) -> None:
    async with running(replace(settings, oidc_audience="https://waybill.example"), backend) as api:
        await _bind(api, issuer)
        default = await _exchange(api, issuer.sign(issuer.github_actions(AUDIENCE)))
        assert default.json()["message"].startswith(_refused("audience"))
        configured = issuer.sign(issuer.github_actions("https://waybill.example"))
        assert (await _exchange(api, configured)).status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{", 400, "Problems parsing JSON"),
        (b"{}", 422, "Validation Failed"),
        (b'{"token": "not-a-jwt"}', 401, "OIDC token refused (format): not a signed JWT"),
    ],
)
async def test_bad_requests(api: Harness, body: bytes, status: int, message: str) -> None:
    response = await api.post("/waybill/oidc/token", content=body)
    assert response.status_code == status
    assert response.json()["message"] == message
