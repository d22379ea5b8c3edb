"""A CI job's OIDC token, verified by PyJWT against its issuer's signing keys.

Keys come from the issuer's JWKS: pinned by the operator (``--jwks-file``, nothing fetched), or found
through its discovery document (``ISSUER/.well-known/openid-configuration`` -> ``jwks_uri``) and
cached per process. A ``kid`` the cached set lacks means the issuer rotated its keys: the set is
fetched again, at most once per ``REFETCH_SECONDS`` for unknown ids, so that tokens naming made-up
``kid``s cannot make Waybill fetch on every request.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import jwt

from waybill.core.errors import Unauthenticated
from waybill.publishers.types import LEEWAY_SECONDS, Check, Issuer

CACHE_SECONDS = 600.0
REFETCH_SECONDS = 5.0
FETCH_TIMEOUT_SECONDS = 5.0
# Asymmetric algorithms only: "none" and the HMAC family would let anyone sign.
ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384")
REQUIRED_CLAIMS = ("iss", "aud", "exp", "iat", "jti")
_CLAIM_CHECKS = {
    "iss": Check.ISSUER,
    "aud": Check.AUDIENCE,
    "exp": Check.EXPIRATION,
    "iat": Check.ISSUED_AT,
    "jti": Check.JTI,
}


class TokenRefused(Unauthenticated):
    """A token that fails a check on itself; the message names the check."""

    def __init__(self, check: Check, detail: str) -> None:
        super().__init__(f"OIDC token refused ({check.value}): {detail}")
        self.check = check


def unverified_issuer(raw: str) -> str:
    try:
        claims = jwt.decode(raw, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise TokenRefused(Check.FORMAT, "not a signed JWT") from None
    iss = claims.get("iss")
    if not isinstance(iss, str) or not iss:
        raise TokenRefused(Check.ISSUER, "the iss claim is missing")
    return iss


def check_issuer_url(url: str) -> None:
    """Issuers are HTTPS URLs (plain HTTP only on this machine, for tests and local issuers)."""
    parts = urlsplit(url)
    local = parts.hostname in ("localhost", "127.0.0.1", "::1")
    if not parts.hostname or parts.scheme not in ("https", "http") or (parts.scheme == "http" and not local):
        raise ValueError(f"issuer must be an https:// URL: {url}")


@dataclass
class _Entry:
    keys: dict[str, jwt.PyJWK]
    fetched_at: float
    refetched_for_unknown_at: float = 0.0


@dataclass
class KeyCache:
    """Issuers' fetched signing keys, per process."""

    entries: dict[str, _Entry] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    async def key(self, issuer: Issuer, kid: str | None) -> jwt.PyJWK:
        if issuer.jwks is not None:
            return _pick(_keys(issuer.jwks), kid)
        now = time.monotonic()
        entry = self.entries.get(issuer.url)
        if entry is None or now - entry.fetched_at >= CACHE_SECONDS:
            entry = await self._fetch(issuer.url)
        elif (
            kid is not None
            and kid not in entry.keys
            and now - entry.refetched_for_unknown_at >= REFETCH_SECONDS
        ):
            entry = await self._fetch(issuer.url)
            entry.refetched_for_unknown_at = now
        return _pick(entry.keys, kid)

    async def _fetch(self, url: str) -> _Entry:
        lock = self.locks.setdefault(url, asyncio.Lock())
        async with lock:
            try:
                async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_SECONDS, follow_redirects=True) as client:
                    discovery = await client.get(url.rstrip("/") + "/.well-known/openid-configuration")
                    discovery.raise_for_status()
                    jwks = await client.get(discovery.json()["jwks_uri"])
                    jwks.raise_for_status()
                    keys = _keys(jwks.json())
            except (httpx.HTTPError, ValueError, KeyError, TypeError):
                raise TokenRefused(
                    Check.SIGNATURE, "the issuer's signing keys could not be fetched"
                ) from None
            entry = _Entry(keys, time.monotonic())
            self.entries[url] = entry
            return entry


def _keys(document: Any) -> dict[str, jwt.PyJWK]:
    """The usable signing keys of a JWKS document, by ``kid`` ("" for a key without one)."""
    found: dict[str, jwt.PyJWK] = {}
    for data in (document or {}).get("keys", []):
        try:
            key = jwt.PyJWK(data)
        except jwt.PyJWTError:
            continue  # A key of a kind PyJWT cannot use is skipped, not fatal to the others.
        if data.get("use", "sig") == "sig":
            found[str(data.get("kid", ""))] = key
    return found


def parse_jwks(document: Any) -> dict[str, Any]:
    """A pinned JWKS, checked to hold at least one usable signing key."""
    if not isinstance(document, dict) or not _keys(document):
        raise ValueError("the JWKS holds no usable signing key")
    return document


def _pick(keys: dict[str, jwt.PyJWK], kid: str | None) -> jwt.PyJWK:
    if kid is not None and kid in keys:
        return keys[kid]
    if kid is None and len(keys) == 1:
        return next(iter(keys.values()))
    raise TokenRefused(Check.SIGNATURE, "no signing key of the issuer has the token's kid")


async def verify(raw: str, issuer: Issuer, audience: str, cache: KeyCache) -> dict[str, Any]:
    """The token's verified claims; ``TokenRefused`` naming the first check that fails."""
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError:
        raise TokenRefused(Check.FORMAT, "not a signed JWT") from None
    algorithm = header.get("alg")
    if algorithm not in ALGORITHMS:
        raise TokenRefused(Check.SIGNATURE, f"algorithm {algorithm!r} is not accepted")
    kid = header.get("kid")
    key = await cache.key(issuer, kid if isinstance(kid, str) else None)
    try:
        claims: dict[str, Any] = jwt.decode(
            raw,
            key,
            algorithms=[algorithm],
            audience=audience,
            issuer=issuer.url,
            leeway=LEEWAY_SECONDS,
            options={"require": list(REQUIRED_CLAIMS)},
        )
    except jwt.InvalidSignatureError:
        raise TokenRefused(
            Check.SIGNATURE, "the signature does not verify against the issuer's keys"
        ) from None
    except jwt.ExpiredSignatureError:
        raise TokenRefused(Check.EXPIRATION, "the token has expired") from None
    except jwt.ImmatureSignatureError as exc:
        check = Check.ISSUED_AT if "iat" in str(exc) else Check.NOT_BEFORE
        raise TokenRefused(check, "the token is not valid yet") from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(Check.AUDIENCE, f"the audience (aud) must be {audience}") from None
    except jwt.InvalidIssuerError:
        raise TokenRefused(Check.ISSUER, "the issuer (iss) is not the trusted one") from None
    except jwt.MissingRequiredClaimError as exc:
        check = _CLAIM_CHECKS.get(exc.claim, Check.FORMAT)
        raise TokenRefused(check, f"the {exc.claim} claim is missing") from None
    except jwt.InvalidIssuedAtError:
        raise TokenRefused(Check.ISSUED_AT, "the iat claim is not a time") from None
    except jwt.PyJWTError:
        raise TokenRefused(Check.SIGNATURE, "the token could not be verified") from None
    if not isinstance(claims.get("jti"), str) or not claims["jti"]:
        raise TokenRefused(Check.JTI, "the jti claim must be a non-empty string")
    return claims
