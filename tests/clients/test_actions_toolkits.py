"""GitHub's Actions libraries pointed at Waybill through ``GITHUB_API_URL``, as in a workflow on a
GitHub Enterprise Server: @actions/attest (the library behind actions/attest-build-provenance) and
@github/dependency-submission-toolkit."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from tests.attestations.bundles import bundle_for, random_digest
from tests.clients.node import run_script
from tests.contract.description import JS_DIR
from tests.live import LiveServer

# One worker runs the whole module, so each backend's server starts once (make test uses --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_actions_toolkits")


def _env(server: LiveServer, repository: str, tmp_path: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "ACTIONS_"))}
    env |= {
        "GITHUB_API_URL": server.api_v3,
        "GITHUB_REPOSITORY": repository,
        "GITHUB_SHA": "c" * 40,
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_JOB": "build",
        "GITHUB_RUN_ID": "42",
        "GITHUB_EVENT_NAME": "push",
        "INPUT_TOKEN": server.world.owner_token,
    }
    if tmp_path is not None:
        (tmp_path / "output").touch()
        env["GITHUB_OUTPUT"] = str(tmp_path / "output")
    return env


@pytest.mark.usefixtures("js_clients")
def test_attest_write_attestation(server: LiveServer) -> None:
    """``repos/create-attestation``: the write step of ``attest()``."""
    digest = random_digest()
    repository = f"{server.world.org}/{server.world.public_repo}"
    out = run_script(
        "attest.mjs",
        {"action": "writeAttestation", "bundle": bundle_for([digest])},
        env=_env(server, repository),
    )
    assert "error" not in out, out
    assert isinstance(out["result"], int)
    listed = server.get(f"/repos/{repository}/attestations/{digest}").json()["attestations"]
    assert [a["bundle_url"].rsplit("/", 2)[-2] for a in listed] == [str(out["result"])]


@pytest.mark.usefixtures("js_clients")
def test_attest_write_attestation_refused(server: LiveServer) -> None:
    repository = f"{server.world.org}/{server.world.public_repo}"
    out = run_script("attest.mjs", {"action": "writeAttestation", "bundle": {}}, env=_env(server, repository))
    assert out["error"].startswith("Failed to persist attestation: Validation Failed"), out


@pytest.mark.usefixtures("js_clients")
def test_attest_create_storage_record(server: LiveServer) -> None:
    """``orgs/create-artifact-storage-record`` through ``createStorageRecord``, after the artifact's
    provenance attestation, as in a workflow (the record takes its repository from the provenance)."""
    digest = "sha256:" + hashlib.sha256(b"toolkit-storage").hexdigest()
    repository = f"{server.world.org}/{server.world.public_repo}"
    server.attest(repository, [digest])
    out = run_script(
        "attest.mjs",
        {
            "action": "createStorageRecord",
            "artifact": {"name": "web-image", "digest": digest, "version": "1.0.0"},
            "registry": {
                "registryUrl": "https://registry.example.com",
                "artifactUrl": "https://registry.example.com/acme/web-image",
                "repo": "acme/web-image",
            },
        },
        env=_env(server, repository),
    )
    assert "error" not in out, out
    listed = server.get(f"/orgs/{server.world.org}/artifacts/{digest}/metadata/storage-records").json()
    assert [r["id"] for r in listed["storage_records"]] == out["result"]


@pytest.mark.usefixtures("js_clients")
def test_dependency_submission_toolkit(server: LiveServer, tmp_path: Path) -> None:
    """``dependency-graph/create-repository-snapshot`` through ``submitSnapshot``."""
    repository = f"{server.world.org}/{server.world.public_repo}"
    done = subprocess.run(
        ["node", str(JS_DIR / "submit.mjs")],
        input='{"manifest": "package-lock.json", "packages": ["pkg:npm/left-pad@1.3.0"]}',
        capture_output=True,
        text=True,
        cwd=JS_DIR,
        env=_env(server, repository, tmp_path),
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::notice::Snapshot successfully created at " in done.stdout, done.stdout
    sbom = server.get(f"/repos/{repository}/dependency-graph/sbom").json()["sbom"]
    assert "left-pad" in {p["name"] for p in sbom["packages"]}
