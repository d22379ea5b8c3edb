"""A real OIDC issuer for tests: an HTTP server on 127.0.0.1 publishing a discovery document and its
JWKS, and tokens signed by its current key with the claims GitHub Actions and GitLab CI document."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa


@dataclass
class SigningKey:
    kid: str
    private: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))

    def jwk(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.private.public_key()))
        return {**data, "kid": self.kid, "use": "sig", "alg": "RS256"}


@dataclass
class Issuer:
    url: str
    keys: list[SigningKey]
    requests: list[str] = field(default_factory=list)

    @property
    def current(self) -> SigningKey:
        return self.keys[-1]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [k.jwk() for k in self.keys]}

    def rotate(self) -> SigningKey:
        """A new current key; the old one leaves the published set, as issuers retire keys."""
        self.keys = [SigningKey(f"key-{len(self.requests)}-{uuid.uuid4().hex[:6]}")]
        return self.current

    def sign(self, claims: dict[str, Any], key: SigningKey | None = None) -> str:
        signer = key or self.current
        return jwt.encode(claims, signer.private, algorithm="RS256", headers={"kid": signer.kid})

    def times(self, lifetime: int = 300, skew: int = 0) -> dict[str, int]:
        now = int(time.time()) + skew
        return {"iat": now, "nbf": now, "exp": now + lifetime}

    def github_actions(self, audience: str, repository: str = "acme/web", **overrides: Any) -> dict[str, Any]:
        """The claims of a GitHub Actions job's token, as GitHub's documentation of OpenID Connect
        in Actions lists them."""
        owner = repository.split("/")[0]
        claims: dict[str, Any] = {
            "jti": str(uuid.uuid4()),
            "sub": f"repo:{repository}:environment:prod",
            "environment": "prod",
            "aud": audience,
            "ref": "refs/heads/main",
            "sha": "a" * 40,
            "repository": repository,
            "repository_owner": owner,
            "actor_id": "12",
            "repository_visibility": "private",
            "repository_id": "74",
            "repository_owner_id": "65",
            "run_id": "example-run-id",
            "run_number": "10",
            "run_attempt": "2",
            "runner_environment": "github-hosted",
            "actor": "octocat",
            "workflow": "release",
            "head_ref": "",
            "base_ref": "",
            "event_name": "push",
            "ref_type": "branch",
            "job_workflow_ref": f"{repository}/.github/workflows/release.yml@refs/heads/main",
            "workflow_ref": f"{repository}/.github/workflows/release.yml@refs/heads/main",
            "iss": self.url,
            **self.times(),
        }
        claims.update(overrides)
        return claims

    def gitlab(self, audience: str, project: str = "acme/web", **overrides: Any) -> dict[str, Any]:
        """The claims of a GitLab CI job's ID token (docs: "OpenID Connect (OIDC) authentication
        using ID tokens")."""
        host = self.url.split("://", 1)[1]
        claims: dict[str, Any] = {
            "namespace_id": "72",
            "namespace_path": project.split("/")[0],
            "project_id": "20",
            "project_path": project,
            "user_id": "1",
            "user_login": "sample-user",
            "user_email": "sample-user@example.com",
            "user_identities": [],
            "pipeline_id": "574",
            "pipeline_source": "push",
            "job_id": "302",
            "ref": "main",
            "ref_type": "branch",
            "ref_path": "refs/heads/main",
            "ref_protected": "true",
            "environment": "production",
            "environment_protected": "true",
            "deployment_tier": "production",
            "environment_action": "start",
            "runner_id": 1,
            "runner_environment": "self-hosted",
            "sha": "b" * 40,
            "project_visibility": "private",
            "ci_config_ref_uri": f"{host}/{project}//.gitlab-ci.yml@refs/heads/main",
            "ci_config_sha": "b" * 40,
            "jti": str(uuid.uuid4()),
            "iss": self.url,
            "sub": f"project_path:{project}:ref_type:branch:ref:main",
            "aud": audience,
            **self.times(),
        }
        claims.update(overrides)
        return claims


@contextmanager
def running_issuer() -> Iterator[Issuer]:
    """The issuer's HTTP server on a free port, stopped afterwards."""
    issuer = Issuer(url="", keys=[SigningKey("key-0")])

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            issuer.requests.append(self.path)
            if self.path == "/.well-known/openid-configuration":
                body: Any = {"issuer": issuer.url, "jwks_uri": f"{issuer.url}/.well-known/jwks"}
            elif self.path == "/.well-known/jwks":
                body = issuer.jwks()
            else:
                self.send_error(404)
                return
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    issuer.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield issuer
    finally:
        server.shutdown()
        server.server_close()
