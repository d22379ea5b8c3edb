"""@actions/attest (the library behind actions/attest-build-provenance) pointed at Waybill through
``GITHUB_API_URL``, as in a workflow on a GitHub Enterprise Server."""

from __future__ import annotations

import os

import pytest

from tests.attestations.bundles import bundle_for, random_digest
from tests.clients.node import run_script
from tests.live import LiveServer


def _env(server: LiveServer, repository: str) -> dict[str, str]:
    return {
        **os.environ,
        "GITHUB_API_URL": server.api_v3,
        "GITHUB_REPOSITORY": repository,
        "INPUT_TOKEN": server.world.owner_token,
    }


@pytest.mark.usefixtures("js_clients")
def test_write_attestation(server: LiveServer) -> None:
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
def test_write_attestation_refused(server: LiveServer) -> None:
    """A bundle Waybill refuses reaches the caller as the library's error."""
    repository = f"{server.world.org}/{server.world.public_repo}"
    out = run_script("attest.mjs", {"action": "writeAttestation", "bundle": {}}, env=_env(server, repository))
    assert out["error"].startswith("Failed to persist attestation: Validation Failed"), out
