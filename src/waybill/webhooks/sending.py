"""One attempt to deliver an event: the body as the hook's content type has it, GitHub's headers and
signatures, and a POST that refuses private destinations and never follows a redirect."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import socket
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx

from waybill.webhooks.types import ContentType, Delivery, Hook, Outcome

USER_AGENT = "GitHub-Hookshot/waybill"
TIMEOUT_SECONDS = 10.0
# What a delivery keeps of a response body (GitHub keeps a few kilobytes too).
BODY_LIMIT = 8 * 1024


def body_of(hook: Hook, payload: dict[str, Any]) -> tuple[bytes, str]:
    """The bytes sent and their media type: JSON, or a form whose ``payload`` field is the JSON."""
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    if hook.content_type is ContentType.FORM:
        return urlencode({"payload": text}).encode(), "application/x-www-form-urlencoded"
    return text.encode(), "application/json"


def signatures(secret: str, body: bytes) -> dict[str, str]:
    """``X-Hub-Signature-256`` and the SHA-1 ``X-Hub-Signature`` GitHub still sends beside it."""
    key = secret.encode()
    return {
        "X-Hub-Signature": "sha1=" + hmac.new(key, body, hashlib.sha1).hexdigest(),
        "X-Hub-Signature-256": "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest(),
    }


def headers_for(hook: Hook, delivery: Delivery, body: bytes, media_type: str) -> dict[str, str]:
    headers = {
        "Accept": "*/*",
        "Content-Type": media_type,
        "User-Agent": USER_AGENT,
        "X-GitHub-Delivery": delivery.guid,
        "X-GitHub-Event": delivery.event,
        "X-GitHub-Hook-ID": str(hook.id),
        "X-GitHub-Hook-Installation-Target-ID": str(hook.target_id),
        "X-GitHub-Hook-Installation-Target-Type": hook.target_type,
    }
    if hook.secret:
        headers.update(signatures(hook.secret, body))
    return headers


def _refused_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


def destination_problem(url: str, allow_private: bool) -> str | None:
    """Why a hook may not point at ``url`` (None: it may). Names that resolve to private addresses
    are caught again at each delivery, when they are resolved."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 (raises on a port out of range)
    except ValueError:
        return "url is not a valid URL"
    if parts.scheme not in ("http", "https") or not host:
        return "url must be an http or https URL with a host"
    if allow_private:
        return None
    if host == "localhost" or host.endswith(".localhost"):
        return "url must not point to a loopback, link-local or private address"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if _refused_address(address):
        return "url must not point to a loopback, link-local or private address"
    return None


async def _pinned(host: str, port: int, allow_private: bool) -> str | None:
    """The address to connect to for ``host``, resolved once: the connection goes to the address
    that was checked, so a name cannot pass with a public address and then be reached at a private
    one (DNS rebinding). An address literal is itself; a name any of whose addresses may not be
    reached raises ``_Refused``; None when the name does not resolve."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError:
        return None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not allow_private and any(_refused_address(a) for a in addresses):
        raise _Refused()
    return str(addresses[0]) if addresses else None


class _Refused(Exception):
    pass


async def attempt(
    client: httpx.AsyncClient, hook: Hook, delivery: Delivery, *, allow_private: bool
) -> Outcome:
    body, media_type = body_of(hook, delivery.payload)
    headers = headers_for(hook, delivery, body, media_type)
    started = time.monotonic()

    def failed(status: str, *, retryable: bool) -> Outcome:
        return Outcome(status, 0, time.monotonic() - started, headers, None, None, retryable)

    problem = destination_problem(hook.url, allow_private)
    if problem is not None:
        return failed(f"refused: {problem}", retryable=False)
    url = httpx.URL(hook.url)
    try:
        address = await _pinned(url.host, url.port or (443 if url.scheme == "https" else 80), allow_private)
    except _Refused:
        return failed("refused: url resolves to a loopback, link-local or private address", retryable=False)
    if address is None:
        return failed("failed to connect", retryable=True)
    try:
        # To the address checked, naming the host: in the Host header, and to TLS (the name the
        # certificate must carry).
        response = await client.post(
            url.copy_with(host=address),
            content=body,
            headers={**headers, "Host": url.netloc.decode("ascii")},
            timeout=TIMEOUT_SECONDS,
            follow_redirects=False,
            extensions={"sni_hostname": url.host} if url.scheme == "https" else {},
        )
    except httpx.TimeoutException:
        return failed("timed out", retryable=True)
    except httpx.TransportError:
        return failed("failed to connect", retryable=True)
    duration = time.monotonic() - started
    code = response.status_code
    text = response.content[:BODY_LIMIT].decode("utf-8", errors="replace")
    status = "OK" if 200 <= code < 300 else f"Invalid HTTP Response: {code}"
    return Outcome(
        status, code, duration, headers, dict(response.headers), text, retryable=code >= 500 or code == 429
    )


def client(verify: bool) -> httpx.AsyncClient:
    """Hooks with ``insecure_ssl`` "1" get a client that does not verify certificates."""
    return httpx.AsyncClient(verify=verify, follow_redirects=False, trust_env=False)
