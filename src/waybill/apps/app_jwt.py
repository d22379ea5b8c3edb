"""The JWT an app signs to act as itself (``Authorization: Bearer <JWT>``), verified by PyJWT.

GitHub's rules: RS256; ``iss`` the app's id or its client id; ``iat`` and ``exp`` present, ``exp`` at
most ten minutes ahead; a minute of clock drift tolerated (clients back-date ``iat`` by up to 60 s).
Each failure answers 401 with a message naming the claim, as GitHub's do.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from waybill.apps.keys import loaded
from waybill.apps.types import JWT_DRIFT_SECONDS, JWT_MAX_LIFETIME_SECONDS
from waybill.core.errors import Unauthenticated

UNDECODABLE = "A JSON web token could not be decoded"
EXP_INVALID = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
    "the assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
IAT_INVALID = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)
ISS_INVALID = "'Issuer' claim ('iss') must be the app's id or client id"


def looks_like_jwt(raw: str) -> bool:
    return raw.count(".") == 2 and raw.startswith("eyJ")


def issuer(raw: str) -> str:
    """The unverified ``iss``, only to find which app's key verifies the token."""
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise Unauthenticated(UNDECODABLE) from None
    iss = claims.get("iss")
    if isinstance(iss, bool) or not isinstance(iss, int | str) or str(iss) == "":
        raise Unauthenticated(ISS_INVALID)
    return str(iss)


def verify(raw: str, public_key_pem: str) -> dict[str, Any]:
    """The verified claims, or 401 naming what failed."""
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            loaded(public_key_pem),
            algorithms=["RS256"],
            leeway=JWT_DRIFT_SECONDS,
            options={"require": ["iat", "exp", "iss"], "verify_aud": False},
        )
    except (jwt.ExpiredSignatureError, jwt.MissingRequiredClaimError) as exc:
        claim = getattr(exc, "claim", "exp")
        raise Unauthenticated(IAT_INVALID if claim == "iat" else EXP_INVALID) from None
    except (jwt.ImmatureSignatureError, jwt.InvalidIssuedAtError):
        raise Unauthenticated(IAT_INVALID) from None
    except jwt.PyJWTError:
        raise Unauthenticated(UNDECODABLE) from None
    if claims["exp"] > time.time() + JWT_MAX_LIFETIME_SECONDS + JWT_DRIFT_SECONDS:
        raise Unauthenticated(EXP_TOO_FAR)
    return claims
