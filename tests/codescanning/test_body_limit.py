"""The upload route's own body limit: the base64 of a 10 MB gzipped file, whatever
WAYBILL_MAX_BODY_BYTES says for the other routes."""

from __future__ import annotations

import os
from dataclasses import replace

from testkit import sarifs

from tests.harness import running
from waybill.codescanning.routes import UPLOAD_BODY_BYTES
from waybill.config import Settings


def _incompressible(size: int) -> dict[str, object]:
    """A valid SARIF document whose messages are random hex, so that it gzips to about half ``size``."""
    results = [
        sarifs.result("r", "x.py", i + 1, message=os.urandom(5000).hex()) for i in range(size // 10_000)
    ]
    return sarifs.document(sarifs.run(results))


async def test_uploads_pass_a_smaller_global_limit(settings: Settings, backend: str) -> None:
    async with running(replace(settings, max_body_bytes=64 * 1024), backend) as api:
        await api.user("alice")
        await api.repo("alice/web")
        token = await api.token("alice")
        body = sarifs.upload(_incompressible(4 * 1024 * 1024))
        r = await api.post("/repos/alice/web/code-scanning/sarifs", token=token, json=body)
        assert r.status_code == 202, r.text[:300]
        # Other routes keep the global limit.
        r = await api.post(
            "/repos/alice/web/dependency-graph/snapshots", token=token, content=b" " * (128 * 1024)
        )
        assert r.status_code == 413
        # Past the upload's own limit: 413 from the announced length, before the body is read.
        r = await api.post(
            "/repos/alice/web/code-scanning/sarifs", token=token, content=b" " * (UPLOAD_BODY_BYTES + 1)
        )
        assert r.status_code == 413
