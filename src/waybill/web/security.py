"""Sessions, CSRF tokens and the headers every page carries.

A session is the viewer's token sealed (AES-GCM, under a key derived from the server's signing key)
in an HTTP-only, SameSite=Lax cookie. Nothing is kept on the server, so every worker and host reads
it, and each request still authenticates the token itself: revoking or expiring the token ends every
session at once. The seal carries its own expiry and a random session id that CSRF tokens are bound to.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from litestar.datastructures import Cookie

from waybill.core.errors import Forbidden
from waybill.core.signing import Signer
from waybill.http.context import AnyRequest, settings, signer

SESSION_COOKIE = "waybill_session"
# Before sign-in there is no session to bind a CSRF token to: this random value stands in for it.
PRESESSION_COOKIE = "waybill_presession"
COOKIE_PATH = "/ui"
SESSION_SECONDS = 8 * 3600
_SEAL_CONTEXT = b"waybill-ui-session-v1"
_CSRF_PURPOSE = "ui-csrf"

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


class _Sealed(msgspec.Struct, forbid_unknown_fields=True):
    token: str
    sid: str
    expires: int


@dataclass(frozen=True)
class Session:
    token: str
    sid: str


def _aead(request: AnyRequest) -> AESGCM:
    return AESGCM(signer(request).derive("ui-session"))


def seal(request: AnyRequest, token: str) -> tuple[str, Session]:
    session = Session(token=token, sid=secrets.token_hex(16))
    payload = msgspec.json.encode(_Sealed(token, session.sid, int(time.time()) + SESSION_SECONDS))
    nonce = secrets.token_bytes(12)
    sealed = nonce + _aead(request).encrypt(nonce, payload, _SEAL_CONTEXT)
    return base64.urlsafe_b64encode(sealed).decode().rstrip("="), session


def unseal(request: AnyRequest) -> Session | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    try:
        sealed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        payload = _aead(request).decrypt(sealed[:12], sealed[12:], _SEAL_CONTEXT)
        value = msgspec.json.decode(payload, type=_Sealed)
    except (binascii.Error, ValueError, InvalidTag, msgspec.DecodeError):
        return None
    if value.expires < time.time():
        return None
    return Session(token=value.token, sid=value.sid)


def is_https(request: AnyRequest) -> bool:
    return request.url.scheme == "https" or settings(request).public_url.startswith("https://")


def cookie(request: AnyRequest, name: str, value: str, *, max_age: int) -> Cookie:
    return Cookie(
        key=name,
        value=value,
        path=COOKIE_PATH,
        max_age=max_age,
        httponly=True,
        secure=is_https(request),
        samesite="lax",
    )


def expired_cookie(request: AnyRequest, name: str) -> Cookie:
    return cookie(request, name, "", max_age=0)


def csrf_token(sign: Signer, binding: str) -> str:
    values = sign.sign(_CSRF_PURPOSE, binding, SESSION_SECONDS)
    return f"{values['expires']}.{values['signature']}"


def csrf_valid(sign: Signer, binding: str | None, token: str | None) -> bool:
    if not binding or not token:
        return False
    expires, _, signature = token.partition(".")
    return sign.check(_CSRF_PURPOSE, binding, expires, signature)


def new_binding() -> str:
    return secrets.token_hex(16)


class CsrfRejected(Forbidden):
    message = (
        "The form was not accepted (its CSRF token is missing, invalid or expired). "
        "Reload the page and try again."
    )
