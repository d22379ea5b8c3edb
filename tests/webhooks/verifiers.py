"""Real receivers' checks of a delivery: @octokit/webhooks (Node) and githubkit (Python)."""

from __future__ import annotations

from typing import Any

from tests.clients.node import run_script
from tests.webhooks.receiver import Received


def octokit_verify(secret: str, deliveries: list[Received]) -> list[dict[str, Any]]:
    """For each delivery, whether @octokit/webhooks verifies its signature, and what it parsed."""
    items = [
        {
            "secret": secret,
            "event": d.headers["X-GitHub-Event"],
            "id": d.headers["X-GitHub-Delivery"],
            "body": d.body.decode(),
            "signature": d.headers["X-Hub-Signature-256"],
        }
        for d in deliveries
    ]
    result: list[dict[str, Any]] = run_script("verify-webhooks.mjs", items)  # type: ignore[arg-type]
    return result
