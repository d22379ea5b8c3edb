"""Clients as the server sees them: which address a request comes from (behind trusted reverse
proxies), how long a client may take to send its request, and how many connections one address may
hold at once.

uvicorn bounds only the idle keep-alive wait. The rest is here, in two parts:

- ``Protocol``, uvicorn's HTTP protocol with a deadline for the request line and headers (which also
  closes connections that never send a byte), the per-address count of connections, and a stop
  that answers a request whose bytes had arrived before the server was told to stop;
- ``ClientLayer``, the outermost ASGI layer: ``X-Forwarded-*`` from trusted proxies, a deadline on
  each read of the request body (a stalled body answers 408 and the connection closes), and, for
  requests relayed by a proxy, the per-address count applied to the address it forwards.

Counts are kept per worker process: with ``serve --workers N`` one address may hold up to N times the
limit, as the kernel spreads its connections over the workers."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from waybill.config import Settings
from waybill.http.responses import JSON_MEDIA_TYPE, error_body

log = logging.getLogger("waybill.http")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# A forwarded host as a Host header may carry it: a name or IPv4 address, or a bracketed IPv6
# address, with an optional port. Anything else (paths, credentials, spaces) is ignored.
_HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


class TrustedProxies:
    """Proxy addresses and networks (``10.0.0.0/8``, ``127.0.0.1``, ``::1``) whose ``X-Forwarded-*``
    headers are believed; every other peer's are ignored."""

    def __init__(self, spec: str) -> None:
        self.networks = [
            ipaddress.ip_network(item.strip(), strict=False) for item in spec.split(",") if item.strip()
        ]

    def __bool__(self) -> bool:
        return bool(self.networks)

    def __contains__(self, host: object) -> bool:
        if not self.networks or not isinstance(host, str):
            return False
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self.networks)

    def client(self, chain: str) -> str | None:
        """The client's address in an ``X-Forwarded-For`` chain: from the right (the proxy nearest
        this server), the first address that is not a trusted proxy; proxies append, so everything
        left of it may have been written by the client and is not believed."""
        hops = [hop.strip() for hop in chain.split(",") if hop.strip()]
        for hop in reversed(hops):
            host = _bare_address(hop)
            if host is None:
                return None
            if host not in self:
                return host
        return _bare_address(hops[0]) if hops else None


def _bare_address(hop: str) -> str | None:
    """An IP address from a hop (``1.2.3.4``, ``1.2.3.4:5678``, ``[::1]:80``), or None."""
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else ""
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return str(ipaddress.ip_address(hop))
    except ValueError:
        return None


class AddressCounts:
    """Connections (or relayed requests) each client address holds in this process."""

    def __init__(self) -> None:
        self.held: dict[str, int] = {}

    def acquire(self, address: str, limit: int) -> bool:
        held = self.held.get(address, 0)
        if limit and held >= limit:
            return False
        self.held[address] = held + 1
        return True

    def release(self, address: str) -> None:
        held = self.held.get(address, 0) - 1
        if held > 0:
            self.held[address] = held
        else:
            self.held.pop(address, None)


# One per worker process: the protocol counts connections in it, the ASGI layer relayed requests.
COUNTS = AddressCounts()
TOO_MANY_CONNECTIONS = "Too many connections from this address"


def _response(
    status: int, message: str, extra: tuple[tuple[bytes, bytes], ...] = ()
) -> tuple[Message, Message]:
    payload = msgspec.json.encode(error_body(message, status))
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", JSON_MEDIA_TYPE.encode()),
            (b"content-length", str(len(payload)).encode()),
            (b"connection", b"close"),
            *extra,
        ],
    }
    return start, {"type": "http.response.body", "body": payload}


async def _refuse_too_many(scope: Scope, receive: Receive, send: Send) -> None:
    start, body = _response(429, TOO_MANY_CONNECTIONS, ((b"retry-after", b"1"),))
    await send(start)
    await send(body)


def _raw_408() -> bytes:
    """A 408 written straight to a connection whose request never reached the application."""
    start, body = _response(408, "Request Timeout")
    head = b"".join(name + b": " + value + b"\r\n" for name, value in start["headers"])
    payload: bytes = body["body"]
    return b"HTTP/1.1 408 Request Timeout\r\n" + head + b"\r\n" + payload


# A connection idle when the server is told to stop is closed once it has had this long to show a
# request already on its way: bytes the kernel holds unread, or headers half received, are a request
# the client has sent, and closing at once would drop it unanswered.
STOP_LOOK_SECONDS = 0.25


class Protocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's line and headers and a
    limit on the connections one address holds. ``serve`` names it as uvicorn's ``http`` class; it
    reads its settings from the environment, as the application does."""

    # Read once per process, on its first connection.
    shared: tuple[Settings, TrustedProxies] | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if Protocol.shared is None:
            settings = Settings.from_env()
            Protocol.shared = (settings, TrustedProxies(settings.trusted_proxies))
        settings, self.proxies = Protocol.shared
        self.header_timeout = settings.header_timeout
        self.timeout_keep_alive = settings.keepalive_timeout  # type: ignore[assignment]
        self.per_address = settings.max_connections_per_address
        self.counted: str | None = None
        self.header_deadline: asyncio.TimerHandle | None = None
        self.request_begun = False
        self.stopping = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else None
        # A trusted proxy carries many clients' requests: those are counted by the address it
        # forwards (``ClientLayer``), not the proxy's own.
        if address is not None and self.per_address and address not in self.proxies:
            if COUNTS.acquire(address, self.per_address):
                self.counted = address
            else:
                # Answered once its request arrives (a response before it would be lost in a reset).
                self.app = _refuse_too_many
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        if self.counted is not None:
            COUNTS.release(self.counted)
            self.counted = None
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self.request_begun = True
        if self.header_deadline is None:
            self._arm_header_deadline()

    def on_headers_complete(self) -> None:
        self._cancel_header_deadline()
        self.request_begun = False
        super().on_headers_complete()
        if self.stopping and self.cycle is not None:
            # Answered, then closed: a stopping server serves no further request on it.
            self.cycle.keep_alive = False

    def shutdown(self) -> None:
        self.stopping = True
        if self.cycle is not None and not self.cycle.response_complete:
            super().shutdown()
        else:
            self.loop.call_later(STOP_LOOK_SECONDS, self._close_if_still_idle)

    def _close_if_still_idle(self) -> None:
        idle = self.cycle is None or self.cycle.response_complete
        if idle and not self.request_begun and not self.transport.is_closing():
            self.transport.close()

    def _arm_header_deadline(self) -> None:
        if self.header_timeout > 0:
            self.header_deadline = self.loop.call_later(self.header_timeout, self._header_deadline_passed)

    def _cancel_header_deadline(self) -> None:
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None

    def _header_deadline_passed(self) -> None:
        self.header_deadline = None
        if self.transport.is_closing():
            return
        # A request was begun and not finished: say so. A connection that sent nothing is closed.
        if self.request_begun:
            self.transport.write(_raw_408())
        self.transport.close()


class ClientLayer:
    """The ASGI layer nearest the server: see the module's description."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.body_timeout = settings.body_timeout
        self.per_address = settings.max_connections_per_address
        self.proxies = TrustedProxies(settings.trusted_proxies)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        relayed = None
        client = scope.get("client")
        if self.proxies and client and client[0] in self.proxies:
            scope = self._forwarded(scope)
            relayed = scope["client"][0] if scope["client"] is not client else None
        if relayed is not None and self.per_address:
            if not COUNTS.acquire(relayed, self.per_address):
                await _refuse_too_many(scope, receive, send)
                return
            try:
                await self._timed(scope, receive, send)
            finally:
                COUNTS.release(relayed)
            return
        await self._timed(scope, receive, send)

    def _forwarded(self, scope: Scope) -> Scope:
        chain: list[bytes] = []
        proto = host = None
        for name, value in scope["headers"]:
            if name == b"x-forwarded-for":
                chain.append(value)
            elif name == b"x-forwarded-proto":
                proto = value
            elif name == b"x-forwarded-host":
                host = value
        if not chain and proto is None and host is None:
            return scope
        scope = dict(scope)
        if chain:
            address = self.proxies.client(b",".join(chain).decode("latin-1"))
            if address is not None:
                scope["client"] = (address, 0)
        # Several proxies may each append: the last value is the one the nearest (trusted) proxy set.
        if proto is not None:
            scheme = proto.decode("latin-1").rsplit(",", 1)[-1].strip().lower()
            if scheme in ("http", "https"):
                scope["scheme"] = scheme
        if host is not None:
            forwarded = host.decode("latin-1").rsplit(",", 1)[-1].strip()
            if _HOST.match(forwarded):
                headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
                scope["headers"] = [*headers, (b"host", forwarded.encode("latin-1"))]
        return scope

    async def _timed(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.body_timeout <= 0:
            await self.app(scope, receive, send)
            return
        body = _BodyDeadline(receive, send, self.body_timeout)
        await self.app(scope, body.receive, body.send)


class _BodyDeadline:
    """Each read of the body must bring its bytes within ``seconds``; else the request is answered
    408 with ``Connection: close`` and the application hears that the client went away."""

    __slots__ = ("_receive", "_send", "answered", "seconds", "started", "timed_out")

    def __init__(self, receive: Receive, send: Send, seconds: float) -> None:
        self._receive = receive
        self._send = send
        self.seconds = seconds
        self.started = False
        self.timed_out = False
        self.answered = False

    async def receive(self) -> Message:
        if self.timed_out:
            return {"type": "http.disconnect"}
        try:
            async with asyncio.timeout(self.seconds):
                return await self._receive()
        except TimeoutError:
            self.timed_out = True
            log.info("request body stalled for %g s: answered 408", self.seconds)
            if not self.started:
                self.started = self.answered = True
                start, body = _response(408, "Request Timeout")
                await self._send(start)
                await self._send(body)
            return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.answered:
            return  # the 408 went in its place
        if message["type"] == "http.response.start":
            self.started = True
        await self._send(message)
