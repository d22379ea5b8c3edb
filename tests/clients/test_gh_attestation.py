"""``gh attestation verify`` and ``gh attestation download`` (gh 2.103.3) against ``waybill serve``.

gh's attestation commands refuse GitHub Enterprise Server hosts; they accept github.com, ``*.ghe.com``
and GitHub's development host ``github.localhost``, whose API gh addresses as plain-HTTP
``http://api.github.localhost/``. With ``HTTP_PROXY`` naming Waybill, gh sends those requests to
Waybill in absolute form, which it serves like any other request: no TLS, no name resolution, no
change to gh. The README's "Verifying attestations with gh" section shows the same setup.

The artifact is a real one: ``sigstore@2.1.0`` from the npm registry, whose real provenance bundle
(public-good Sigstore, signed by the ``sigstore/sigstore-js`` release workflow) is one of the shared
fixtures. Verification is offline against the fixture's trusted root (``--custom-trusted-root``)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.clients.test_gh import GH
from tests.live import LiveServer

pytestmark = pytest.mark.xdist_group("test_gh_attestation")

BUNDLE = "fixtures/attestations/cli/sigstore-js-2.1.0-bundle.json"
TRUSTED_ROOT = "fixtures/attestations/cli/trusted_root.json"
PACKAGE = "sigstore@2.1.0"
SIGNER_ORG, SIGNER_REPO = "sigstore", "sigstore-js"


@pytest.fixture(scope="module")
def bundle(shared_dir: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((shared_dir / BUNDLE).read_text())
    return document


@pytest.fixture(scope="module")
def artifact(bundle: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published npm tarball the bundle attests (its sha512 is the statement's subject)."""
    folder = tmp_path_factory.mktemp("artifact")
    subprocess.run(
        ["npm", "pack", PACKAGE, "--pack-destination", str(folder), "--prefer-offline", "--silent"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    (tarball,) = folder.glob("*.tgz")
    statement = json.loads(base64.b64decode(bundle["dsseEnvelope"]["payload"]))
    subject = statement["subject"][0]["digest"]["sha512"]
    assert _sha512(tarball) == subject, "the npm registry served a different sigstore-2.1.0.tgz"
    return tarball


@pytest.fixture(scope="module")
def stored(server: LiveServer, bundle: dict[str, Any]) -> LiveServer:
    """The bundle stored where it was made (sigstore/sigstore-js) and, falsely, in acme's impostor
    repository; and a sigstore repository without it."""
    admin, owner = server.world.admin_token, server.world.owner_token
    steps: list[tuple[str, dict[str, Any], str]] = [
        ("/admin/organizations", {"login": SIGNER_ORG, "admin": server.world.owner}, admin),
        (f"/orgs/{SIGNER_ORG}/repos", {"name": SIGNER_REPO}, owner),
        (f"/orgs/{SIGNER_ORG}/repos", {"name": "unattested"}, owner),
        (f"/orgs/{server.world.org}/repos", {"name": "impostor"}, owner),
        (f"/repos/{SIGNER_ORG}/{SIGNER_REPO}/attestations", {"bundle": bundle}, owner),
        (f"/repos/{server.world.org}/impostor/attestations", {"bundle": bundle}, owner),
    ]
    for path, body, token in steps:
        response = server.post(path, body, token)
        assert response.status_code == 201, response.text
    return server


def gh_attestation(
    server: LiveServer, home: Path, *args: str, proxy: str = ""
) -> subprocess.CompletedProcess[str]:
    """``gh attestation ARGS`` with github.localhost's API routed to ``server`` (or to ``proxy``)."""
    dropped = ("GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "NO_PROXY", "no_proxy", "http_proxy")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env |= {
        "HTTP_PROXY": proxy or server.url,
        "GH_HOST": "github.localhost",
        "GH_TOKEN": server.world.owner_token,
        "GH_CONFIG_DIR": str(home / "gh"),
        "GH_PROMPT_DISABLED": "1",
        "GH_NO_UPDATE_NOTIFIER": "1",
        "NO_COLOR": "1",
        # gh explains its verdict (the policy, what was loaded) only to a terminal.
        "GH_FORCE_TTY": "1",
    }
    return subprocess.run(
        [str(GH), "attestation", *args],
        env=env,
        cwd=home,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verify(
    server: LiveServer, home: Path, artifact: Path, shared_dir: Path, *scope: str
) -> subprocess.CompletedProcess[str]:
    return gh_attestation(
        server,
        home,
        "verify",
        str(artifact),
        "--digest-alg",
        "sha512",
        *scope,
        "--custom-trusted-root",
        str(shared_dir / TRUSTED_ROOT),
    )


def test_verify_by_repository(stored: LiveServer, artifact: Path, shared_dir: Path, tmp_path: Path) -> None:
    done = verify(stored, tmp_path, artifact, shared_dir, "--repo", f"{SIGNER_ORG}/{SIGNER_REPO}")
    assert done.returncode == 0, done.stderr
    assert "Loaded 1 attestation from GitHub API" in done.stderr
    assert "Verification succeeded" in done.stderr
    assert f"Build repo:..... {SIGNER_ORG}/{SIGNER_REPO}" in done.stderr


def test_verify_by_owner(stored: LiveServer, artifact: Path, shared_dir: Path, tmp_path: Path) -> None:
    done = verify(stored, tmp_path, artifact, shared_dir, "--owner", SIGNER_ORG)
    assert done.returncode == 0, done.stderr
    assert "Verification succeeded" in done.stderr


@pytest.mark.parametrize("scope", ["--repo", "--owner"])
def test_verify_fails_for_a_wrong_owner_or_repository(
    stored: LiveServer, artifact: Path, shared_dir: Path, tmp_path: Path, scope: str
) -> None:
    """acme/impostor holds the bundle, but its certificate names sigstore/sigstore-js."""
    wrong = f"{stored.world.org}/impostor" if scope == "--repo" else stored.world.org
    done = verify(stored, tmp_path, artifact, shared_dir, scope, wrong)
    assert done.returncode == 1
    assert "Loaded 1 attestation from GitHub API" in done.stderr
    assert f"Source Repository Owner URI must match:... https://github.com/{stored.world.org}" in done.stderr
    assert "Sigstore verification failed" in done.stderr


def test_verify_fails_where_nothing_is_attested(
    stored: LiveServer, artifact: Path, shared_dir: Path, tmp_path: Path
) -> None:
    done = verify(stored, tmp_path, artifact, shared_dir, "--repo", f"{SIGNER_ORG}/unattested")
    assert done.returncode == 1
    assert "no attestations found" in done.stderr.lower(), done.stderr


def test_download_then_verify_offline(
    stored: LiveServer, artifact: Path, bundle: dict[str, Any], shared_dir: Path, tmp_path: Path
) -> None:
    done = gh_attestation(
        stored,
        tmp_path,
        "download",
        str(artifact),
        "--digest-alg",
        "sha512",
        "--repo",
        f"{SIGNER_ORG}/{SIGNER_REPO}",
    )
    assert done.returncode == 0, done.stderr
    (saved,) = tmp_path.glob("sha512:*.jsonl")
    assert saved.name == f"sha512:{_sha512(artifact)}.jsonl"
    (line,) = saved.read_text().splitlines()
    assert json.loads(line) == bundle
    # The downloaded file alone verifies, with the API unreachable (port 9 refuses connections).
    offline = gh_attestation(
        stored,
        tmp_path,
        "verify",
        str(artifact),
        "--digest-alg",
        "sha512",
        "--repo",
        f"{SIGNER_ORG}/{SIGNER_REPO}",
        "--bundle",
        str(saved),
        "--custom-trusted-root",
        str(shared_dir / TRUSTED_ROOT),
        proxy="http://127.0.0.1:9",
    )
    assert offline.returncode == 0, offline.stderr


def _sha512(path: Path) -> str:
    return hashlib.sha512(path.read_bytes()).hexdigest()
