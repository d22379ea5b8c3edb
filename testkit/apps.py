"""A GitHub App's credentials, as an App's own code holds and uses them."""

from __future__ import annotations

import json
import time

import jwt

from waybill.apps import keys


def app_private_key() -> str:
    private, _ = keys.generate()
    return private


def app_jwt(app_id: int, private_key: str, lifetime: int = 600) -> str:
    now = int(time.time())
    claims = {"iat": now - 60, "exp": now + lifetime, "iss": app_id}
    # Signed as JWS over the JSON itself: Octokit sends a numeric ``iss``, which ``jwt.encode`` refuses.
    return jwt.api_jws.encode(json.dumps(claims).encode(), private_key, algorithm="RS256")
